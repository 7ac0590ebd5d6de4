"""The decision on a leave request (社区矫正法 第二十七条): the rules check who may decide, then
the approval form (外出审批表) is generated with the approver's opinion, in one unit of work."""

from __future__ import annotations

from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.documents import service as documents_service
from zhijiao.supervision import common
from zhijiao.supervision.leave import rules as leave_rules
from zhijiao.supervision.leave import service
from zhijiao.supervision.leave.models import LeaveRequest
from zhijiao.supervision.leave.schemas import LeaveDecisionIn
from zhijiao.tasks import service as tasks_service


def decide_leave(*, db_session: Session, leave_id: int, decision_in: LeaveDecisionIn) -> LeaveRequest:
    actor = common.decider(db_session)
    row = service.get_leave(db_session=db_session, leave_id=leave_id)
    s = common.open_subject(db_session, row.subject_id)
    approve = decision_in.decision == "approve"
    approver = service.approver_of(actor)
    moved = leave_rules.decide_leave(
        service.leave_rule(row), approver=approver, approve=approve,
        note=decision_in.note or "", settings=service.leave_settings(),
    )
    row.status = moved.status.value
    row.decided_by_id, row.decided_by, row.decided_at = actor.staff_id, actor.username, clock.now()
    row.decision_note = decision_in.note
    name = common.staff_name(db_session, actor)
    opinion = leave_opinion(approve, decision_in.note)
    today = clock.today_local()
    level = approver.level.value
    settings = service.leave_settings()
    extra = {
        "destination": row.destination, "reason": row.reason, "leave_start": row.start, "leave_end": row.end,
        "companions": row.companions, "contact_phone": row.contact_phone or s.phone,
        f"{level}_opinion": opinion, f"{level}_signer": name, f"{level}_opinion_date": today,
        "office_limit_days": settings.office_max_days, "max_leave_days": settings.max_days_per_approval,
    }
    if row.frequent:
        extra["basis"] = leave_rules.LEGAL_BASIS["frequent"]
    documents_service.generate(db_session=db_session, kind="leave_approval_form", subject=s,
                               source_type="leave_requests", source_id=row.id, extra=extra,
                               doc_date=common.local_date(row.created_at))
    tasks_service.close(db_session=db_session, key=f"leave_decision:{row.id}", note="已审批")
    service.leaves_changed(db_session, row)  # the area rules now allow (or still forbid) the trip
    db_session.commit()
    return row


def leave_opinion(approve: bool, note: str | None) -> str:
    """The opinion printed on the form: 同意/不同意, then the note, unless the note already says it
    (an approver who types 同意 gets 同意, not 同意。同意)."""
    word = "同意" if approve else "不同意"
    note = (note or "").strip()
    if not note or note.rstrip("。.！!，, ") == word:
        return word
    if note.startswith(word):
        return note
    return f"{word}。{note}"
