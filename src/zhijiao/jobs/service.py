"""Scheduled jobs: registry, due times, a lease per job in the database, and a run record.

A module registers its jobs in its own ``jobs.py`` (listed in :data:`JOB_MODULES`). Every
server process runs a :class:`Scheduler`; the lease row in ``job_runs`` makes exactly one of
them run a due job, and a process that dies mid-run only holds the job until its lease ends.
A job runs under ``Actor.system("job:<name>")`` (visible in the audit log) in a worker thread
and must be idempotent: a deadline scan that runs twice adds nothing the second time.

A job that writes much commits in :class:`Chunks`: transactions of at most the job's
``chunk_budget`` (every writing transaction holds the audit chain's head row, and on SQLite the
database's one write lock, until it commits), each with a checkpoint in the job's row, so that
logins, alarm actions and the fix pipeline get their turn between chunks and a run that stopped
resumes where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import os
import socket
import time as systime
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import event, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import NotFound
from zhijiao.db import session as dbsession
from zhijiao.jobs.models import JobRun
from zhijiao.security.actor import Actor

log = logging.getLogger(__name__)

JOB_MODULES: tuple[str, ...] = (
    "zhijiao.supervision.scheduled",
    "zhijiao.checkins.jobs",
    "zhijiao.jobs.audit",
)


# The longest a job's transaction may hold the write lock (measured per chunk); a Job may set its own.
CHUNK_BUDGET = timedelta(milliseconds=200)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    label: str  # what an administrator reads
    run: Callable[[Session, datetime], Any]  # returns a small JSON-able summary
    every: timedelta | None = None
    daily_at: time | None = None  # Asia/Shanghai; also runs once when never run before
    lease: timedelta = timedelta(minutes=10)  # longer than any chunk; renewed with each checkpoint
    chunk_budget: timedelta = CHUNK_BUDGET

    def threshold(self, now: datetime) -> datetime:
        """Due when the last start is at or before this instant."""
        if self.every is not None:
            return now - self.every
        assert self.daily_at is not None
        local = clock.to_local(now)
        slot = datetime.combine(local.date(), self.daily_at, tzinfo=clock.SHANGHAI)
        if slot > local:
            slot -= timedelta(days=1)
        return clock.ensure_utc(slot) - timedelta(microseconds=1)


_JOBS: dict[str, Job] = {}
_loaded = False


def register(job: Job) -> Job:
    if (job.every is None) == (job.daily_at is None):
        raise ValueError(f"job {job.name}: give exactly one of every= or daily_at=")
    _JOBS[job.name] = job
    return job


def jobs() -> list[Job]:
    global _loaded
    if not _loaded:
        for module in JOB_MODULES:
            importlib.import_module(module)
        _loaded = True
    return list(_JOBS.values())


def get_job(name: str) -> Job:
    for job in jobs():
        if job.name == name:
            return job
    raise NotFound(f"没有名为 {name} 的定时任务", code="job_not_found")


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def claim(db: Session, job: Job, now: datetime, owner: str, *, force: bool = False) -> bool:
    """Take the job's lease if it is due (or ``force``) and nobody holds it: one UPDATE, atomic."""
    if db.get(JobRun, job.name) is None:
        try:
            with db.begin_nested():
                db.add(JobRun(name=job.name, runs=0, failures=0))
        except IntegrityError:
            pass  # another process created it meanwhile
    free = or_(JobRun.lease_until.is_(None), JobRun.lease_until < now)
    due = or_(JobRun.last_started_at.is_(None), JobRun.last_started_at <= job.threshold(now))
    stmt = (update(JobRun).where(JobRun.name == job.name, free, *(() if force else (due,)))
            .values(lease_until=now + job.lease, owner=owner, last_started_at=now, runs=JobRun.runs + 1)
            .execution_options(synchronize_session=False))
    claimed = db.execute(stmt).rowcount == 1
    db.commit()
    return claimed


CHUNKS_KEY = "job_chunks"
# SQLite: a writer waiting for the lock polls (up to every 100 ms), so a job leaves it that
# long between chunks or it could take the lock again first, chunk after chunk. PostgreSQL
# queues lock waiters, so the next chunk waits behind them anyway.
SQLITE_GAP_S = 0.1


FIRST_WRITE = "first_write"  # session.info: when the open transaction first wrote (perf_counter)


def _first_write(session: Session, _ctx: Any) -> None:
    # The lock is held from the transaction's first write (its first flush) until it commits:
    # that is the time Chunks reports as the longest hold.
    session.info.setdefault(FIRST_WRITE, systime.perf_counter())


def _transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost one: committed or rolled back
        session.info.pop(FIRST_WRITE, None)


def checkpoint(db: Session, job: Job) -> dict[str, Any] | None:
    """Where a run of ``job`` that did not finish stopped (the cursor of its last chunk), or None."""
    text = db.execute(select(JobRun.last_result).where(JobRun.name == job.name)).scalar()
    try:
        saved = json.loads(text) if text else None
    except ValueError:
        return None
    return saved.get("checkpoint") if isinstance(saved, dict) else None


class Chunks:
    """Bounded transactions for a long job: call :meth:`step` after each small piece of work.

    When the transaction has run for the budget (from its first piece; a job that reads under
    ``no_autoflush`` writes only when it commits, so the lock is held for the final flush alone,
    which :meth:`figures` reports), ``step`` commits it together with the cursor
    it was given (the job's checkpoint, kept in ``job_runs.last_result`` while the job runs) and
    renews the lease. ``resume`` is the checkpoint of a run that stopped before it finished."""

    def __init__(self, db: Session, *, budget: timedelta = CHUNK_BUDGET, job: Job | None = None,
                 owner: str | None = None, now: datetime | None = None) -> None:
        self.db, self.budget_s, self.job, self.owner = db, budget.total_seconds(), job, owner
        self._lease_from = (now or clock.now(), systime.monotonic())  # the run's clock, which tests freeze
        self.commits = 0
        self.longest_s = 0.0
        self._commit_s = 0.0  # how long committing a chunk takes (the lock is held meanwhile)
        self._last_step = self._begun = systime.perf_counter()
        self.resume: dict[str, Any] | None = checkpoint(db, job) if job is not None else None
        dialect = db.get_bind().dialect.name
        self.gap_s = SQLITE_GAP_S if dialect == "sqlite" else 0.0
        if not event.contains(db, "after_flush", _first_write):
            event.listen(db, "after_flush", _first_write)
            event.listen(db, "after_transaction_end", _transaction_end)

    @property
    def _wrote(self) -> float | None:
        return self.db.info.get(FIRST_WRITE)

    def step(self, **cursor: Any) -> None:
        """The work up to ``cursor`` is done: commit it if another piece of work and the commit
        itself (as long as the last ones took) would take the transaction past its budget."""
        now = systime.perf_counter()
        piece, self._last_step = now - self._last_step, now
        if now - self._begun + piece + self._commit_s >= self.budget_s:
            self.commit(**cursor)

    def commit(self, **cursor: Any) -> None:
        if self.job is not None and cursor:
            self.db.execute(
                update(JobRun).where(JobRun.name == self.job.name, JobRun.owner == self.owner)
                .values(last_result=_summary({"checkpoint": cursor}), lease_until=self._lease_until())
                .execution_options(synchronize_session=False))
        wrote = self._wrote or systime.perf_counter()  # else only the checkpoint writes
        started = systime.perf_counter()
        self.db.commit()
        done = systime.perf_counter()
        self._commit_s = max(done - started, self._commit_s / 2)  # a slow commit is remembered a while
        self.commits += 1
        self.longest_s = max(self.longest_s, done - wrote)
        if self.gap_s:
            systime.sleep(self.gap_s)
        self._last_step = self._begun = systime.perf_counter()

    def _lease_until(self) -> datetime:
        assert self.job is not None
        start, mono = self._lease_from
        return start + timedelta(seconds=systime.monotonic() - mono) + self.job.lease

    def figures(self) -> dict[str, Any]:
        """Committed chunks and the longest time one of them held the write lock."""
        return {"transactions": self.commits, "longest_ms": round(self.longest_s * 1000)}


def chunks(db: Session) -> Chunks:
    """The chunks of the job running in ``db`` (with its checkpoint), or plain ones for a direct call."""
    found = db.info.get(CHUNKS_KEY)
    return found if isinstance(found, Chunks) else Chunks(db)


def _summary(result: Any) -> str | None:
    if result is None:
        return None
    try:
        text = json.dumps(result, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = json.dumps(str(result), ensure_ascii=False)
    return text[:2000]


def execute(job: Job, now: datetime | None = None, *, owner: str | None = None, force: bool = False,
            requested_by: str | None = None) -> bool:
    """Run ``job`` here if this process gets its lease; record the outcome. Returns whether it ran.

    ``force`` (an administrator's "run now") skips the due check but never a live lease."""
    now = now or clock.now()
    owner = owner or owner_id()
    if requested_by:
        log.info("job %s run on request of %s", job.name, requested_by)
    if not dbsession.run_unit(lambda db: claim(db, job, now, owner, force=force), actor=Actor.system("scheduler")):
        return False
    status, result, error = "ok", None, None

    def _run(db: Session) -> Any:
        # A retried run resumes from the checkpoint its committed chunks left.
        db.info[CHUNKS_KEY] = Chunks(db, budget=job.chunk_budget, job=job, owner=owner, now=now)
        out = job.run(db, now)
        db.commit()
        return out

    try:
        result = dbsession.run_unit(_run, actor=Actor.system(f"job:{job.name}"))
    except Exception as exc:  # noqa: BLE001 - a failed job is recorded, and runs again when due
        log.exception("job %s failed", job.name)
        status, error = "failed", f"{type(exc).__name__}: {exc}"[:500]

    def _finish(db: Session) -> None:
        values: dict[str, Any] = {"lease_until": None, "last_finished_at": clock.now(), "last_status": status,
                                  "last_error": error}
        if status == "failed":
            values["failures"] = JobRun.failures + 1
            # A checkpoint stays (the next run resumes there); an older run's summary does not.
            if checkpoint(db, job) is None:
                values["last_result"] = None
        else:
            values["last_result"] = _summary(result)
        db.execute(update(JobRun).where(JobRun.name == job.name, JobRun.owner == owner).values(**values)
                   .execution_options(synchronize_session=False))

    dbsession.run_unit(_finish, actor=Actor.system("scheduler"))
    return True


def run_due(now: datetime | None = None, *, owner: str | None = None) -> list[str]:
    """Every due job, one after another (blocking). Returns the names that ran here."""
    ran = []
    for job in jobs():
        if execute(job, now, owner=owner):
            ran.append(job.name)
    return ran


def status(*, db_session: Session) -> list[dict[str, Any]]:
    """Each job with its schedule and last run (the administrator's health view)."""
    rows = {r.name: r for r in db_session.execute(select(JobRun)).scalars()}
    out = []
    for job in jobs():
        r = rows.get(job.name)
        out.append({
            "name": job.name, "label": job.label,
            "schedule": (f"每 {int(job.every.total_seconds() // 60)} 分钟" if job.every
                         else f"每日 {job.daily_at.strftime('%H:%M')}" if job.daily_at else ""),
            "last_started_at": r.last_started_at if r else None, "last_finished_at": r.last_finished_at if r else None,
            "last_status": r.last_status if r else None, "last_result": r.last_result if r else None,
            "last_error": r.last_error if r else None, "runs": r.runs if r else 0, "failures": r.failures if r else 0,
            "running": bool(r and r.lease_until and r.lease_until > clock.now()),
        })
    return out


class Scheduler:
    """The asyncio loop of one process: every ``poll_s`` it runs what is due (in a thread)."""

    def __init__(self, *, poll_s: float = 20.0) -> None:
        self.poll_s = poll_s
        self.owner = owner_id()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(run_due, owner=self.owner)
            except Exception:  # noqa: BLE001 - the database may be briefly away; try again next round
                log.exception("scheduler round failed")
            await asyncio.sleep(self.poll_s)
