"""documents keep their render context (encrypted), template version and rendering time

Revision ID: s19_fonts
Revises: 0007
Create Date: 2026-12-07 14:00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import zhijiao.db.base
import zhijiao.security.crypto


revision = 's19_fonts'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('render_context', zhijiao.security.crypto.Encrypted(), nullable=True))
        batch.add_column(sa.Column('template_version', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('rendered_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('rendered_at')
        batch.drop_column('template_version')
        batch.drop_column('render_context')
