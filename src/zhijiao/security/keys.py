"""Key management commands: create the key file, rotate the SM4 key and re-encrypt."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update

from zhijiao.config import get_settings
from zhijiao.db.base import Base
from zhijiao.db.session import session_scope
from zhijiao.security import audit
from zhijiao.security.actor import Actor
from zhijiao.security.crypto import SENSITIVE_TYPES, KeyRing, get_keyring, reset_keyring


def init() -> Path:
    path = Path(get_settings().key_file)  # type: ignore[arg-type]
    if path.exists():
        raise SystemExit(f"密钥文件已存在，拒绝覆盖: {path}")
    KeyRing.generate().save(path)
    reset_keyring()
    return path


def _encrypted_columns():
    import zhijiao.db.models  # noqa: F401 - registers every table

    for mapper in Base.registry.mappers:
        table = mapper.local_table
        cols = [c for c in table.columns if isinstance(c.type, SENSITIVE_TYPES)]
        if cols:
            yield table, cols


def rotate(batch: int = 500) -> int:
    """Add a new current key and re-encrypt every value still under an older key, in batches."""
    ring = get_keyring()
    ring.add_key()
    ring.save(Path(ring.path or get_settings().key_file))
    count = 0
    for table, cols in _encrypted_columns():
        pk = list(table.primary_key.columns)[0]
        last = None
        while True:
            with session_scope(Actor.system("keys-rotate")) as session:
                conn = session.connection()
                stmt = select(pk, *[c.label(c.name) for c in cols]).order_by(pk).limit(batch)
                if last is not None:
                    stmt = stmt.where(pk > last)
                rows = conn.execute(stmt).all()
                if not rows:
                    break
                done = 0
                for row in rows:
                    last = row[0]
                    # Reading decrypts with the value's own key; writing encrypts with the current one.
                    values = {c.name: getattr(row, c.name) for c in cols if getattr(row, c.name) is not None}
                    if values:
                        conn.execute(update(table).where(pk == row[0]).values(**values))
                        done += len(values)
                count += done
                # Core writes pass no object through the flush: one audit row per batch says what
                # was re-encrypted (no values), in the same transaction (issue 20 item 8).
                audit.record(session, object_type=table.name, object_id=None, action="reencrypt",
                             detail={"key": ring.current, "values": done, "from_id": str(rows[0][0]),
                                     "to_id": str(last)})
    return count
