"""The daily deadline scan: no deadline passes silently.

Registered here with ``zhijiao.jobs`` (which imports this module by name): run once a day (and at
start) by the scheduler, or from a test with a frozen clock. It binds a
system actor (a visible opt-out of office scoping: it sees every office) unless given a session
that already has one, and is idempotent: tasks are keyed, so a second run adds nothing.

A district has tens of thousands of subjects: the scan walks each kind of row in id order
(keyset pages) and commits in the job's bounded chunks (``zhijiao.jobs.service.Chunks``), so
logins and alarm actions are never locked out for the scan's duration; each chunk's checkpoint
(day, phase, last id) lets a stopped scan resume where it was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.db import session as dbsession
from zhijiao.jobs import service as jobs_service
from zhijiao.jobs.service import Job, register
from zhijiao.security.actor import Actor, get_actor
from zhijiao.subjects.models import Subject
from zhijiao.subjects.schemas import SubjectStatus
from zhijiao.supervision.assessments.models import AssessmentStatus, PreSentenceAssessment
from zhijiao.supervision.leave import rules as leave_rules
from zhijiao.supervision.leave import service as leave_service
from zhijiao.supervision.leave.models import LeaveRequest
from zhijiao.supervision.levels import service as levels_service
from zhijiao.supervision.levels.models import LevelReview, LevelReviewStatus
from zhijiao.supervision.reception import service as reception_service
from zhijiao.supervision.sanctions.models import Proposal, ProposalStatus
from zhijiao.supervision.transfer.models import Transfer, TransferStatus
from zhijiao.tasks import service as tasks_service

JOB = "supervision.deadlines"
PAGE = 500  # rows read at once; the chunk budget, not the page, decides when to commit

Step = Callable[[int], None]  # "the rows up to this id are done"


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


def _pages(db: Session, stmt: Select, key, after: int):
    """The rows of ``stmt`` in ``key`` order after ``after``, a page at a time (keyset)."""
    while True:
        rows = db.execute(stmt.where(key > after).order_by(key).limit(PAGE)).unique().scalars().all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id


def _scan(db: Session, today: date) -> dict[str, int]:
    db.expire_all()  # a long-lived session must see what others committed
    counts = dict.fromkeys(("report_overdue", "leave_overdue", "court_answer_overdue", "transfer_consult_overdue",
                            "assessment_overdue", "duty_tasks"), 0)
    chunks = jobs_service.chunks(db)
    resume = chunks.resume if chunks.resume and chunks.resume.get("day") == today.isoformat() else None
    phases: list[tuple[str, Callable[[Session, date, dict[str, int], int, Step], None]]] = [
        ("report", _reports), ("report_closed", _reports_closed), ("leave", _leave_overdue),
        ("court", _court_answers), ("duties", _duties)]
    skip = [name for name, _ in phases].index(resume["phase"]) if resume else 0
    for name, phase in phases[skip:]:
        after = resume["after"] if resume and resume["phase"] == name else 0
        phase(db, today, counts, after,
              lambda row_id, name=name: chunks.step(day=today.isoformat(), phase=name, after=row_id))

    # 实施办法 第三十条: the new place answers within 5 days.
    counts["transfer_consult_overdue"] = len(db.execute(
        select(Transfer.id).where(Transfer.status == TransferStatus.consulting, Transfer.consult_deadline < today)).all())
    # 社区矫正法 第十八条: 10 (or 5) working days.
    counts["assessment_overdue"] = len(db.execute(
        select(PreSentenceAssessment.id).where(PreSentenceAssessment.status == AssessmentStatus.open,
                                               PreSentenceAssessment.deadline < today)).all())
    return counts | chunks.figures()


def _reports(db: Session, today: date, counts: dict[str, int], after: int, step: Step) -> None:
    # 社区矫正法 第二十一条: not reported within 10 days.
    pending = select(Subject).where(Subject.status == SubjectStatus.pending_reception)
    # New tasks wait in the session (tasks_service.ensure looks there too) and are written when
    # the chunk commits: the write lock is held for that flush, not for the reading.
    with db.no_autoflush:
        for s in _pages(db, pending, Subject.id, after):
            counts["report_overdue"] += reception_service.ensure_report_task(db, s, today)
            step(s.id)


def _reports_closed(db: Session, today: date, counts: dict[str, int], after: int, step: Step) -> None:
    # Open overdue-report tasks are few next to subjects: read at once, walked in id order.
    open_reports = sorted(tasks_service.open_tasks(db_session=db, kind="report_overdue"), key=lambda t: t.id)
    for task in (t for t in open_reports if t.id > after):
        s = db.get(Subject, task.subject_id) if task.subject_id else None
        if s is None or s.status != SubjectStatus.pending_reception:
            tasks_service.close(db_session=db, key=task.key, note="已报到或已结束")
        step(task.id)


def _leave_overdue(db: Session, today: date, counts: dict[str, int], after: int, step: Step) -> None:
    # 实施办法 第二十八条: back by the last day of leave.
    approved = select(LeaveRequest).where(LeaveRequest.status == leave_rules.LeaveStatus.approved,
                                          LeaveRequest.end < today)
    for row in _pages(db, approved, LeaveRequest.id, after):
        moved = leave_rules.mark_overdue(leave_service.leave_rule(row), today=today)
        row.status = moved.status.value
        leave_service.leaves_changed(db, row)  # no longer covered: the area rules apply again
        s = db.get(Subject, row.subject_id)
        assert s is not None
        tasks_service.ensure(
            db_session=db, key=f"leave_overdue:{row.id}", kind="leave_overdue",
            title=f"外出逾期未归（应于{row.end.isoformat()}返回，目的地：{row.destination}），立即联系并核实",
            due_on=today, subject=s, source_type="leave_requests", source_id=row.id,
        )
        counts["leave_overdue"] += 1
        step(row.id)


def _court_answers(db: Session, today: date, counts: dict[str, int], after: int, step: Step) -> None:
    # 社区矫正法 第三十三条、第四十八条、第四十九条: the court's 30 days.
    sent = select(Proposal).where(Proposal.status == ProposalStatus.sent, Proposal.answer_due < today)
    for p in _pages(db, sent, Proposal.id, after):
        counts["court_answer_overdue"] += 1
        s = db.get(Subject, p.subject_id)
        assert s is not None and p.answer_due is not None
        tasks_service.ensure(
            db_session=db, key=f"court_answer:{p.id}", kind="court_answer",
            title=f"{p.recipient}应于{p.answer_due.isoformat()}前作出决定", due_on=p.answer_due, subject=s,
            source_type="proposals", source_id=p.id,
        )
        step(p.id)


def _duties(db: Session, today: date, counts: dict[str, int], after: int, step: Step) -> None:
    # 分类管理: keep the duty tasks a quarter ahead.
    supervised = select(Subject).where(Subject.status == SubjectStatus.under_correction)
    page: list[Subject] = []
    with db.no_autoflush:  # as for the reports: written when the chunk commits
        for s in _pages(db, supervised, Subject.id, after):
            page.append(s)
            if len(page) == PAGE:
                _duties_of(db, today, counts, page, step)
                page = []
        _duties_of(db, today, counts, page, step)


def _duties_of(db: Session, today: date, counts: dict[str, int], subjects: list[Subject], step: Step) -> None:
    """One query for the confirmed levels of a page of subjects, not one per subject."""
    if not subjects:
        return
    confirmed = db.execute(
        select(LevelReview).where(LevelReview.subject_id.in_([s.id for s in subjects]),
                                  LevelReview.status == LevelReviewStatus.confirmed)
        .order_by(LevelReview.subject_id, LevelReview.decided_at.desc(), LevelReview.id.desc())).scalars()
    current: dict[int, LevelReview] = {}
    for review in confirmed:
        current.setdefault(review.subject_id, review)  # the latest decision, as current_level_review
    for s in subjects:
        review = current.get(s.id)
        if review is not None:
            counts["duty_tasks"] += levels_service.schedule_duties(db, s, review, today)
        step(s.id)


register(Job(JOB, "期限检查：逾期报到、外出逾期、法院答复、调查评估，滚动生成监管任务",
             daily_at=time(1, 0),
             run=lambda db, now: scan(db_session=db, today=clock.to_local(now).date())))
