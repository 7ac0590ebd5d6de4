"""scheduled jobs: lease and last run per job

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 20:40:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import zhijiao.db.base


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('lease_until', zhijiao.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('owner', sa.String(length=64), nullable=True),
    sa.Column('last_started_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_finished_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.String(length=8), nullable=True),
    sa.Column('last_result', sa.Text(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_runs'))
    )


def downgrade() -> None:
    op.drop_table('job_runs')
