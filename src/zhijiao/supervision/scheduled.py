"""The daily deadline scan: no deadline passes silently.

Registered here with ``zhijiao.jobs`` (which imports this module by name): run once a day (and at
start) by the scheduler, or from a test with a frozen clock. It binds a
system actor (a visible opt-out of office scoping: it sees every office) unless given a session
that already has one, and is idempotent: tasks are keyed, so a second run adds nothing.
"""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.db import session as dbsession
from zhijiao.jobs.service import Job, register
from zhijiao.security.actor import Actor, get_actor
from zhijiao.subjects.models import Subject
from zhijiao.subjects.schemas import SubjectStatus
from zhijiao.supervision.assessments.models import AssessmentStatus, PreSentenceAssessment
from zhijiao.supervision.leave import rules as leave_rules
from zhijiao.supervision.leave import service as leave_service
from zhijiao.supervision.leave.models import LeaveRequest
from zhijiao.supervision.levels import service as levels_service
from zhijiao.supervision.reception import service as reception_service
from zhijiao.supervision.sanctions.models import Proposal, ProposalStatus
from zhijiao.supervision.transfer.models import Transfer, TransferStatus
from zhijiao.tasks import service as tasks_service

JOB = "supervision.deadlines"


def scan(*, db_session: Session | None = None, today: date | None = None) -> dict[str, int]:
    """Raise tasks for overdue reports, returns from leave, court answers, consultations and
    assessments, and extend the duty tasks of each level a quarter ahead. Returns counts."""
    if db_session is None:
        with dbsession.session_scope(Actor.system(JOB)) as session:
            return _scan(session, today or clock.today_local())
    if get_actor(db_session) is None:
        db_session.info["actor"] = Actor.system(JOB)
    counts = _scan(db_session, today or clock.today_local())
    db_session.commit()
    return counts


def _scan(db: Session, today: date) -> dict[str, int]:
    db.expire_all()  # a long-lived session must see what others committed
    counts = dict.fromkeys(("report_overdue", "leave_overdue", "court_answer_overdue", "transfer_consult_overdue",
                            "assessment_overdue", "duty_tasks"), 0)

    # 社区矫正法 第二十一条: not reported within 10 days.
    for s in db.execute(select(Subject).where(Subject.status == SubjectStatus.pending_reception)).unique().scalars():
        counts["report_overdue"] += reception_service.ensure_report_task(db, s, today)
    for task in tasks_service.open_tasks(db_session=db, kind="report_overdue"):
        s = db.get(Subject, task.subject_id) if task.subject_id else None
        if s is None or s.status != SubjectStatus.pending_reception:
            tasks_service.close(db_session=db, key=task.key, note="已报到或已结束")

    # 实施办法 第二十八条: back by the last day of leave.
    subjects: dict[int, Subject] = {}
    for row in db.execute(select(LeaveRequest).where(LeaveRequest.status == leave_rules.LeaveStatus.approved,
                                                     LeaveRequest.end < today)).scalars():
        moved = leave_rules.mark_overdue(leave_service.leave_rule(row), today=today)
        row.status = moved.status.value
        leave_service.leaves_changed(db, row)  # no longer covered: the area rules apply again
        s = subjects.get(row.subject_id) or db.get(Subject, row.subject_id)
        assert s is not None
        subjects[s.id] = s
        tasks_service.ensure(
            db_session=db, key=f"leave_overdue:{row.id}", kind="leave_overdue",
            title=f"外出逾期未归（应于{row.end.isoformat()}返回，目的地：{row.destination}），立即联系并核实",
            due_on=today, subject=s, source_type="leave_requests", source_id=row.id,
        )
        counts["leave_overdue"] += 1

    # 社区矫正法 第三十三条、第四十八条、第四十九条: the court's 30 days.
    sent = select(Proposal).where(Proposal.status == ProposalStatus.sent, Proposal.answer_due < today)
    for p in db.execute(sent).scalars():
        counts["court_answer_overdue"] += 1
        s = db.get(Subject, p.subject_id)
        assert s is not None and p.answer_due is not None
        tasks_service.ensure(
            db_session=db, key=f"court_answer:{p.id}", kind="court_answer",
            title=f"{p.recipient}应于{p.answer_due.isoformat()}前作出决定", due_on=p.answer_due, subject=s,
            source_type="proposals", source_id=p.id,
        )

    # 实施办法 第三十条: the new place answers within 5 days.
    counts["transfer_consult_overdue"] = len(db.execute(
        select(Transfer.id).where(Transfer.status == TransferStatus.consulting, Transfer.consult_deadline < today)).all())
    # 社区矫正法 第十八条: 10 (or 5) working days.
    counts["assessment_overdue"] = len(db.execute(
        select(PreSentenceAssessment.id).where(PreSentenceAssessment.status == AssessmentStatus.open,
                                               PreSentenceAssessment.deadline < today)).all())

    # 分类管理: keep the duty tasks a quarter ahead.
    for s in db.execute(select(Subject).where(Subject.status == SubjectStatus.under_correction)).unique().scalars():
        review = levels_service.current_level_review(db, s.id)
        if review is not None:
            counts["duty_tasks"] += levels_service.schedule_duties(db, s, review, today)
    return counts


register(Job(JOB, "期限检查：逾期报到、外出逾期、法院答复、调查评估，滚动生成监管任务",
             daily_at=time(1, 0),
             run=lambda db, now: scan(db_session=db, today=clock.to_local(now).date())))
