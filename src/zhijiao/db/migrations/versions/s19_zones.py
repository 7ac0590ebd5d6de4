"""zones: a zone may apply to one office's subjects (office_id)

Revision ID: s19_zones
Revises: s19_fonts
Create Date: 2026-12-07 14:30:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = 's19_zones'
down_revision = 's19_fonts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('zones') as batch:
        batch.add_column(sa.Column('office_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch.create_foreign_key(op.f('fk_zones_office_id_offices'), 'offices', ['office_id'], ['id'])
        batch.create_index(op.f('ix_zones_office_id'), ['office_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('zones') as batch:
        batch.drop_index(op.f('ix_zones_office_id'))
        batch.drop_constraint(op.f('fk_zones_office_id_offices'), type_='foreignkey')
        batch.drop_column('office_id')
