"""Reception (交付接收, 社区矫正法 第二十条至第二十二条): what the deciding organ sent and when,
the overdue report (第二十一条), and the announcements' records. The announcements themselves,
with their documents, are in :mod:`zhijiao.supervision.reception.flows`."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import InvalidInput
from zhijiao.subjects import rules as subject_rules
from zhijiao.subjects.models import Subject
from zhijiao.subjects.schemas import SubjectStatus
from zhijiao.supervision import common
from zhijiao.supervision.notices import service as notices_service
from zhijiao.supervision.reception import rules as reception_rules
from zhijiao.supervision.reception.models import Announcement, Reception
from zhijiao.supervision.reception.schemas import AnnouncementKind, AnnouncementRead, ReceptionIn, ReceptionRead
from zhijiao.tasks import service as tasks_service


def get_reception(*, db_session: Session, subject_id: int) -> Reception | None:
    common.subject(db_session, subject_id)
    return db_session.execute(select(Reception).where(Reception.subject_id == subject_id)).scalar_one_or_none()


def delivery_check(s: Subject, row: Reception) -> reception_rules.DeliveryCheck:
    return reception_rules.delivery_check(
        s.judgment_effective_date, s.correction_type, notified_on=row.notified_on,
        documents_received_on=row.documents_received_on,
        received_documents=[d["name"] for d in row.documents], today=clock.today_local(),
    )


def record_reception(*, db_session: Session, subject_id: int, reception_in: ReceptionIn) -> Reception:
    actor = common.writer(db_session)
    s = common.open_subject(db_session, subject_id)
    for name, value in (("notified_on", reception_in.notified_on),
                        ("documents_received_on", reception_in.documents_received_on)):
        if value is not None:
            common.not_future(value, name)
            if value < s.judgment_effective_date:
                raise InvalidInput("日期不能早于判决、裁定生效日期", code="date_order", fields={name: "早于生效日期"})
    row = get_reception(db_session=db_session, subject_id=subject_id)
    if row is None:
        row = Reception(subject_id=s.id, received_by=actor.username)
        db_session.add(row)
    row.notified_on = reception_in.notified_on
    row.documents_received_on = reception_in.documents_received_on
    row.documents = [d.model_dump(mode="json") for d in reception_in.documents]
    row.identity_verified = reception_in.identity_verified
    row.note = reception_in.note
    row.received_by = actor.username
    db_session.flush()
    check = delivery_check(s, row)
    key = f"reception_documents:{s.id}"
    if check.missing_documents or row.documents_received_on is None:
        tasks_service.ensure(
            db_session=db_session, key=key, kind="reception_documents",
            title="催收决定机关法律文书：" + ("、".join(check.missing_documents) or "送达日期未登记"),
            due_on=max(check.documents_deadline, clock.today_local()), subject=s,
            source_type="receptions", source_id=row.id,
        )
    else:
        tasks_service.close(db_session=db_session, key=key, note="法律文书已齐全")
    db_session.commit()
    return row


def ensure_report_task(db_session: Session, s: Subject, today: date | None = None) -> bool:
    """An overdue report (Law Art. 21) raises a task for the responsible officer; True if overdue."""
    today = today or clock.today_local()
    if s.status != SubjectStatus.pending_reception or not subject_rules.is_report_overdue(
            s.judgment_effective_date, today=today):
        return False
    deadline = subject_rules.reporting_deadline(s.judgment_effective_date)
    tasks_service.ensure(
        db_session=db_session, key=f"report_overdue:{s.id}", kind="report_overdue",
        title=f"逾期未报到（应于{deadline.isoformat()}前报到），立即查找并通报决定机关", due_on=today,
        subject=s, source_type="subjects", source_id=s.id,
    )
    return True


def list_announcements(*, db_session: Session, subject_id: int) -> list[Announcement]:
    common.subject(db_session, subject_id)
    return list(db_session.execute(
        select(Announcement).where(Announcement.subject_id == subject_id).order_by(Announcement.at)).scalars())


def reception_read(s: Subject, row: Reception) -> ReceptionRead:
    check = delivery_check(s, row)
    reported_on = clock.to_local(s.reported_at).date() if s.reported_at else None
    return ReceptionRead(
        id=row.id, subject_id=row.subject_id, notified_on=row.notified_on,
        documents_received_on=row.documents_received_on, documents=row.documents,
        identity_verified=row.identity_verified, received_by=row.received_by, note=row.note,
        notice_deadline=check.notice_deadline, documents_deadline=check.documents_deadline,
        notice_late=check.notice_late, documents_late=check.documents_late,
        missing_documents=list(check.missing_documents),
        reporting_deadline=subject_rules.reporting_deadline(s.judgment_effective_date),
        report_overdue=subject_rules.is_report_overdue(s.judgment_effective_date, reported_on=reported_on),
        legal_basis=reception_rules.LEGAL_BASIS["delivery"],
    )


def announcement_read(db_session: Session, row: Announcement, s: Subject) -> AnnouncementRead:
    notices = notices_service.list_notifications(db_session=db_session, subject_id=s.id, event="release",
                                                 source_id=row.id) if row.kind == AnnouncementKind.release else []
    return AnnouncementRead(
        id=row.id, subject_id=row.subject_id, kind=row.kind, at=row.at, place=row.place, host=row.host,
        present=row.present, items=row.items, reason=row.reason, note=row.note, subject_status=s.status,
        documents=common.documents_of(db_session, "announcements", row.id),
        notifications=[notices_service.notification_read(n) for n in notices],
    )
