"""backfilled episodes as alarms of their own (alarms.past_episode); JT/T 808 terminal numbers in
their one canonical form (devices.ident without leading zeros)

``alarms.past_episode``: a backfilled episode that was already over when its data arrived, while
an alarm of its type was open, is an alarm of its own; the one-open-alarm index leaves such rows
out (see ``monitoring.alarms._record_past_episode``).

``devices.ident`` of JT/T 808 devices: stored as typed before (``013912345678``), while the
gateway looks numbers up without their leading zeros (``zhijiao.core.terminal``), so such a
terminal was told "no such terminal" forever. Each is rewritten to the canonical form. Two
devices that become the same number refuse the migration, naming them: an officer must decide
which one is real (deactivate or re-register the other) before it can run. A stored value that
is no number at all is left as it is (it could never connect; the registry shows it).

Revision ID: s20_secpos
Revises: s20_secdata
Create Date: 2026-12-07 15:10:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = 's20_secpos'
down_revision = 's20_secdata'
branch_labels = None
depends_on = None

OPEN_WHERE = "status != 'closed' AND past_episode = false"
OLD_OPEN_WHERE = "status != 'closed'"


class TerminalNumberCollision(RuntimeError):
    pass


def _canonical_idents(conn) -> dict[int, str]:
    """The JT/T 808 rows to rewrite (id → canonical number); refuses on a collision."""
    from zhijiao.core.terminal import BadTerminalNumber, canonical_terminal_number

    rows = conn.execute(sa.text("SELECT id, protocol, ident FROM devices")).all()
    taken: dict[str, list[tuple[int, str]]] = {}
    changes: dict[int, str] = {}
    for device_id, protocol, ident in rows:
        new = ident
        if protocol == "jt808":
            try:
                new = canonical_terminal_number(ident)
            except BadTerminalNumber:
                new = ident
        taken.setdefault(new, []).append((device_id, ident))
        if new != ident:
            changes[device_id] = new
    clashes = {n: found for n, found in taken.items() if len(found) > 1}
    if clashes:
        listed = "；".join(f"{n}：" + "、".join(f"设备 {i}（{ident}）" for i, ident in found)
                          for n, found in sorted(clashes.items()))
        raise TerminalNumberCollision(
            "迁移 s20_secpos 已中止：以下设备的 JT/T 808 终端手机号去掉前导 0 后相同，无法区分。"
            f"请先停用或更正其中一台再迁移。{listed} "
            f"(terminal numbers collide after removing leading zeros: {sorted(clashes)})")
    return changes


def upgrade() -> None:
    conn = op.get_bind()
    changes = _canonical_idents(conn)
    for device_id, ident in changes.items():
        conn.execute(sa.text("UPDATE devices SET ident = :ident WHERE id = :id"), {"ident": ident, "id": device_id})
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('past_episode', sa.Boolean(), nullable=False, server_default=sa.text('false')))
    op.drop_index('uq_alarms_open', table_name='alarms')
    op.create_index('uq_alarms_open', 'alarms', ['subject_id', 'type'], unique=True,
                    sqlite_where=sa.text(OPEN_WHERE), postgresql_where=sa.text(OPEN_WHERE))


def downgrade() -> None:
    # Past episodes still open would break the old index: they are closed first (the numbers
    # stay canonical, which the old gateway read too).
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE alarms SET status = 'closed', closed_by = 'system:downgrade' "
                         "WHERE past_episode = true AND status != 'closed'"))
    op.drop_index('uq_alarms_open', table_name='alarms')
    op.create_index('uq_alarms_open', 'alarms', ['subject_id', 'type'], unique=True,
                    sqlite_where=sa.text(OLD_OPEN_WHERE), postgresql_where=sa.text(OLD_OPEN_WHERE))
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.drop_column('past_episode')
