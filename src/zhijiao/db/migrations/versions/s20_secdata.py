"""encrypt at rest: leave_requests.contact_phone, staff.phone, documents.content (SM4-GCM)

Existing rows are encrypted here with the current key of the key file (``ZHIJIAO_KEY_FILE``),
in batches. PostgreSQL changes the two phone columns to ``bytea`` first; SQLite keeps the
declared type (a column's affinity never converts a BLOB, so the ciphertext is stored as is and
no table with foreign keys pointing at it needs rebuilding).

Revision ID: s20_secdata
Revises: s19_fonts
Create Date: 2026-12-07 14:40:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = 's20_secdata'
down_revision = 's19_fonts'
branch_labels = None
depends_on = None

# (table, column, whether the clear value is text)
COLUMNS = [("leave_requests", "contact_phone", True), ("staff", "phone", True), ("documents", "content", False)]
_MAGIC = b"Z1"
BATCH = 200


def _is_encrypted(value: bytes) -> bool:
    return value[:2] == _MAGIC and 0 < value[2] < 16 and value[3:3 + value[2]].startswith(b"k")


def _convert(table: str, column: str, text: bool, encrypt: bool) -> None:
    from zhijiao.security.crypto import get_keyring

    ring = get_keyring()
    conn = op.get_bind()
    t = sa.table(table, sa.column("id", sa.BigInteger), sa.column(column))
    col = t.c[column]
    last = 0
    while True:
        rows = conn.execute(
            sa.select(t.c.id, col).where(t.c.id > last, col.is_not(None)).order_by(t.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        for row_id, value in rows:
            last = row_id
            raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
            if encrypt:
                if _is_encrypted(raw):
                    continue
                new: bytes | str = ring.encrypt(raw)
            else:
                if not _is_encrypted(raw):
                    continue
                plain = ring.decrypt(raw)
                new = plain.decode("utf-8") if text else plain
            conn.execute(sa.update(t).where(t.c.id == row_id).values({column: new}))


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    for table, column, text in COLUMNS:
        if pg and text:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE bytea USING convert_to({column}, 'UTF8')")
        _convert(table, column, text, encrypt=True)


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    for table, column, text in COLUMNS:
        if pg and text:
            # Decrypt while still bytea, then back to text.
            from zhijiao.security.crypto import get_keyring

            ring = get_keyring()
            conn = op.get_bind()
            t = sa.table(table, sa.column("id", sa.BigInteger), sa.column(column))
            for row_id, value in conn.execute(sa.select(t.c.id, t.c[column]).where(t.c[column].is_not(None))).all():
                raw = value.encode() if isinstance(value, str) else bytes(value)
                if _is_encrypted(raw):
                    conn.execute(sa.update(t).where(t.c.id == row_id).values({column: ring.decrypt(raw)}))
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar(32) USING convert_from({column}, 'UTF8')")
        else:
            _convert(table, column, text, encrypt=False)
