"""separation of duties (三员): accounts without a role until granted, one-time activations,
role changes to or from an administrator role waiting for a second administrator

Revision ID: s20_secsod
Revises: s20_secpos
Create Date: 2026-12-07 15:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import zhijiao.db.base


revision = 's20_secsod'
down_revision = 's20_secpos'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff') as batch:
        batch.alter_column('role', existing_type=sa.String(length=32), nullable=True)
        batch.add_column(sa.Column('activation_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('activation_expires_at', zhijiao.db.base.UTCDateTime(), nullable=True))
        batch.create_unique_constraint('uq_staff_activation_hash', ['activation_hash'])
    op.create_table(
        'role_changes',
        sa.Column('staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('from_role', sa.String(length=32), nullable=True),
        sa.Column('to_role', sa.String(length=32), nullable=True),
        sa.Column('office_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('requested_by', sa.String(length=64), nullable=False),
        sa.Column('requested_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('decided_by', sa.String(length=64), nullable=True),
        sa.Column('decided_at', zhijiao.db.base.UTCDateTime(), nullable=True),
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('created_at', zhijiao.db.base.UTCDateTime(), nullable=False),
        sa.Column('updated_at', zhijiao.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name='fk_role_changes_office_id_offices'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['staff.id'], name='fk_role_changes_requested_by_id_staff'),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name='fk_role_changes_staff_id_staff'),
        sa.PrimaryKeyConstraint('id', name='pk_role_changes'),
    )
    op.create_index('ix_role_changes_staff_id', 'role_changes', ['staff_id'])
    op.create_index('ix_role_changes_status', 'role_changes', ['status'])


def downgrade() -> None:
    op.drop_index('ix_role_changes_status', table_name='role_changes')
    op.drop_index('ix_role_changes_staff_id', table_name='role_changes')
    op.drop_table('role_changes')
    with op.batch_alter_table('staff') as batch:
        batch.drop_constraint('uq_staff_activation_hash', type_='unique')
        batch.drop_column('activation_expires_at')
        batch.drop_column('activation_hash')
        batch.alter_column('role', existing_type=sa.String(length=32), nullable=False)
