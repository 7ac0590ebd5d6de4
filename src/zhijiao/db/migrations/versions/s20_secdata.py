"""encrypt at rest: leave_requests.contact_phone, staff.phone, documents.content (SM4-GCM);
subjects.is_minor derived from the dates, with the leader's override recorded

A file whose stored ``is_minor`` differs from what its birth and decision dates give keeps it, as
an override on record ("迁移前的手工标记"): the migration opens or closes no file by itself.

Existing rows are encrypted here with the current key of the key file (``ZHIJIAO_KEY_FILE``),
in batches. PostgreSQL changes the two phone columns to ``bytea`` first; SQLite keeps the
declared type (a column's affinity never converts a BLOB, so the ciphertext is stored as is and
no table with foreign keys pointing at it needs rebuilding).

Revision ID: s20_secdata
Revises: s19_devices
Create Date: 2026-12-07 14:40:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import zhijiao.db.base


revision = 's20_secdata'
down_revision = 's19_devices'
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


def _age_on(birth, on) -> int:
    return max(on.year - birth.year - ((on.month, on.day) <= (birth.month, birth.day)), 0)


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    for table, column, text in COLUMNS:
        if pg and text:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE bytea USING convert_to({column}, 'UTF8')")
        _convert(table, column, text, encrypt=True)
    with op.batch_alter_table('subjects') as batch:
        batch.add_column(sa.Column('minor_override', sa.Boolean(), nullable=True))
        batch.add_column(sa.Column('minor_override_reason', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('minor_override_by', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('minor_override_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=True))
    conn = op.get_bind()
    t = sa.table("subjects", sa.column("id", sa.BigInteger), sa.column("birth_date", sa.Date),
                 sa.column("judgment_effective_date", sa.Date), sa.column("is_minor", sa.Boolean),
                 sa.column("minor_override", sa.Boolean), sa.column("minor_override_reason", sa.String),
                 sa.column("minor_override_by", sa.String))
    for row in conn.execute(sa.select(t.c.id, t.c.birth_date, t.c.judgment_effective_date, t.c.is_minor)).all():
        derived = _age_on(row.birth_date, row.judgment_effective_date) < 18
        if bool(row.is_minor) != derived:
            conn.execute(sa.update(t).where(t.c.id == row.id).values(
                minor_override=bool(row.is_minor), minor_override_reason="迁移前的手工标记（按原状保留）",
                minor_override_by="system:migration"))


def downgrade() -> None:
    with op.batch_alter_table('subjects') as batch:
        for name in ('minor_override_at', 'minor_override_by', 'minor_override_reason', 'minor_override'):
            batch.drop_column(name)
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
