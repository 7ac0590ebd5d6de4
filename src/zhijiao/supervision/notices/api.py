"""Routes of the notices."""

from __future__ import annotations

from fastapi import APIRouter

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.supervision.notices import service
from zhijiao.supervision.notices.schemas import NotificationDoneIn, NotificationRead

router = APIRouter(tags=["supervision"])


@router.get("/subjects/{subject_id}/notifications", response_model=list[NotificationRead],
            summary="依法应通知的机关与办理情况")
def list_notifications(db_session: ScopedDb, subject_id: IdPath) -> list[NotificationRead]:
    return [service.notification_read(n)
            for n in service.list_notifications(db_session=db_session, subject_id=subject_id)]


@router.post("/notifications/{notification_id}/done", response_model=NotificationRead, summary="通知已办结")
def notification_done(db_session: ScopedDb, notification_id: IdPath, done_in: NotificationDoneIn) -> NotificationRead:
    return service.notification_read(service.notification_done(db_session=db_session, notification_id=notification_id,
                                                        done_on=done_in.done_on, note=done_in.note))
