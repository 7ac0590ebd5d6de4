"""The audit trail: one mechanism for every write, plus explicit access records.

A ``after_flush`` listener turns every new, changed and deleted object (with its
attribute history) into an audit row inside the same transaction, so a write and its
audit row commit or roll back together. Services call :func:`access` where they reveal
a full identity, a biometric or a track. Each row is chained to the previous one with
HMAC-SM3 (key outside the database); :func:`verify_chain` finds the first break.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, inspect, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import NO_VALUE

from zhijiao.core import clock
from zhijiao.db.base import Base
from zhijiao.security.actor import Actor
from zhijiao.security.crypto import SENSITIVE_TYPES, get_keyring
from zhijiao.security.models import AuditEvent, AuditHead

MASK = "***"
_process_actor: Actor | None = None


def set_process_actor(name: str) -> None:
    """Name the process (``cli:worker`` …) on audit rows of sessions with no actor bound."""
    global _process_actor
    _process_actor = Actor.system(name)
_PENDING = "audit_pending"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _sensitive_keys(obj: Base) -> set[str]:
    mapper = inspect(obj).mapper
    return {
        attr.key
        for attr in mapper.column_attrs
        if any(isinstance(c.type, SENSITIVE_TYPES) or c.info.get("sensitive") for c in attr.columns)
    }


def _object_changes(obj: Base, action: str) -> dict[str, Any]:
    state = inspect(obj)
    sensitive = _sensitive_keys(obj)
    out: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        hist = state.attrs[key].history
        if action == "update":
            if not hist.has_changes():
                continue
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            out[key] = [MASK, MASK] if key in sensitive else [_jsonable(old), _jsonable(new)]
        else:
            value = state.attrs[key].loaded_value
            if value is NO_VALUE:
                continue
            out[key] = MASK if key in sensitive and value is not None else _jsonable(value)
    return out


def _object_id(obj: Base) -> str | None:
    # The identity key is not yet assigned to new objects in after_flush; the attributes are.
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return None if any(k is None for k in key) else ",".join(str(k) for k in key)


@dataclass(slots=True)
class _Row:
    object_type: str
    object_id: str | None
    action: str
    changes: dict[str, Any] | None


def _collect(session: Session) -> list[_Row]:
    rows: list[_Row] = []
    for obj in session.new:
        if getattr(obj, "__audited__", False):
            rows.append(_Row(obj.__tablename__, _object_id(obj), "create", _object_changes(obj, "create")))
    for obj in session.dirty:
        if getattr(obj, "__audited__", False) and session.is_modified(obj, include_collections=False):
            changes = _object_changes(obj, "update")
            if changes:
                rows.append(_Row(obj.__tablename__, _object_id(obj), "update", changes))
    for obj in session.deleted:
        if getattr(obj, "__audited__", False):
            rows.append(_Row(obj.__tablename__, _object_id(obj), "delete", _object_changes(obj, "delete")))
    return rows


def _canonical(seq: int, at: datetime, actor: Actor, row: _Row, prev_mac: str) -> bytes:
    payload = [
        seq, at.isoformat(), actor.kind, actor.username, actor.staff_id, actor.role,
        actor.request_id, actor.client_ip, row.object_type, row.object_id, row.action,
        row.changes, prev_mac,
    ]
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _append(session: Session, rows: Iterable[_Row]) -> None:
    rows = list(rows)
    if not rows:
        return
    actor: Actor = session.info.get("actor") or _process_actor or Actor.system("unattributed")
    conn = session.connection()
    # Lock the head row first: PostgreSQL takes a row lock, SQLite the write lock, so
    # concurrent writers extend the chain one after another.
    conn.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
    head = conn.execute(select(AuditHead.seq, AuditHead.mac).where(AuditHead.id == 1)).first()
    if head is None:
        conn.execute(insert(AuditHead).values(id=1, seq=0, mac=""))
        seq, prev = 0, ""
    else:
        seq, prev = head.seq, head.mac
    ring = get_keyring()
    at = clock.now()
    values = []
    for row in rows:
        seq += 1
        mac = ring.audit_mac(_canonical(seq, at, actor, row, prev))
        values.append(
            dict(
                seq=seq, at=at, actor_kind=actor.kind, actor_name=actor.username,
                actor_id=actor.staff_id, role=actor.role, request_id=actor.request_id,
                client_ip=actor.client_ip, object_type=row.object_type, object_id=row.object_id,
                action=row.action, changes=row.changes, prev_mac=prev, mac=mac,
            )
        )
        prev = mac
    conn.execute(insert(AuditEvent), values)
    conn.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, mac=prev))


def after_flush(session: Session, _ctx) -> None:
    """Called by the listener that :mod:`zhijiao.db.session` installs at import on every session."""
    _append(session, _collect(session))


def access(
    session: Session, *, object_type: str, object_id: Any, action: str = "access", detail: dict | None = None
) -> None:
    """Record that personal data was revealed (full identity, biometrics, a track, an export)."""
    _append(session, [_Row(object_type, None if object_id is None else str(object_id), action, detail)])


def record(session: Session, *, object_type: str, object_id: Any, action: str, detail: dict | None = None) -> None:
    """Record a security event that is not a row change (login, authorisation failure)."""
    access(session, object_type=object_type, object_id=object_id, action=action, detail=detail)


def install() -> None:
    """Kept for callers: the listener is installed at import of :mod:`zhijiao.db.session`."""
    import zhijiao.db.session  # noqa: F401


@dataclass
class ChainBreak:
    seq: int | None
    reason: str


def verify_chain(session: Session, batch: int = 5000) -> ChainBreak | None:
    """Walk the chain; return the first altered, removed or inserted row, or None."""
    ring = get_keyring()
    prev, expected_seq, last_id = "", 1, 0
    first = True
    while True:
        rows = session.execute(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for ev in rows:
            last_id = ev.id
            if first and ev.seq != 1:
                # Purged prefix: the retention job deletes only whole old prefixes.
                prev, expected_seq = ev.prev_mac, ev.seq
            first = False
            if ev.seq != expected_seq:
                return ChainBreak(expected_seq, f"第 {expected_seq} 条审计记录缺失或顺序被改动")
            if ev.prev_mac != prev:
                return ChainBreak(ev.seq, f"第 {ev.seq} 条审计记录的前序校验值不符（前一条被删除或插入）")
            actor = Actor(kind=ev.actor_kind, username=ev.actor_name, staff_id=ev.actor_id, role=ev.role,
                          request_id=ev.request_id, client_ip=ev.client_ip)
            row = _Row(ev.object_type, ev.object_id, ev.action, ev.changes)
            if ring.audit_mac(_canonical(ev.seq, ev.at, actor, row, prev)) != ev.mac:
                return ChainBreak(ev.seq, f"第 {ev.seq} 条审计记录内容被篡改")
            prev, expected_seq = ev.mac, ev.seq + 1
        session.expunge_all()
    head = session.execute(select(AuditHead)).scalar_one_or_none()
    if head is not None and (head.seq != expected_seq - 1 or head.mac != prev):
        return ChainBreak(head.seq, "审计链末端与链头不一致（末尾记录被删除）")
    return None


RETENTION_DAYS = 183  # 网络安全法 第二十一条: network logs are kept at least six months


PURGE_BATCH = 5000  # rows per transaction: a purge of a year's log never holds the write lock for long


def purge(session: Session, retention_days: int = RETENTION_DAYS) -> int:
    """Delete audit rows older than the retention period (never younger: the database refuses).

    Only a prefix of the chain goes, so :func:`verify_chain` still verifies what remains; it goes
    from the oldest on, :data:`PURGE_BATCH` rows per committed transaction, so a purge stopped
    half-way leaves a shorter prefix and the next one goes on from there.
    """
    if retention_days < RETENTION_DAYS:
        raise ValueError(f"audit rows must be kept at least {RETENTION_DAYS} days")
    cutoff = clock.now() - timedelta(days=retention_days)
    first_young = session.execute(
        select(AuditEvent.seq).where(AuditEvent.at >= cutoff).order_by(AuditEvent.seq).limit(1)
    ).scalar_one_or_none()
    total = 0
    while (oldest := session.execute(select(func.min(AuditEvent.seq)).where(AuditEvent.at < cutoff)).scalar()) is not None:
        upto = oldest + PURGE_BATCH if first_young is None else min(oldest + PURGE_BATCH, first_young)
        deleted = session.execute(delete(AuditEvent).where(AuditEvent.at < cutoff, AuditEvent.seq < upto)).rowcount or 0
        session.commit()
        if not deleted:
            break
        total += deleted
    session.commit()
    return total
