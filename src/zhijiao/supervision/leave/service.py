"""Leave (外出请假, 社区矫正法 第二十七条; 实施办法 第二十七条至第二十九条): requests, the return
(销假), and the approved windows the positioning rules read. The decision, with its approval form,
is in :mod:`zhijiao.supervision.leave.flows`."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhijiao.core import clock, events, topics
from zhijiao.core.errors import Conflict, Forbidden
from zhijiao.security.actor import Actor
from zhijiao.security.permissions import Perm, has_perm, sees_every_office
from zhijiao.settings import service as settings_service
from zhijiao.supervision import common
from zhijiao.supervision.leave import rules as leave_rules
from zhijiao.supervision.leave.models import LeaveRequest
from zhijiao.supervision.leave.rules import LeaveStatus
from zhijiao.supervision.leave.schemas import ActiveLeave, LeaveCreate, LeaveRead
from zhijiao.tasks import service as tasks_service

# A request in these holds its dates: another one may not overlap them.
LEAVE_HELD = (LeaveStatus.pending, LeaveStatus.approved, LeaveStatus.overdue)


def leave_settings() -> leave_rules.LeaveSettings:
    """The bureau's leave limits [configurable] from the settings store."""
    return leave_rules.LeaveSettings(
        office_max_days=settings_service.value("rules.leave_office_max_days"),
        max_days_per_approval=settings_service.value("rules.leave_max_days"),
    )


def get_leave(*, db_session: Session, leave_id: int) -> LeaveRequest:
    common.reader(db_session)
    return common.one(db_session, LeaveRequest, leave_id, "外出申请不存在或不在您的管辖范围内", "leave_not_found")


def list_leaves(*, db_session: Session, subject_id: int | None = None, status: str | None = None,
                limit: int | None = None) -> list[LeaveRequest]:
    common.reader(db_session)
    stmt = select(LeaveRequest)
    if subject_id is not None:
        common.subject(db_session, subject_id)
        stmt = stmt.where(LeaveRequest.subject_id == subject_id)
    if status:
        stmt = stmt.where(LeaveRequest.status == status)
    stmt = stmt.order_by(LeaveRequest.start.desc(), LeaveRequest.id.desc())
    return list(db_session.execute(stmt.limit(limit) if limit else stmt).scalars())


def leave_rule(row: LeaveRequest) -> leave_rules.LeaveRequest:
    return leave_rules.LeaveRequest(
        subject_id=row.subject_id, office_id=row.office_id, requested_by=row.requested_by_id or 0,
        start=row.start, end=row.end, status=leave_rules.LeaveStatus(row.status), returned_on=row.returned_on,
        frequent=row.frequent,
    )


def approver_of(actor: Actor) -> leave_rules.Approver:
    """The approver's level from what the actor may do, not from a role's name: an officer with
    the district's reach stands for the bureau, one without it for the office; a leader (final
    approvals without workflows) decides as the bureau."""
    if has_perm(actor, Perm.workflows_write):
        level = leave_rules.ApproverLevel.bureau if sees_every_office(actor) else leave_rules.ApproverLevel.office
    elif has_perm(actor, Perm.approvals_final):
        level = leave_rules.ApproverLevel.bureau
    else:
        level = None
    if level is None or actor.staff_id is None:
        raise Forbidden("您的角色无权审批外出申请", code="permission_denied")
    return leave_rules.Approver(staff_id=actor.staff_id, level=level, office_id=actor.office_id)


def active_leaves(db_session: Session, subject_id: int, at: datetime) -> list[ActiveLeave]:
    """Approved leaves in force at ``at``: destination text and dates, for monitoring's area rules.

    A leave covers whole local days, from 00:00 of its first day to 24:00 of its last
    (Asia/Shanghai). An overdue leave no longer covers anything: the subject should be back.
    """
    day = clock.to_local(clock.ensure_utc(at)).date()
    rows = db_session.execute(
        select(LeaveRequest).where(LeaveRequest.subject_id == subject_id, LeaveRequest.status == LeaveStatus.approved,
                                   LeaveRequest.start <= day, LeaveRequest.end >= day)
        .order_by(LeaveRequest.start)
    ).scalars().all()
    return [leave_window(r) for r in rows]


def leave_window(row: LeaveRequest) -> ActiveLeave:
    start_at = datetime.combine(row.start, time.min, tzinfo=clock.SHANGHAI)
    end_at = datetime.combine(row.end + timedelta(days=1), time.min, tzinfo=clock.SHANGHAI)
    return ActiveLeave(id=row.id, subject_id=row.subject_id, destination=row.destination, start=row.start,
                       end=row.end, start_at=clock.ensure_utc(start_at), end_at=clock.ensure_utc(end_at))


def approved_leaves(db_session: Session, subject_id: int, since: date | None = None) -> list[ActiveLeave]:
    """Every approved leave of a subject ending on or after ``since`` (for rebuilding rule state)."""
    stmt = select(LeaveRequest).where(LeaveRequest.subject_id == subject_id, LeaveRequest.status == LeaveStatus.approved)
    if since is not None:
        stmt = stmt.where(LeaveRequest.end >= since)
    return [leave_window(r) for r in db_session.execute(stmt.order_by(LeaveRequest.start)).scalars()]


def leave_windows(db_session: Session, since: date) -> list[ActiveLeave]:
    """Every approved leave ending on or after ``since``, all subjects (the positioning rules'
    context; the caller's actor is the pipeline's system actor)."""
    stmt = select(LeaveRequest).where(LeaveRequest.status == LeaveStatus.approved, LeaveRequest.end >= since)
    return [leave_window(r) for r in db_session.execute(stmt.order_by(LeaveRequest.start)).scalars()]


def leaves_changed(db_session: Session, row: LeaveRequest) -> None:
    """Tell the positioning rules, once committed, that a subject's leaves changed."""
    events.publish_on_commit(db_session, topics.DIRECTORY, lambda: {"subject_id": row.subject_id, "leave_id": row.id})


def request_leave(*, db_session: Session, subject_id: int, leave_in: LeaveCreate) -> LeaveRequest:
    actor = common.writer(db_session)
    s = common.active_subject(db_session, subject_id)
    settings = leave_settings()
    rule = leave_rules.new_leave_request(
        subject_id=s.id, office_id=s.office_id, requested_by=actor.staff_id or 0, start=leave_in.start,
        end=leave_in.end, frequent=leave_in.frequent, settings=settings,
    )
    overlap = db_session.execute(
        select(LeaveRequest.id).where(LeaveRequest.subject_id == s.id,
                                      LeaveRequest.status.in_(LEAVE_HELD),
                                      LeaveRequest.start <= leave_in.end, LeaveRequest.end >= leave_in.start)
    ).first()
    if overlap is not None:
        raise Conflict("该时段已有待审批或已批准的外出申请", code="leave_overlap", fields={"start": "时段重叠"})
    level = leave_rules.required_level(rule, settings=settings)
    row = LeaveRequest(
        subject_id=s.id, office_id=s.office_id, start=leave_in.start, end=leave_in.end, days=rule.days,
        frequent=leave_in.frequent, destination=leave_in.destination, reason=leave_in.reason,
        companions=leave_in.companions, contact_phone=leave_in.contact_phone, approver_level=level.value,
        status=LeaveStatus.pending.value, requested_by_id=actor.staff_id, requested_by=actor.username,
    )
    db_session.add(row)
    db_session.flush()
    tasks_service.ensure(
        db_session=db_session, key=f"leave_decision:{row.id}", kind="leave_decision",
        title=f"审批外出申请（{leave_rules.APPROVER_LEVEL_LABELS[level]}审批，{row.days}日）",
        due_on=max(row.start - timedelta(days=1), clock.today_local()), subject=s,
        assignee_id=None if level is leave_rules.ApproverLevel.bureau else s.responsible_staff_id,
        source_type="leave_requests", source_id=row.id,
    )
    db_session.commit()
    return row


def confirm_return(*, db_session: Session, leave_id: int, returned_on: date | None, note: str | None) -> LeaveRequest:
    actor = common.writer(db_session)
    row = get_leave(db_session=db_session, leave_id=leave_id)
    s = common.subject(db_session, row.subject_id)
    back = common.not_future(returned_on or clock.today_local(), "returned_on")
    if row.status == LeaveStatus.approved and leave_rules.is_overdue(leave_rule(row)):
        leave_rules.mark_overdue(leave_rule(row))
    moved = leave_rules.mark_returned(leave_rule(row), returned_on=back)
    row.status, row.returned_on = moved.status.value, back
    row.return_confirmed_by, row.return_note = actor.username, note
    tasks_service.close(db_session=db_session, key=f"leave_overdue:{row.id}", note="已销假")
    leaves_changed(db_session, row)
    if moved.returned_late:
        tasks_service.ensure(
            db_session=db_session, key=f"leave_late_return:{row.id}", kind="leave_late_return",
            title=f"外出逾期{(back - row.end).days}日返回，核实原因并依法处理（训诫等）",
            due_on=clock.today_local() + timedelta(days=3), subject=s,
            source_type="leave_requests", source_id=row.id,
        )
    db_session.commit()
    return row


def leave_read(db_session: Session, row: LeaveRequest) -> LeaveRead:
    status = LeaveStatus(row.status)
    return LeaveRead(
        id=row.id, subject_id=row.subject_id, office_id=row.office_id, status=row.status,
        status_label=leave_rules.LEAVE_STATUS_LABELS[status], start=row.start, end=row.end, days=row.days,
        frequent=row.frequent, destination=row.destination, reason=row.reason, companions=row.companions,
        approver_level=row.approver_level, requested_by=row.requested_by, decided_by=row.decided_by,
        decided_at=row.decided_at, decision_note=row.decision_note, returned_on=row.returned_on,
        returned_late=row.returned_on is not None and row.returned_on > row.end,
        return_confirmed_by=row.return_confirmed_by, created_at=row.created_at,
        documents=common.documents_of(db_session, "leave_requests", row.id),
    )
