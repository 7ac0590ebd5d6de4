"""The durable hand-off: resolve, dedupe, flag and commit fixes in one batched transaction.

A fix is acknowledged to its device only after :meth:`FixStore.store` returned, so the
commit is the promise. Storing is idempotent: ``(device_id, fix_time)`` is unique and a
resent fix is skipped by the database (``ON CONFLICT DO NOTHING``), so only new fixes go on
to the rules.
"""

from __future__ import annotations

import collections
import logging
import threading
from datetime import UTC, datetime
from collections.abc import Iterable

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.dialects import postgresql, sqlite

from zhijiao.core import clock
from zhijiao.db import session as dbsession
from zhijiao.ingestion.directory import DeviceEntry, Directory
from zhijiao.core.fix import Fix, from_the_future
from zhijiao.monitoring.models import FLAG_BACKFILL, FLAG_NO_ORDER, FLAG_NOISY, FixRecord

log = logging.getLogger(__name__)

MAX_ACCURACY_M = 1000.0  # worse than this is kept but marked noisy


def flags_for(fix: Fix, entry: DeviceEntry) -> int:
    flags = 0
    if fix.backfill:
        flags |= FLAG_BACKFILL
    if fix.extras.get("positioned") is False or fix.effective_accuracy_m > MAX_ACCURACY_M:
        flags |= FLAG_NOISY
    if not entry.order_in_force:
        flags |= FLAG_NO_ORDER
    return flags


class FixStore:
    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.counters: collections.Counter[str] = collections.Counter()
        self._table: Table = FixRecord.__table__  # type: ignore[assignment]
        # PostgreSQL: one connection kept for the store, so a batch costs no pool checkout (with
        # its pre-ping round trip) and no re-creation of the staging table.
        self._lock = threading.Lock()
        self._held: tuple[Engine, Connection] | None = None

    def close(self) -> None:
        with self._lock:
            self._release()

    def _release(self, *, broken: bool = False) -> None:
        held, self._held = self._held, None
        if held is not None:
            try:
                if broken:  # never back to the pool: its staging table may have gone with the rollback
                    held[1].invalidate()
                held[1].close()
            except Exception:  # noqa: BLE001 - a dead connection may fail to close; it is dropped
                log.debug("fix store connection did not close cleanly", exc_info=True)

    def _connection(self, engine: Engine) -> Connection:
        if self._held is not None and self._held[0] is not engine:  # the database was reconfigured
            self._release()
        if self._held is None:
            self._held = (engine, engine.connect())
        return self._held[1]

    def _store_postgresql(self, engine: Engine, rows: list[tuple]) -> set[tuple[int, object]] | None:
        with self._lock:
            try:
                return self._copy_held(engine, rows)
            except DBAPIError as exc:
                # Nothing was committed. A connection lost while idle (a database restart) is
                # retried once on a fresh one; anything else fails the batch (devices resend).
                if not exc.connection_invalidated:
                    raise
                return self._copy_held(engine, rows)

    def _copy_held(self, engine: Engine, rows: list[tuple]) -> set[tuple[int, object]] | None:
        conn = self._connection(engine)
        try:
            with conn.begin():
                return _copy_insert(conn, rows)
        except BaseException:
            self._release(broken=True)
            raise

    def _insert(self, dialect: str):
        module = postgresql if dialect == "postgresql" else sqlite
        stmt = module.insert(self._table).on_conflict_do_nothing(index_elements=["device_id", "fix_time"])
        return stmt.returning(self._table.c.device_id, self._table.c.fix_time)

    def resolve(self, fixes: Iterable[Fix]) -> list[tuple[Fix, DeviceEntry]]:
        out = []
        for fix in fixes:
            entry = self.directory.get(fix.device_ident)
            if entry is None or not entry.active:
                self.counters["unknown_device"] += 1
                continue
            fix.device_id, fix.subject_id = entry.device_id, entry.subject_id
            out.append((fix, entry))
        return out

    def store(self, fixes: list[Fix]) -> list[Fix]:
        """Commit the batch; return the fixes that were new, in arrival order."""
        now = clock.now()
        future = [f for f in fixes if from_the_future(f.fix_time, now)]
        if future:  # every input path ends here: none stores a fix dated ahead of the clock
            self.counters["future"] += len(future)
            fixes = [f for f in fixes if not from_the_future(f.fix_time, now)]
        resolved = self.resolve(fixes)
        if not resolved:
            return []
        now = clock.now()
        rows, seen, batch = [], set(), []
        for fix, entry in resolved:
            key = (fix.device_id, fix.fix_time)
            if key in seen:  # a duplicate inside the batch itself
                self.counters["duplicate"] += 1
                continue
            seen.add(key)
            if fix.received_at is None:
                fix.received_at = now
            fix.extras["flags"] = flags = flags_for(fix, entry)
            batch.append(fix)
            rows.append((fix.device_id, fix.subject_id, fix.fix_time, fix.received_at, fix.lat, fix.lon,
                         fix.accuracy_m, str(fix.source), fix.speed_kmh, fix.course_deg, fix.battery_pct,
                         fix.alarm_bits, flags))
        engine = dbsession.get_engine()
        if engine.dialect.name == "postgresql":
            inserted = self._store_postgresql(engine, rows)
            keys = [(f.device_id, f.fix_time) for f in batch] if inserted is not None else []
        else:
            with engine.begin() as conn:
                if engine.dialect.name == "sqlite":
                    inserted, keys = _sqlite_insert(conn, rows)
                else:
                    inserted = set(conn.execute(self._insert(engine.dialect.name),
                                                [dict(zip(_COLUMNS, r, strict=True)) for r in rows]).all())
                    keys = [(f.device_id, f.fix_time) for f in batch]
        if inserted is None or len(inserted) == len(batch):
            new = batch
        else:
            new = [f for f, key in zip(batch, keys, strict=True) if key in inserted]
        self.counters["stored"] += len(new)
        self.counters["duplicate"] += len(batch) - len(new)
        return new


_COLUMNS = ("device_id", "subject_id", "fix_time", "received_at", "lat", "lon", "accuracy_m", "source",
            "speed_kmh", "course_deg", "battery_pct", "alarm_bits", "flags")
_COPY_TYPES = ("int8", "int8", "timestamptz", "timestamptz", "float8", "float8", "float8", "text", "float8",
               "float8", "int2", "int8", "int2")
_STAGE = ("CREATE TEMP TABLE IF NOT EXISTS fixes_stage (device_id bigint, subject_id bigint, "
          "fix_time timestamptz, received_at timestamptz, lat float8, lon float8, accuracy_m float8, source text, "
          "speed_kmh float8, course_deg float8, battery_pct smallint, alarm_bits bigint, flags smallint) "
          "ON COMMIT DELETE ROWS")


_SQLITE_CHUNK = 1000  # rows per statement: 13 000 parameters, under SQLite's 32 766


def _sqlite_text(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (naive UTC), so the unique key matches its rows."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _sqlite_insert(conn, rows: list[tuple]) -> tuple[set[tuple[int, str]], list[tuple[int, str]]]:
    """SQLite: multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` on the raw connection.

    Several times faster than the ORM layer's executemany for thousands of rows; times are bound
    as the same text the ORM writes. Returns the keys inserted and the key of every row.
    """
    cols = ", ".join(_COLUMNS)
    one = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
    cursor = conn.connection.driver_connection.cursor()
    inserted: set[tuple[int, str]] = set()
    keys: list[tuple[int, str]] = []
    try:
        for start in range(0, len(rows), _SQLITE_CHUNK):
            chunk = rows[start : start + _SQLITE_CHUNK]
            params: list = []
            for r in chunk:
                fix_time = _sqlite_text(r[2])
                keys.append((r[0], fix_time))
                params.extend((r[0], r[1], fix_time, _sqlite_text(r[3]), *r[4:]))
            cursor.execute(
                f"INSERT INTO fixes ({cols}) VALUES {', '.join([one] * len(chunk))} "
                "ON CONFLICT (device_id, fix_time) DO NOTHING RETURNING device_id, fix_time", params)
            inserted.update(cursor.fetchall())
    finally:
        cursor.close()
    return inserted, keys


def _copy_insert(conn, rows: list[tuple]) -> set[tuple[int, object]] | None:
    """PostgreSQL: binary COPY into a session temp table, then one idempotent INSERT … SELECT.

    COPY moves rows several times faster than multi-row INSERT from Python (binary COPY about
    four times faster again than text); the final statement keeps ``ON CONFLICT DO NOTHING`` so
    resent fixes are still skipped, and returns the keys of the rows it did insert, or None when
    it inserted them all (the usual case: the keys are then not turned into Python objects).
    """
    cols = ", ".join(_COLUMNS)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        if not conn.info.get("fixes_stage"):  # a temp table lives as long as its connection
            cur.execute(_STAGE)
            conn.info["fixes_stage"] = True
        with cur.copy(f"COPY fixes_stage ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_COPY_TYPES)
            for r in rows:
                copy.write_row(r)
        cur.execute(
            f"INSERT INTO fixes ({cols}) SELECT {cols} FROM fixes_stage "
            "ON CONFLICT (device_id, fix_time) DO NOTHING RETURNING device_id, fix_time"
        )
        if cur.rowcount == len(rows):  # the stage holds this batch only, without duplicates
            return None
        return {(d, t.astimezone(UTC)) for d, t in cur.fetchall()}
