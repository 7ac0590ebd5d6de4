"""Engine and session factory: SQLite (WAL) embedded, PostgreSQL in production."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from zhijiao.config import MissingExtra, get_settings

_engine: Engine | None = None
SessionLocal = sessionmaker(expire_on_commit=False, autoflush=True)


def make_engine(url: str, **kwargs) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # Lets `name LIKE 'x%'` use the plain index (names have no letter case anyway).
            cur.execute("PRAGMA case_sensitive_like=ON")
            cur.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
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


@contextlib.contextmanager
def session_scope(actor=None) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on error."""
    get_engine()
    session = SessionLocal()
    if actor is not None:
        session.info["actor"] = actor
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
