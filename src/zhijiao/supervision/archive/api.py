"""Routes of the subject's file: the timeline and the archive export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.supervision import common
from zhijiao.supervision.archive import service
from zhijiao.supervision.archive.schemas import TimelineEntry

router = APIRouter(tags=["supervision"])


@router.get("/subjects/{subject_id}/timeline", response_model=list[TimelineEntry],
            summary="对象的时间线（所有事件及其文书，最新在前）")
def timeline(db_session: ScopedDb, subject_id: IdPath) -> list[TimelineEntry]:
    return service.timeline(db_session, common.subject(db_session, subject_id))


@router.get("/subjects/{subject_id}/archive", summary="导出档案（zip：目录、文书、结构化数据、校验清单；将被审计）",
            responses={200: {"content": {"application/zip": {}}, "description": "zip"}})
def export_archive(
    db_session: ScopedDb, subject_id: IdPath,
    purpose: Annotated[str | None, Query(pattern="^(supervision|judicial_case|lawful_inquiry)$",
                                         description="未成年人已封存档案：judicial_case 或 lawful_inquiry")] = None,
    inquiry_ref: Annotated[str | None, Query(max_length=128, description="办案或查询函文号")] = None,
) -> Response:
    name, data = service.export_archive(db_session=db_session, subject_id=subject_id, purpose=purpose,
                                      inquiry_ref=inquiry_ref)
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
