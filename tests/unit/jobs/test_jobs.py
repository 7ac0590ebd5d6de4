"""The scheduler: due times, one runner per job across processes, failures recorded, and the
jobs that feed alarms, roll calls and deadline tasks (both databases)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from tests import factories as f
from zhijiao.checkins import service as checkins_service
from zhijiao.checkins.models import RollCall
from zhijiao.core import clock, events
from zhijiao.jobs import service as jobs
from zhijiao.jobs.models import JobRun
from zhijiao.monitoring.models import Alarm
from zhijiao.security.actor import Actor
from zhijiao.security.models import SubjectCredential

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def _job(name: str, calls: list, **kw) -> jobs.Job:
    return jobs.Job(name, "测试任务", run=lambda db, now: calls.append(now) or {"n": len(calls)}, **kw)


def test_daily_threshold_is_the_last_local_slot() -> None:
    job = jobs.Job("x", "x", run=lambda db, now: None, daily_at=time(1, 0))
    # 10:00 local: the slot is 01:00 local today = 17:00 UTC the day before
    assert job.threshold(T0) == datetime(2026, 11, 29, 17, 0, tzinfo=UTC) - timedelta(microseconds=1)
    # 00:30 local (16:30 UTC): today's slot has not come, so yesterday's
    assert job.threshold(datetime(2026, 11, 29, 16, 30, tzinfo=UTC)) < datetime(2026, 11, 28, 17, 0, tzinfo=UTC)


def test_register_needs_exactly_one_schedule() -> None:
    with pytest.raises(ValueError):
        jobs.register(jobs.Job("bad", "bad", run=lambda db, now: None))


def test_a_due_job_runs_once_and_again_when_due(db) -> None:
    calls: list = []
    job = _job("t.every", calls, every=timedelta(minutes=5))
    assert jobs.execute(job, T0, owner="a")
    assert not jobs.execute(job, T0 + timedelta(minutes=1), owner="b")  # not due yet
    assert jobs.execute(job, T0 + timedelta(minutes=5), owner="b")
    assert len(calls) == 2
    db.info["actor"] = Actor.system("tests")
    row = db.get(JobRun, "t.every")
    assert (row.runs, row.last_status, row.last_result, row.lease_until) == (2, "ok", '{"n": 2}', None)


def test_a_held_lease_keeps_other_processes_out(db) -> None:
    calls: list = []
    job = _job("t.lease", calls, every=timedelta(minutes=1))
    db.info["actor"] = Actor.system("tests")
    assert jobs.claim(db, job, T0, "a")  # process a took it and is still running
    assert not jobs.execute(job, T0 + timedelta(minutes=2), owner="b")
    assert not jobs.execute(job, T0 + timedelta(minutes=2), owner="b", force=True)  # not even "run now"
    assert jobs.execute(job, T0 + job.lease + timedelta(seconds=1), owner="b")  # a died: its lease ran out
    assert len(calls) == 1


def test_a_failure_is_recorded_and_retried(db) -> None:
    attempts: list = []

    def boom(db_, now):
        attempts.append(now)
        raise RuntimeError("数据库暂不可用")

    job = jobs.Job("t.fail", "会失败的任务", run=boom, every=timedelta(minutes=1))
    assert jobs.execute(job, T0, owner="a")
    db.info["actor"] = Actor.system("tests")
    row = db.get(JobRun, "t.fail")
    assert (row.last_status, row.failures, row.lease_until) == ("failed", 1, None)
    assert "数据库暂不可用" in row.last_error
    assert jobs.execute(job, T0 + timedelta(minutes=1), owner="a")
    assert len(attempts) == 2


def test_registered_jobs_and_status(db) -> None:
    names = {j.name for j in jobs.jobs()}
    assert {"supervision.deadlines", "checkins.missed", "rollcalls.expire", "rollcalls.plan"} <= names
    db.info["actor"] = Actor.system("tests")
    rows = {r["name"]: r for r in jobs.status(db_session=db)}
    assert rows["rollcalls.expire"]["schedule"] == "每 1 分钟" and rows["rollcalls.expire"]["runs"] == 0
    assert rows["supervision.deadlines"]["schedule"] == "每日 01:00"


def test_run_due_runs_the_real_jobs(db) -> None:
    office = f.office(db)
    s = f.subject(db, office, status="under_correction", supervision_level="strict",
                  correction_start_date=date(2026, 1, 1))
    db.commit()
    seen: list[dict] = []
    off = events.on("alarms", seen.append)
    try:
        with clock.frozen(T0):
            ran = jobs.run_due(T0, owner="a")
    finally:
        off()
    assert {"supervision.deadlines", "checkins.missed", "rollcalls.expire", "rollcalls.plan"} <= set(ran)
    db.info["actor"] = Actor.system("tests")
    alarm = db.execute(select(Alarm).where(Alarm.subject_id == s.id)).scalar_one()
    assert alarm.type == "missed_checkin"
    # the alarm reached the event stream after the job committed (the command center hears it)
    assert [(e["subject_id"], e["type"]) for e in seen] == [(s.id, "missed_checkin")]
    assert jobs.run_due(T0 + timedelta(seconds=30), owner="a") == []  # nothing due again so soon


def _with_phone(db, subject) -> None:
    db.add(SubjectCredential(subject_id=subject.id, password_hash="x", set_at=clock.now(), set_by="tests"))
    db.commit()


def test_planned_rollcall_spreads_days_and_minutes() -> None:
    window = (time(9, 0), time(18, 0))
    every = {"strict": 1, "ordinary": 7, "lenient": 30}
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(140)]
    strict = [checkins_service.planned_rollcall(1, "strict", d, secret=b"k", every_days=every, window=window)
              for d in days]
    assert all(strict)  # every day
    local = [clock.to_local(t) for t in strict]
    assert all(time(9, 0) <= t.time() < time(18, 0) for t in local)
    assert len({t.time() for t in local}) > 100  # not the same minute every day
    ordinary = [d for d in days if checkins_service.planned_rollcall(2, "ordinary", d, secret=b"k", every_days=every,
                                                                     window=window)]
    assert 8 <= len(ordinary) <= 35  # about one day in seven
    assert checkins_service.planned_rollcall(1, "strict", days[0], secret=b"k", every_days={"strict": 0},
                                             window=window) is None
    other = checkins_service.planned_rollcall(1, "strict", days[0], secret=b"other", every_days=every, window=window)
    assert other != strict[0] or other is None  # the schedule depends on the server's secret


def test_plan_rollcalls_calls_once_a_day_within_the_window(db) -> None:
    office = f.office(db)
    strict = f.subject(db, office, status="under_correction", supervision_level="strict")
    no_phone = f.subject(db, office, status="under_correction", supervision_level="strict")
    _with_phone(db, strict)
    db.info["actor"] = Actor.system("tests")
    day = clock.to_local(T0).date()
    morning = clock.ensure_utc(datetime.combine(day, time(8, 30), tzinfo=clock.SHANGHAI))
    evening = clock.ensure_utc(datetime.combine(day, time(17, 59), tzinfo=clock.SHANGHAI))
    assert checkins_service.plan_rollcalls(db_session=db, now=morning) == []  # before the window
    called = checkins_service.plan_rollcalls(db_session=db, now=evening)
    assert called == [strict.id]  # strict: every day; without a phone login nobody can answer
    assert checkins_service.plan_rollcalls(db_session=db, now=evening + timedelta(seconds=30)) == []
    rc = db.execute(select(RollCall)).scalar_one()
    assert (rc.called_by, rc.status, rc.deadline - rc.called_at) == ("计划点名", "pending", timedelta(minutes=10))
    assert no_phone.id not in called
    # unanswered: the expiry job raises the missed_rollcall alarm
    assert checkins_service.expire_rollcalls(db_session=db, now=rc.deadline + timedelta(seconds=1)) == [rc.id]
    assert db.execute(select(func.count()).select_from(Alarm).where(Alarm.type == "missed_rollcall")).scalar() == 1
