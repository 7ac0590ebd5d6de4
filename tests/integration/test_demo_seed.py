"""The demo's seed with a short history (both databases): every workflow has rows in each of its
states, documents and cameras exist, the 30-day charts move, and a second seed adds nothing."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from zhijiao.checkins.models import CheckIn, RollCall
from zhijiao.command import service as command_service
from zhijiao.command.models import Camera
from zhijiao.core import clock
from zhijiao.db.base import Base
from zhijiao.documents import render
from zhijiao.documents.models import Document
from zhijiao.monitoring.models import Alarm, AlarmAction
from zhijiao.security.actor import Actor
from zhijiao.security.models import AuditEvent
from zhijiao.subjects.models import SubjectTransition
from zhijiao.supervision.assessments.models import PreSentenceAssessment
from zhijiao.supervision.daily.models import DailyRecord, MonthlyAssessment
from zhijiao.supervision.leave.models import LeaveRequest
from zhijiao.supervision.levels.models import LevelReview
from zhijiao.supervision.plans.models import CorrectionPlan
from zhijiao.supervision.reception.models import Announcement, Reception
from zhijiao.supervision.sanctions.models import Proposal, Sanction
from zhijiao.supervision.transfer.models import Transfer
from zhijiao.tasks.models import Task


@pytest.fixture(autouse=True)
def fast_pdf(monkeypatch):
    """The real template checks each document's context; WeasyPrint itself is tested elsewhere."""
    def fake(kind, context, **kw):
        return b"%PDF-1.7 fake " + render.render_html(kind, context, **kw).encode()[:64] + b"\n%%EOF\n"

    monkeypatch.setattr(render, "render_pdf", fake)


def _states(db, column) -> set[str]:
    return set(db.execute(select(column).distinct().execution_options(skip_scope=True)).scalars())


def _counts(db) -> dict[str, int]:
    return {t.name: db.execute(select(func.count()).select_from(t)).scalar_one()
            for t in Base.metadata.sorted_tables if t.name not in ("job_runs", "job_chunks")}


def test_seed_with_history_has_every_state_and_is_idempotent(engine, db):
    from zhijiao.demo import seed

    lines: list[str] = []
    first = seed.seed(subjects=150, history_days=30, progress=lines.append)
    assert not first.already and first.history_days == 30
    assert any("历史数据完成" in line for line in lines)
    db.info["actor"] = Actor.system("test")

    assert {"pending", "approved", "rejected", "returned", "overdue"} <= _states(db, LeaveRequest.status)
    kinds = Counter(db.execute(select(Task.kind)).scalars())
    assert kinds["leave_late_return"] >= 1  # returned late
    assert {"consulting", "approved", "rejected", "completed"} <= _states(db, Transfer.status)
    assert {"pending", "decided", "rejected"} <= _states(db, Sanction.status)
    assert {"commendation", "admonition", "warning"} <= _states(db, Sanction.kind)
    assert db.execute(select(func.count(Proposal.id))).scalar_one() >= 1
    assert {"open", "completed"} <= _states(db, PreSentenceAssessment.status)
    assert any(a.deadline < clock.today_local() for a in db.execute(
        select(PreSentenceAssessment).where(PreSentenceAssessment.status == "open")).scalars())  # overdue
    assert {"proposed", "confirmed"} <= _states(db, LevelReview.status)
    assert {"entry", "release"} <= _states(db, Announcement.kind)
    assert db.execute(select(func.count(Reception.id))).scalar_one() >= 5
    assert db.execute(select(func.count(CorrectionPlan.id))).scalar_one() >= 5
    assert {"report", "home_visit", "talk", "education"} <= _states(db, DailyRecord.kind)
    assert db.execute(select(func.count(MonthlyAssessment.id))).scalar_one() >= 10
    assert {"answered_matched", "no_answer"} <= _states(db, RollCall.status)
    assert {"open", "closed"} <= _states(db, Alarm.status)
    assert len(_states(db, Alarm.type)) >= 5
    handlers = _states(db, AlarmAction.actor_name)
    assert {"operator", "operator2"} <= handlers
    docs = _states(db, Document.kind)
    assert {"entry_announcement", "notice_of_obligations", "leave_approval_form", "release_announcement",
            "release_certificate"} <= docs
    assert any(k.endswith("_decision") for k in docs)  # a reward or punishment's decision
    assert db.execute(select(func.count(Camera.id))).scalar_one() >= 20
    assert db.execute(select(func.count(CheckIn.id))).scalar_one() > 150

    # the officers did their duties: few are overdue
    duties = db.execute(select(Task.status, Task.due_on).where(Task.kind == "duty")).all()
    past = [status for status, due in duties if due < clock.today_local()]
    assert past and past.count("open") / len(past) < 0.2
    # each file's course reads in order (待接收→已报到 before 已报到→在矫)
    course: dict[int, list] = {}
    for t in db.execute(select(SubjectTransition).order_by(SubjectTransition.id)
                        .execution_options(skip_scope=True)).scalars():
        course.setdefault(t.subject_id, []).append(clock.ensure_utc(t.at))
    assert all(times == sorted(times) for times in course.values())

    # the history is audited, in time order, within its window
    audit = db.execute(select(AuditEvent.seq, AuditEvent.at).where(AuditEvent.actor_name != "system:demo-seed")
                       .order_by(AuditEvent.seq)).all()  # (the population is audited here by the fixtures)
    times = [clock.ensure_utc(at) for _seq, at in audit]
    assert len(times) > 1000 and times == sorted(times)
    assert times[0].date() >= clock.today_local() - timedelta(days=31)

    # the 30-day chart of alarms is not flat
    series = [c.count for c in command_service.alarm_breakdown(db_session=db, days=30).by_day]
    assert sum(1 for n in series if n) >= 20 and len(set(series)) >= 3

    # the tester's path
    ready = first.ready
    assert ready is not None and first.phone_login == ready.id_number
    text = seed.banner(first, host="0.0.0.0", port=8123)
    assert f"/subjects/{ready.subject_id}/face" in text and "/kiosk" in text and seed.PHONE_PASSWORD in text

    before = _counts(db)
    second = seed.seed(subjects=150, history_days=30)
    db.expire_all()
    assert second.already and _counts(db) == before
    again = seed.banner(second, host="127.0.0.1", port=8123)
    assert ready.id_number in again and "/m/" in again and f"/subjects/{ready.subject_id}/face" in again


def test_history_days_zero_seeds_no_history(engine, db):
    from zhijiao.demo import seed

    out = seed.seed(subjects=40, history_days=0)
    assert out.history_days == 0 and out.ready is not None
    db.info["actor"] = Actor.system("test")
    assert db.execute(select(func.count(LeaveRequest.id))).scalar_one() == 0


def test_cli_rejects_history_days_out_of_range():
    from zhijiao.cli import build_parser

    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--history-days", "400"])
    assert parser.parse_args(["demo", "--history-days", "7"]).history_days == 7
