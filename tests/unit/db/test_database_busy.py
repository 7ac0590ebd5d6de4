"""A lock not got within the wait budget is overload, never a fault: 503 with a Chinese message,
the stable code ``database_busy`` and a Retry-After, and nothing already committed is lost
(both databases). Idempotent units of work are tried again on a fresh transaction."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests import factories as f
from zhijiao.core.errors import DatabaseBusy
from zhijiao.db import session as dbsession
from zhijiao.security import audit
from zhijiao.security.actor import Actor
from zhijiao.security.models import AuditEvent

BUSY = {"code": "database_busy", "message": "系统繁忙，请稍后重试", "fields": {}}


@contextlib.contextmanager
def _write_lock_held(database_url: str, backend: str) -> Iterator[None]:
    """Another connection holds what every writing transaction needs: SQLite's write lock, or
    the audit chain's head row on PostgreSQL."""
    if backend == "sqlite":
        conn = sqlite3.connect(make_url(database_url).database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    with dbsession.get_engine().connect() as conn:
        conn.execute(text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))
        yield
        conn.rollback()


@pytest.fixture
def short_wait(engine, database_url, monkeypatch):
    """The same database with a lock budget of 0.3 s (10 s in production)."""
    monkeypatch.setattr(dbsession, "LOCK_WAIT_S", 0.3)
    return dbsession.configure(database_url)


def test_a_lock_not_got_answers_503_and_loses_nothing(db, database_url, backend, short_wait):
    officer = f.staff(db, "office_officer", f.office(db), totp_secret=None)
    db.info["actor"] = Actor.system("tests")
    committed = db.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    db.rollback()
    from zhijiao.main import create_app

    with TestClient(create_app(with_ui=False), raise_server_exceptions=False) as client:
        form = {"username": officer.username, "password": f.PASSWORD}
        with _write_lock_held(database_url, backend):
            r = client.post("/api/v1/auth/token", data=form)
        assert r.status_code == 503, r.text
        assert r.json() == BUSY
        assert r.headers["Retry-After"] == "2"
        # Nothing committed before went, the failed login left nothing half-written, and the
        # same login goes through once the lock is free.
        assert db.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == committed
        assert audit.verify_chain(db) is None
        db.rollback()
        assert client.post("/api/v1/auth/token", data=form).status_code == 200
    assert audit.verify_chain(db) is None


def test_a_unit_of_work_is_busy_when_the_lock_stays_held(db, database_url, backend, short_wait, monkeypatch):
    f.office(db)
    monkeypatch.setattr(dbsession, "UNIT_BACKOFF_S", 0.01)
    tries: list[int] = []

    def write(session) -> None:
        tries.append(1)
        f.office(session)

    with _write_lock_held(database_url, backend), pytest.raises(DatabaseBusy) as caught:
        dbsession.run_unit(write, actor=Actor.system("tests"), attempts=3)
    assert len(tries) == 3 and caught.value.status == 503
    assert caught.value.headers() == {"Retry-After": "2"}


def test_an_idempotent_unit_is_tried_again_after_a_busy_database(engine) -> None:
    calls: list[int] = []

    def flaky(session) -> str:
        calls.append(1)
        if len(calls) < 3:
            session.execute(text("SELECT 1"))
            raise OperationalError("UPDATE audit_head", {}, sqlite3.OperationalError("database is locked"))
        return "done"

    assert dbsession.run_unit(flaky, actor=Actor.system("tests")) == "done" and len(calls) == 3


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(("orig", "busy"), [
    (sqlite3.OperationalError("database is locked"), True),
    (_PgError("55P03"), True),  # lock_timeout
    (_PgError("40P01"), True),  # deadlock
    (_PgError("40001"), True),  # serialization failure
    (_PgError("23505"), False),  # a unique violation is a real conflict
    (sqlite3.OperationalError("no such table: x"), False),
])
def test_busy_errors_of_both_databases(orig, busy) -> None:
    assert dbsession.is_busy(OperationalError("SELECT 1", {}, orig)) is busy
