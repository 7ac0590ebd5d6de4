"""The notices of release, termination and transfer: recorded from the rules' checklists,
listed, and marked done by the bureau (社区矫正法 第二十七条、第四十四条、第四十五条)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import Conflict
from zhijiao.subjects.models import Subject
from zhijiao.supervision import common
from zhijiao.supervision.notices.models import Notification, NotificationStatus
from zhijiao.supervision.notices.rules import BODY_LABELS, Body
from zhijiao.supervision.notices.rules import Notification as NoticeRule
from zhijiao.supervision.notices.schemas import NotificationRead


def record_notifications(
    db_session: Session, s: Subject, event: str, source_id: int | None, rules_: Sequence[NoticeRule]
) -> list[Notification]:
    rows = []
    for n in rules_:
        status = NotificationStatus.pending if n.sender is Body.bureau else NotificationStatus.others
        row = Notification(subject_id=s.id, event=event, source_id=source_id, body=n.body.value,
                           sender=n.sender.value, action=n.action, legal_basis=n.legal_basis,
                           status=status.value, created_at=clock.now())
        db_session.add(row)
        rows.append(row)
    return rows


def list_notifications(*, db_session: Session, subject_id: int, event: str | None = None,
                       source_id: int | None = None) -> list[Notification]:
    common.subject(db_session, subject_id)
    stmt = select(Notification).where(Notification.subject_id == subject_id)
    if event:
        stmt = stmt.where(Notification.event == event)
    if source_id is not None:
        stmt = stmt.where(Notification.source_id == source_id)
    return list(db_session.execute(stmt.order_by(Notification.id)).scalars())


def notification_done(*, db_session: Session, notification_id: int, done_on: date | None,
                      note: str | None) -> Notification:
    actor = common.writer(db_session)
    row = common.one(db_session, Notification, notification_id, "通知事项不存在或不在您的管辖范围内",
                     "notification_not_found")
    if row.status != NotificationStatus.pending:
        raise Conflict("该事项已办结或由其他机关办理", code="notification_state")
    row.status, row.done_on, row.done_by, row.note = NotificationStatus.done.value, \
        common.not_future(done_on or clock.today_local(), "done_on"), actor.username, note
    db_session.commit()
    return row


def notification_body_label(row: Notification) -> str:
    return BODY_LABELS[Body(row.body)]


def notification_read(row: Notification) -> NotificationRead:
    return NotificationRead(
        id=row.id, subject_id=row.subject_id, event=row.event, source_id=row.source_id, body=row.body,
        body_label=notification_body_label(row), sender=row.sender, ours=row.sender == Body.bureau,
        action=row.action, legal_basis=row.legal_basis, status=row.status, done_on=row.done_on,
        done_by=row.done_by, note=row.note,
    )
