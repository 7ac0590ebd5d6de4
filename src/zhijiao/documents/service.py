"""Generated documents: numbering, rendering, storage, download and the archive package.

Numbers come from ``document_counters``, one row per (bureau, prefix, year), bumped with
``UPDATE … RETURNING`` inside the transaction that stores the document: PostgreSQL holds the
row lock and SQLite the write lock until commit, so two documents never share a number and a
rolled-back event gives its number back (no gaps from failures).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, InvalidInput, NotFound
from zhijiao.documents import render
from zhijiao.documents.models import Document, DocumentCounter
from zhijiao.org.models import Bureau
from zhijiao.security import audit
from zhijiao.security.actor import get_actor
from zhijiao.security.permissions import Perm, require
from zhijiao.subjects.models import Subject

try:
    import pypdf
except ImportError:  # optional: the catalogue then leaves the page column empty
    pypdf = None

# Context keys the renderer asks for, in Chinese, for the message when one is missing.
_KEY_LABELS = {
    "correction_start": "矫正起始日期", "correction_end": "矫正结束日期", "judgment_date": "判决生效日期",
    "id_number": "身份证号码", "crime": "罪名", "sentence": "刑罚", "deciding_organ": "决定机关",
    "office": "司法所", "destination": "外出目的地", "reason": "事由", "leave_start": "外出日期",
    "leave_end": "返回日期", "procuratorate": "人民检察院",
}


def _page_count(pdf: bytes) -> int | None:
    if pypdf is None:
        return None
    try:
        return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    except Exception:  # noqa: BLE001 - a count is a nicety, never a failure
        return None


def bureau_of(db_session: Session, subject: Subject) -> Bureau:
    bureau = db_session.get(Bureau, subject.office.bureau_id)
    if bureau is None:  # pragma: no cover - offices always belong to a bureau
        raise NotFound("区司法局不存在", code="bureau_not_found")
    return bureau


def allocate_number(db_session: Session, *, bureau_id: int, prefix: str, year: int) -> int:
    """The next number of the series, in the caller's transaction (see module doc)."""
    conn = db_session.connection()
    dialect = conn.dialect.name
    values = dict(bureau_id=bureau_id, prefix=prefix, year=year, last_seq=0)
    if dialect == "postgresql":
        stmt = postgresql.insert(DocumentCounter).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(DocumentCounter).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - the two supported databases
        stmt = insert(DocumentCounter).values(**values)
    conn.execute(stmt)
    return conn.execute(
        update(DocumentCounter)
        .where(DocumentCounter.bureau_id == bureau_id, DocumentCounter.prefix == prefix,
               DocumentCounter.year == year)
        .values(last_seq=DocumentCounter.last_seq + 1)
        .returning(DocumentCounter.last_seq)
    ).scalar_one()


def subject_context(db_session: Session, subject: Subject) -> dict[str, Any]:
    """What every document says about the subject and the issuing bureau."""
    today = clock.today_local()
    return {
        "bureau_name": bureau_of(db_session, subject).name,
        "subject_name": subject.name,
        "gender": subject.gender,
        "birth_date": subject.birth_date,
        "id_number": subject.id_number,
        "residence": subject.residence_address,
        "household_address": subject.household_address,
        "contact_phone": subject.phone,
        "correction_type": subject.correction_type,
        "crime": subject.crime,
        "sentence": subject.sentence,
        "deciding_organ": subject.deciding_organ,
        "judgment_date": subject.judgment_effective_date,
        "correction_start": subject.correction_start_date or today,
        "correction_end": subject.correction_end_date,
        "office": subject.office.name,
        "prohibitions": subject.prohibitions,
    }


def generate(
    *,
    db_session: Session,
    kind: str,
    subject: Subject,
    source_type: str,
    source_id: int,
    extra: Mapping[str, Any] | None = None,
    doc_date: date | None = None,
) -> Document:
    """Number, render and store one document; the caller commits with the event."""
    actor = get_actor(db_session)
    document_kind = render.get_kind(kind)
    doc_date = doc_date or clock.today_local()
    context = {**subject_context(db_session, subject), **(extra or {}), "doc_date": doc_date}
    missing = [k for k in document_kind.required if k not in ("number", "doc_date") and context.get(k) in (None, "")]
    if missing:
        names = "、".join(_KEY_LABELS.get(k, k) for k in missing)
        raise InvalidInput(f"生成《{document_kind.title_chinese}》缺少：{names}；请先补全档案",
                           code="document_incomplete", fields={k: "必填" for k in missing})
    bureau_id = subject.office.bureau_id
    seq = allocate_number(db_session, bureau_id=bureau_id, prefix=document_kind.number_prefix, year=doc_date.year)
    number = render.format_number(document_kind.number_prefix, doc_date.year, seq)
    try:
        pdf = render.render_pdf(kind, {**context, "number": number})
    except ValueError as exc:  # the renderer's own checks (a context it cannot print)
        raise InvalidInput(f"无法生成《{document_kind.title_chinese}》：{exc}", code="document_incomplete") from None
    now = clock.now()
    document = Document(
        subject_id=subject.id, bureau_id=bureau_id, kind=kind, title=document_kind.title_chinese, number=number,
        year=doc_date.year, seq=seq, doc_date=doc_date, sha256=render.sha256_hex(pdf), size=len(pdf),
        pages=_page_count(pdf), content=pdf, source_type=source_type, source_id=source_id,
        created_at=now, created_by=actor.username if actor else "system",
        render_context=encode_context({**context, "number": number}), template_version=render.template_version(),
        rendered_at=now,
    )
    db_session.add(document)
    db_session.flush()
    return document


def _encode_value(value: Any) -> Any:
    # datetime before date: a datetime is a date. Tagged so that a re-rendering gets the same types.
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Mapping):
        return {str(k): _encode_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode_value(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$datetime"}:
            return datetime.fromisoformat(value["$datetime"])
        if set(value) == {"$date"}:
            return date.fromisoformat(value["$date"])
        return {k: _decode_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_value(v) for v in value]
    return value


def encode_context(context: Mapping[str, Any]) -> str:
    """The render context as JSON (dates kept as dates), for the encrypted ``render_context``."""
    return json.dumps(_encode_value(context), ensure_ascii=False, sort_keys=True)


def decode_context(text: str) -> dict[str, Any]:
    return _decode_value(json.loads(text))


def rerender(*, db_session: Session, document_id: int) -> tuple[Document, str]:
    """Render a document again from the data it was made from, under the same number.

    For a document made wrongly (e.g. printed without fonts): the stored context, today's
    templates and fonts. Scoped like the download (another office's document is not found);
    needs ``subjects.write``. Audited with the old and the new checksum. Returns the document
    and the old checksum; the caller commits.
    """
    actor = get_actor(db_session)
    document = get(db_session=db_session, document_id=document_id)
    require(actor, Perm.subjects_write)
    if document.render_context is None:
        raise Conflict(f"文书 {document.number} 生成于保存生成数据之前，无法按原文号重新生成；"
                       "如需更正，请通过原业务流程重新出具", code="document_context_missing")
    context = decode_context(document.render_context)
    try:
        pdf = render.render_pdf(document.kind, context)
    except ValueError as exc:
        raise InvalidInput(f"无法重新生成《{document.title}》：{exc}", code="document_incomplete") from None
    old_sha256, old_version = document.sha256, document.template_version
    document.content = pdf
    document.sha256 = render.sha256_hex(pdf)
    document.size = len(pdf)
    document.pages = _page_count(pdf)
    document.template_version = render.template_version()
    document.rendered_at = clock.now()
    audit.record(db_session, object_type="documents", object_id=document.id, action="rerender", detail={
        "kind": document.kind, "number": document.number, "old_sha256": old_sha256,
        "new_sha256": document.sha256, "old_template_version": old_version,
        "new_template_version": document.template_version})
    db_session.flush()
    return document, old_sha256


def list_for_subject(*, db_session: Session, subject_id: int) -> list[Document]:
    require(get_actor(db_session), Perm.subjects_read)
    return list(db_session.execute(
        select(Document).where(Document.subject_id == subject_id).order_by(Document.created_at, Document.id)
    ).scalars())


def for_source(*, db_session: Session, source_type: str, source_id: int) -> list[Document]:
    return list(db_session.execute(
        select(Document).where(Document.source_type == source_type, Document.source_id == source_id)
        .order_by(Document.id)
    ).scalars())


def get(*, db_session: Session, document_id: int) -> Document:
    require(get_actor(db_session), Perm.subjects_read)
    document = db_session.execute(select(Document).where(Document.id == document_id)).scalar_one_or_none()
    if document is None:
        raise NotFound("文书不存在或不在您的管辖范围内", code="document_not_found")
    return document


def read_pdf(*, db_session: Session, document_id: int) -> tuple[Document, bytes]:
    """The PDF (it prints the full identity): the access is audited."""
    document = get(db_session=db_session, document_id=document_id)
    content = document.content
    audit.access(db_session, object_type="documents", object_id=document.id, action="download",
                 detail={"kind": document.kind, "number": document.number, "sha256": document.sha256})
    db_session.commit()
    return document, content


def filename(document: Document) -> str:
    return f"{document.id:06d}-{document.kind}.pdf"


def build_archive(
    *,
    subject_name: str,
    bureau_name: str,
    archive_title: str,
    documents: Sequence[Document],
    record: Mapping[str, Any],
) -> tuple[bytes, list[tuple[str, str]]]:
    """The archive zip: ``catalogue.pdf``, ``documents/*.pdf``, ``record.json``, ``manifest.sha256``.

    The manifest lists ``<sha256>  <path>`` for every other file (``sha256sum -c`` reads it).
    Returns the zip and the manifest entries.
    """
    entries = [(i, d.title, d.number, d.doc_date, d.pages) for i, d in enumerate(documents, 1)]
    entries.append((len(entries) + 1, "社区矫正对象档案结构化数据（record.json）", None, clock.today_local(), None))
    catalogue = render.render_catalogue_pdf(subject_name, entries, bureau_name=bureau_name,
                                            archive_title=archive_title)
    files: list[tuple[str, bytes]] = [("catalogue.pdf", catalogue)]
    files += [(f"documents/{filename(d)}", d.content) for d in documents]
    files.append(("record.json", json.dumps(record, ensure_ascii=False, indent=2, default=str).encode()))
    manifest = [(render.sha256_hex(data), path) for path, data in files]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, data in files:
            zf.writestr(path, data)
        zf.writestr("manifest.sha256", "".join(f"{sha}  {path}\n" for sha, path in manifest))
    return buffer.getvalue(), manifest
