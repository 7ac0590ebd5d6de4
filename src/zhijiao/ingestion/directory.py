"""Who is behind each device identifier: device, subject, profile, order in force.

The ingestion hot path asks this in-memory map, never the database, for every fix. It is
reloaded from the database when devices, bindings, orders or zones change (the
``devices.changed`` event) and at least every ``max_age`` seconds.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhijiao.core import clock, events, topics
from zhijiao.db import session as dbsession
from zhijiao.monitoring import positioning
from zhijiao.monitoring import service as monitoring_service
from zhijiao.monitoring.models import Device, DeviceBinding, PositioningOrder
from zhijiao.security.actor import Actor


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    device_id: int
    ident: str
    protocol: str
    profile: str
    secret_hash: str | None
    active: bool
    subject_id: int | None
    order_in_force: bool


class Directory:
    def __init__(self, max_age: float = 60.0) -> None:
        self.max_age = max_age
        self._lock = threading.Lock()
        self._entries: dict[str, DeviceEntry] = {}
        self._by_id: dict[int, DeviceEntry] = {}
        self._loaded_at = 0.0
        # Change notices seen, and the last one a completed load includes: a reader never trusts
        # a load that started before the change it needs (a code claimed a moment ago).
        self._wanted = 1
        self._loaded = 0
        self.version = 0  # bumped on every reload, for caches derived from the entries
        self._off = events.on(topics.DIRECTORY, self._mark_dirty)

    def _mark_dirty(self, _payload: dict) -> None:
        self._wanted += 1

    def close(self) -> None:
        self._off()

    def _stale(self) -> bool:
        return self._loaded != self._wanted or time.monotonic() - self._loaded_at > self.max_age

    def get(self, ident: str) -> DeviceEntry | None:
        if self._stale():
            self.reload(only_if_stale=True)
        return self._entries.get(ident)

    def peek(self, ident: str) -> DeviceEntry | None:
        """The cached entry, never touching the database (for the event loop's hot path)."""
        return self._entries.get(ident)

    def by_device_id(self, device_id: int) -> DeviceEntry | None:
        if self._stale():
            self.reload(only_if_stale=True)
        return self._by_id.get(device_id)

    def entries(self) -> list[DeviceEntry]:
        if self._stale():
            self.reload(only_if_stale=True)
        return list(self._entries.values())

    def reload(self, *, only_if_stale: bool = False) -> None:
        with self._lock:
            if only_if_stale and not self._stale():
                return  # another thread loaded it while we waited
            wanted = self._wanted
            with dbsession.session_scope(Actor.system("ingestion-directory")) as db:
                entries = load(db)
            self._entries = entries
            self._by_id = {e.device_id: e for e in entries.values()}
            self._loaded_at = time.monotonic()
            self._loaded = wanted
            self.version += 1


def load(db: Session) -> dict[str, DeviceEntry]:
    today = clock.today_local()
    bindings = {b.device_id: b.subject_id for b in db.execute(
        select(DeviceBinding).where(DeviceBinding.end_at.is_(None))).scalars()}
    orders: dict[int, list[positioning.OrderPeriod]] = {}
    for o in db.execute(select(PositioningOrder).where(
            PositioningOrder.end_date >= today, PositioningOrder.status == positioning.APPROVED)).scalars():
        revoked = clock.to_local(o.revoked_at).date() if o.revoked_at else None
        orders.setdefault(o.subject_id, []).append(positioning.OrderPeriod(o.start_date, o.end_date, revoked))
    out = {}
    for d in db.execute(select(Device)).scalars():
        subject_id = bindings.get(d.id)
        out[d.ident] = DeviceEntry(
            device_id=d.id, ident=d.ident, protocol=d.protocol, profile=d.model_profile,
            secret_hash=d.secret_hash, active=d.active, subject_id=subject_id,
            order_in_force=subject_id is not None and positioning.in_force(orders.get(subject_id, ()), today),
        )
    return out


def check_secret(entry: DeviceEntry | None, secret: str) -> bool:
    if entry is None or not entry.active or entry.secret_hash is None:
        return False
    return secrets.compare_digest(entry.secret_hash, monitoring_service.device_secret_hash(secret))
