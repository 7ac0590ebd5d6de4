"""Routes of reception and the announcements."""

from __future__ import annotations

from fastapi import APIRouter

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.core.errors import NotFound
from zhijiao.supervision import common
from zhijiao.supervision.reception import flows, service
from zhijiao.supervision.reception.schemas import AnnouncementCreate, AnnouncementRead, ReceptionIn, ReceptionRead

router = APIRouter(tags=["supervision"])


@router.put("/subjects/{subject_id}/reception", response_model=ReceptionRead, summary="交付接收登记（第二十条核查）")
def record_reception(db_session: ScopedDb, subject_id: IdPath, reception_in: ReceptionIn) -> ReceptionRead:
    row = service.record_reception(db_session=db_session, subject_id=subject_id, reception_in=reception_in)
    return service.reception_read(common.subject(db_session, subject_id), row)


@router.get("/subjects/{subject_id}/reception", response_model=ReceptionRead, summary="交付接收情况")
def get_reception(db_session: ScopedDb, subject_id: IdPath) -> ReceptionRead:
    row = service.get_reception(db_session=db_session, subject_id=subject_id)
    if row is None:
        raise NotFound("尚未登记交付接收", code="reception_not_found")
    return service.reception_read(common.subject(db_session, subject_id), row)


@router.post("/subjects/{subject_id}/announcements", response_model=AnnouncementRead, status_code=201,
             summary="入矫宣告 / 解矫宣告（生成宣告书等文书）")
def announce(db_session: ScopedDb, subject_id: IdPath, announcement_in: AnnouncementCreate) -> AnnouncementRead:
    row = flows.announce(db_session=db_session, subject_id=subject_id, announcement_in=announcement_in)
    return service.announcement_read(db_session, row, common.subject(db_session, subject_id))


@router.get("/subjects/{subject_id}/announcements", response_model=list[AnnouncementRead], summary="宣告记录")
def list_announcements(db_session: ScopedDb, subject_id: IdPath) -> list[AnnouncementRead]:
    s = common.subject(db_session, subject_id)
    return [service.announcement_read(db_session, a, s)
            for a in service.list_announcements(db_session=db_session, subject_id=subject_id)]
