"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is used when ``ZHIJIAO_TEST_POSTGRES_URL`` is set or a server answers on
127.0.0.1:5432; each run gets a fresh database. With ``CI=true`` it is required.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="zhijiao-test-"))
# Always a fresh, absolute data dir: `make` exports ZHIJIAO_DATA_DIR=./var for the demo, and a
# relative path would point a server subprocess (other cwd) at another keyring.
os.environ["ZHIJIAO_DATA_DIR"] = str(_TMP / "data")
os.environ["ZHIJIAO_DEMO_MODE"] = "true"
os.environ.setdefault("ZHIJIAO_SECRET_KEY", "test-secret-" + uuid.uuid4().hex)
os.environ.setdefault("ZHIJIAO_JT808_ENABLED", "false")
os.environ.setdefault("ZHIJIAO_SCHEDULER_ENABLED", "false")  # tests run jobs explicitly (tests/unit/jobs)

from sqlalchemy import create_engine, text  # noqa: E402

from zhijiao.config import reset_settings  # noqa: E402
from zhijiao.db import migrate  # noqa: E402
from zhijiao.db import session as dbsession  # noqa: E402
from zhijiao.db.models import metadata  # noqa: E402
from zhijiao.security import audit  # noqa: E402

CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("ZHIJIAO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

reset_settings()
audit.install()


def _postgres_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def sqlite_template() -> Path:
    path = _TMP / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    problem = _postgres_available()
    if problem:
        if CI:
            pytest.fail(f"PostgreSQL is required in CI but not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    name = f"zhijiao_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    migrate.upgrade(url)
    yield url
    dbsession.get_engine().dispose()
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


_TABLES = None


def _truncate_postgres(engine) -> None:
    global _TABLES
    if _TABLES is None:
        _TABLES = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE"))
        conn.execute(text("INSERT INTO audit_head (id, seq, mac) VALUES (1, 0, '')"))


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, request, tmp_path: Path) -> str:
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "zhijiao.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(database_url: str, backend: str):
    eng = dbsession.configure(database_url)
    from zhijiao.settings import service as settings_service

    settings_service.invalidate(forget=True)
    if backend == "postgres":
        _truncate_postgres(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine):
    """A plain session (no actor bound); bind one with ``bind_actor`` or the factories."""
    session = dbsession.SessionLocal()
    yield session
    session.close()


@pytest.fixture
def app(engine):
    from zhijiao.main import create_app

    return create_app(with_ui=False)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    from zhijiao.security.auth import ip_limiter

    ip_limiter.reset()
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
