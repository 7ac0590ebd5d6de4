"""kiosk: server-issued single-use liveness challenges

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 20:55:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import zhijiao.db.base


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kiosk_challenges',
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('kiosk', sa.String(length=64), nullable=False),
    sa.Column('issued_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_kiosk_challenges'))
    )
    op.create_index('ix_kiosk_challenges_expires_at', 'kiosk_challenges', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_kiosk_challenges_expires_at', table_name='kiosk_challenges')
    op.drop_table('kiosk_challenges')
