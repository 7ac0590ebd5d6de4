from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Response

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.documents import service as documents_service
from zhijiao.documents.schemas import DocumentRead, DocumentRerendered
from zhijiao.subjects import service as subjects_service

router = APIRouter(tags=["documents"])


@router.get("/subjects/{subject_id}/documents", response_model=list[DocumentRead], summary="对象的文书")
def list_documents(db_session: ScopedDb, subject_id: IdPath) -> list[DocumentRead]:
    subjects_service.get(db_session=db_session, subject_id=subject_id)
    return [DocumentRead.model_validate(d)
            for d in documents_service.list_for_subject(db_session=db_session, subject_id=subject_id)]


@router.get("/documents/{document_id}", summary="下载文书 PDF（将被审计）",
            responses={200: {"content": {"application/pdf": {}}, "description": "PDF"}})
def download_document(db_session: ScopedDb, document_id: IdPath) -> Response:
    document, content = documents_service.read_pdf(db_session=db_session, document_id=document_id)
    name = quote(f"{document.number}{document.title}.pdf")
    return Response(content, media_type="application/pdf", headers={
        "Content-Disposition": f"inline; filename=\"{documents_service.filename(document)}\"; filename*=UTF-8''{name}",
        "X-Content-SHA256": document.sha256,
    })


@router.post("/documents/{document_id}/rerender", response_model=DocumentRerendered,
             summary="按原文号重新生成文书（将被审计）")
def rerender_document(db_session: ScopedDb, document_id: IdPath) -> DocumentRerendered:
    document, old_sha256 = documents_service.rerender(db_session=db_session, document_id=document_id)
    db_session.commit()
    return DocumentRerendered.model_validate(
        {**DocumentRead.model_validate(document).model_dump(), "old_sha256": old_sha256,
         "changed": old_sha256 != document.sha256})
