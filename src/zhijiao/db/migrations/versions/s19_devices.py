"""devices, positioning proposals, camera address

Revision ID: s19_devices
Revises: s19_zones
Create Date: 2026-12-07 14:02:57.674967
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import zhijiao.db.base


revision = 's19_devices'
down_revision = 's19_zones'
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=200), nullable=True))

    with op.batch_alter_table('device_bindings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unbound_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('unbind_reason', sa.String(length=200), nullable=True))

    with op.batch_alter_table('positioning_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='approved', nullable=False))
        batch_op.add_column(sa.Column('proposed_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('proposed_by_name', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('proposed_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decision_note', sa.String(length=500), nullable=True))
        batch_op.alter_column('approved_by_name',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)
        batch_op.alter_column('approved_at',
               existing_type=zhijiao.db.base.UTCDateTime(timezone=True),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_positioning_orders_status'), ['status'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_positioning_orders_proposed_by_id_staff'), 'staff', ['proposed_by_id'], ['id'])




def downgrade() -> None:

    with op.batch_alter_table('positioning_orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_positioning_orders_proposed_by_id_staff'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_positioning_orders_status'))
        batch_op.alter_column('approved_at',
               existing_type=zhijiao.db.base.UTCDateTime(timezone=True),
               nullable=False)
        batch_op.alter_column('approved_by_name',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.drop_column('decision_note')
        batch_op.drop_column('proposed_at')
        batch_op.drop_column('proposed_by_name')
        batch_op.drop_column('proposed_by_id')
        batch_op.drop_column('status')

    with op.batch_alter_table('device_bindings', schema=None) as batch_op:
        batch_op.drop_column('unbind_reason')
        batch_op.drop_column('unbound_by')

    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.drop_column('address')


