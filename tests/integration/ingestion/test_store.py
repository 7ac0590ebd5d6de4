"""The fix store's own connection: kept between batches, replaced when the database drops it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bound_devices import INSIDE, bind_device
from sqlalchemy import func, select, text

from zhijiao.core import clock
from zhijiao.db import session as dbsession
from zhijiao.ingestion.directory import Directory
from zhijiao.core.fix import Fix
from zhijiao.ingestion.store import FixStore
from zhijiao.monitoring.models import FixRecord
from zhijiao.security.actor import Actor

IDENT = "13900009101"


def _fix(at) -> Fix:
    return Fix(device_ident=IDENT, fix_time=at, lat=INSIDE[0], lon=INSIDE[1], received_at=clock.now())


def _stored(db) -> int:
    db.info["actor"] = Actor.system("test")
    return db.execute(select(func.count()).select_from(FixRecord)).scalar_one()


@pytest.fixture
def store():
    directory = Directory()
    s = FixStore(directory)
    yield s
    s.close()
    directory.close()


def test_batches_reuse_one_connection_and_stay_idempotent(client, db, backend, store):
    bind_device(client, db, protocol="jt808", ident=IDENT)
    now = clock.now().replace(microsecond=0)
    assert len(store.store([_fix(now - timedelta(seconds=30))])) == 1
    held = store._held
    assert len(store.store([_fix(now), _fix(now - timedelta(seconds=30))])) == 1  # the resend is skipped
    assert store._held is held  # PostgreSQL: the same connection (None on SQLite: the pool's)
    assert (held is None) == (backend == "sqlite")
    if held is not None:
        # its own staging table, created once (a temp table is visible only to its session)
        assert held[1].connection.driver_connection.execute(
            "SELECT to_regclass('pg_temp.fixes_stage') IS NOT NULL").fetchone() == (True,)
    assert _stored(db) == 2


@pytest.mark.parametrize("backend", ["postgres"])  # SQLite has no server to drop a connection
def test_a_connection_the_database_dropped_is_replaced(client, db, backend, store):
    """A database restart (or an administrator's kill) between batches must not fail the next
    one: the devices would get a failure and resend, but nothing is wrong with their fixes."""
    bind_device(client, db, protocol="jt808", ident=IDENT)
    now = clock.now().replace(microsecond=0)
    store.store([_fix(now - timedelta(seconds=60))])
    pid = store._held[1].connection.driver_connection.info.backend_pid
    with dbsession.get_engine().connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    assert len(store.store([_fix(now - timedelta(seconds=30)), _fix(now)])) == 2
    assert store.counters["stored"] == 3 and _stored(db) == 3
    assert store._held[1].connection.driver_connection.info.backend_pid != pid
