"""Long jobs commit in bounded chunks with a checkpoint: a run that stopped resumes where it
was, and a second run adds nothing (both databases)."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

from sqlalchemy import func, select

from tests import factories as f
from zhijiao.core import clock
from zhijiao.jobs import service as jobs
from zhijiao.jobs.models import JobRun
from zhijiao.security import audit
from zhijiao.security.actor import Actor
from zhijiao.supervision import scheduled
from zhijiao.supervision.reception import service as reception_service
from zhijiao.tasks.models import Task


def _tasks(db) -> int:
    db.expire_all()
    return db.execute(select(func.count()).select_from(Task).where(Task.kind == "report_overdue")).scalar_one()


def test_a_stopped_scan_resumes_at_its_checkpoint_and_adds_nothing_twice(db, monkeypatch):
    monkeypatch.setattr(jobs, "SQLITE_GAP_S", 0.0)
    office = f.office(db)
    late = [f.subject(db, office, judgment_effective_date=clock.today_local() - timedelta(days=15)).id
            for _ in range(12)]
    job = dataclasses.replace(jobs.get_job(scheduled.JOB), chunk_budget=timedelta(0))  # a commit per subject
    real = reception_service.ensure_report_task
    seen: list[int] = []

    def dies_at_the_eighth(db_session, s, today=None):
        if len(seen) == 7:
            raise RuntimeError("the process went away")
        seen.append(s.id)
        return real(db_session, s, today)

    monkeypatch.setattr(reception_service, "ensure_report_task", dies_at_the_eighth)
    assert jobs.execute(job, owner="a")
    db.info["actor"] = Actor.system("tests")
    run = db.get(JobRun, scheduled.JOB)
    assert run.last_status == "failed"
    saved = json.loads(run.last_result)["checkpoint"]
    assert saved == {"day": clock.today_local().isoformat(), "phase": "report", "after": late[6]}
    assert _tasks(db) == 7  # what the chunks committed stays

    monkeypatch.setattr(reception_service, "ensure_report_task", real)
    assert jobs.execute(job, owner="b", force=True)
    db.expire_all()
    run = db.get(JobRun, scheduled.JOB)
    result = json.loads(run.last_result)
    assert run.last_status == "ok" and result["report_overdue"] == 5  # only the rest
    assert result["transactions"] >= 5 and "checkpoint" not in result
    assert _tasks(db) == 12

    assert jobs.execute(job, owner="c", force=True)  # from the start: keyed tasks, nothing new
    db.expire_all()
    assert json.loads(db.get(JobRun, scheduled.JOB).last_result)["report_overdue"] == 12
    assert _tasks(db) == 12
    assert audit.verify_chain(db) is None


def test_a_chunk_commits_when_its_budget_is_used(db, monkeypatch):
    monkeypatch.setattr(jobs, "SQLITE_GAP_S", 0.0)
    office = f.office(db)
    db.info["actor"] = Actor.system("tests")
    chunks = jobs.Chunks(db, budget=timedelta(hours=1))
    chunks.step(after=1)
    db.add(Task(key="t:1", kind="duty", title="谈话", due_on=clock.today_local(), office_id=office.id, status="open",
                created_at=clock.now()))
    db.flush()
    chunks.step(after=2)
    assert chunks.commits == 0  # within the budget
    quick = jobs.Chunks(db, budget=timedelta(0))
    quick.step(after=3)
    assert quick.commits == 1 and not db.in_transaction()
    assert db.get(Task, 1) is not None and quick.figures()["transactions"] == 1
