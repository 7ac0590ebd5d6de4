"""Migration s20_secpos (issue 20 item 11): stored JT/T 808 terminal numbers become canonical;
two devices that would become the same number refuse the migration; on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from zhijiao.core import clock
from zhijiao.db import migrate
from zhijiao.db import session as dbsession

BEFORE = "s20_secdata"


@pytest.fixture
def empty_database(backend, tmp_path, request):
    """A database with no schema (each test migrates it itself)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    admin_url = request.getfixturevalue("postgres_url").rsplit("/", 1)[0] + "/postgres"
    name = f"zhijiao_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin_url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _devices(url: str, *rows: tuple[str, str]):
    engine = dbsession.make_engine(url)
    with engine.begin() as conn:
        for protocol, ident in rows:
            conn.execute(text("INSERT INTO devices (kind, protocol, ident, model_profile, active, created_at, "
                              "updated_at) VALUES ('bracelet', :p, :i, 'default_bracelet', true, :t, :t)"),
                         {"p": protocol, "i": ident, "t": clock.now()})
    return engine


def test_stored_terminal_numbers_become_canonical(empty_database):
    migrate.upgrade(empty_database, BEFORE)
    engine = _devices(empty_database, ("jt808", "013912345678"), ("jt808", "00000000013800138000"),
                      ("jt808", "T-1"), ("mqtt", "0077"))
    migrate.upgrade(empty_database)
    with engine.connect() as conn:
        idents = conn.execute(text("SELECT ident FROM devices ORDER BY id")).scalars().all()
        assert idents == ["13912345678", "13800138000", "T-1", "0077"]  # no number, not JT/T 808: as they were
        assert conn.execute(text("SELECT count(*) FROM alarms WHERE past_episode = false")).scalar_one() == 0
    migrate.command.downgrade(migrate.alembic_config(empty_database), BEFORE)
    migrate.upgrade(empty_database)
    engine.dispose()


def test_numbers_that_collide_after_normalising_refuse_the_migration(empty_database):
    migrate.upgrade(empty_database, BEFORE)
    engine = _devices(empty_database, ("jt808", "013912345678"), ("jt808", "13912345678"))
    with pytest.raises(RuntimeError) as refused:
        migrate.upgrade(empty_database)
    message = str(refused.value)
    assert "迁移 s20_secpos 已中止" in message and "013912345678" in message and "前导 0" in message
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == BEFORE
        assert sorted(conn.execute(text("SELECT ident FROM devices")).scalars()) == ["013912345678", "13912345678"]
    engine.dispose()
