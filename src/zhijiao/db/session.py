"""Engine and session factory: SQLite (WAL) embedded, PostgreSQL in production.

A writer waits for a lock at most :data:`LOCK_WAIT_S` (SQLite's busy timeout, PostgreSQL's
``lock_timeout``); long jobs commit in short transactions (``zhijiao.jobs``), so that wait is
short. What still cannot get the lock raises :class:`~zhijiao.core.errors.DatabaseBusy` (503 with
Retry-After), and :func:`run_unit` runs an idempotent unit of work again on a fresh transaction.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from zhijiao.config import MissingExtra, get_settings
from zhijiao.core.errors import DatabaseBusy

log = logging.getLogger(__name__)
T = TypeVar("T")

# The budget of one wait for a lock. Jobs hold the write lock for about a chunk's budget
# (200 ms), so a request that waits longer than this meets something stuck, not a job.
LOCK_WAIT_S = 10.0
# run_unit: how often an idempotent unit is tried, and the first pause between tries.
UNIT_ATTEMPTS = 4
UNIT_BACKOFF_S = 0.05

# SQLite: busy, locked (and their extended codes, such as BUSY_SNAPSHOT: a read-then-write
# transaction that another writer overtook, which SQLite reports at once, without waiting).
_SQLITE_BUSY = {5, 6}
# PostgreSQL: serialization failure, deadlock, lock_timeout (lock_not_available).
_PG_BUSY = {"40001", "40P01", "55P03"}

_engine: Engine | None = None
SessionLocal = sessionmaker(expire_on_commit=False, autoflush=True)


@event.listens_for(Session, "after_flush")
def _audit_after_flush(session: Session, ctx) -> None:
    """The audit trail, installed once for every session of every process at import.

    Every entry point (``serve``, ``worker``, ``gateway``, ``jobs run``, ``keys rotate``, a
    script) reaches the database through this module, so none writes without its audit rows
    (issue 20 item 8). Imported late: :mod:`zhijiao.security.audit` needs the models.
    """
    from zhijiao.security.audit import after_flush

    after_flush(session, ctx)


def make_engine(url: str, **kwargs) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # private (security.filemodes)
        # pysqlite's own transaction control stays: it sends BEGIN just before the first INSERT,
        # UPDATE or DELETE, so a unit of work reads outside a transaction and its first write waits
        # for the lock in the busy handler; no read-then-write transaction is left to fail at once
        # with BUSY_SNAPSHOT. run_unit retries what is left (a wait beyond the budget).
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": LOCK_WAIT_S}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(LOCK_WAIT_S * 1000)}")
            # Lets `name LIKE 'x%'` use the plain index (names have no letter case anyway).
            cur.execute("PRAGMA case_sensitive_like=ON")
            cur.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    # A lock wait ends within the budget with 55P03 (mapped to 503) instead of hanging a request.
    kwargs["connect_args"] = {"options": f"-c lock_timeout={int(LOCK_WAIT_S * 1000)}",
                              **kwargs.get("connect_args", {})}
    try:
        return create_engine(url, **kwargs)  # imports the driver
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] == "psycopg":
            raise MissingExtra("postgres") from exc
        raise


def configure(url: str | None = None) -> Engine:
    """(Re)bind the application to a database; tests call this per backend."""
    global _engine
    if _engine is not None:
        _engine.dispose()
    _engine = make_engine(url or str(get_settings().database_url))
    SessionLocal.configure(bind=_engine)
    return _engine


def get_engine() -> Engine:
    return _engine if _engine is not None else configure()


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` says the database was locked or busy (worth a retry), on either database."""
    if not isinstance(exc, DBAPIError) or exc.orig is None:
        return False
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_BUSY
    if getattr(exc.orig, "sqlstate", None) in _PG_BUSY:
        return True
    text = str(exc.orig).lower()
    return "database is locked" in text or "database table is locked" in text


@contextlib.contextmanager
def session_scope(actor=None) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on error; a lock not got is DatabaseBusy."""
    get_engine()
    session = SessionLocal()
    if actor is not None:
        session.info["actor"] = actor
    try:
        yield session
        session.commit()
    except BaseException as exc:
        session.rollback()
        if is_busy(exc):
            raise DatabaseBusy() from exc
        raise
    finally:
        session.close()


def run_unit(work: Callable[[Session], T], *, actor=None, attempts: int = UNIT_ATTEMPTS) -> T:
    """Run ``work(session)`` as one unit of work, again on a fresh transaction while the
    database is busy; ``work`` must be idempotent (it may have run and rolled back before).
    After ``attempts`` tries :class:`DatabaseBusy` goes up (503 with Retry-After)."""
    for attempt in range(1, attempts + 1):
        try:
            with session_scope(actor) as session:
                return work(session)
        except DatabaseBusy:
            if attempt == attempts:
                raise
            log.info("database busy; unit of work tried again (%d of %d)", attempt + 1, attempts)
            # Jittered, growing pauses: retries of several writers do not meet again.
            time.sleep(UNIT_BACKOFF_S * (2 ** (attempt - 1)) * (0.5 + random.random()))
    raise AssertionError("unreachable")
