"""supervision: workflows, documents and tasks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 16:17:44.457396
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import zhijiao.db.base
import zhijiao.security.crypto


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document_counters',
    sa.Column('bureau_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('prefix', sa.String(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bureau_id'], ['bureaus.id'], name=op.f('fk_document_counters_bureau_id_bureaus')),
    sa.PrimaryKeyConstraint('bureau_id', 'prefix', 'year', name=op.f('pk_document_counters'))
    )
    op.create_table('announcements',
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=128), nullable=False),
    sa.Column('host', sa.String(length=64), nullable=False),
    sa.Column('present', sa.JSON(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_announcements_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcements'))
    )
    with op.batch_alter_table('announcements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcements_subject_id'), ['subject_id'], unique=False)

    op.create_table('correction_plans',
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('circumstances', sa.Text(), nullable=False),
    sa.Column('goals', sa.Text(), nullable=False),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('next_review_on', sa.Date(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_correction_plans_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_correction_plans')),
    sa.UniqueConstraint('subject_id', 'version', name='uq_correction_plans_subject_version')
    )
    with op.batch_alter_table('correction_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_plans_subject_id'), ['subject_id'], unique=False)

    op.create_table('daily_records',
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('hours', sa.Numeric(precision=5, scale=1, asdecimal=False), nullable=True),
    sa.Column('place', sa.String(length=128), nullable=True),
    sa.Column('counterpart', sa.String(length=128), nullable=True),
    sa.Column('result', sa.String(length=32), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_daily_records_staff_id_staff')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_daily_records_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_daily_records'))
    )
    with op.batch_alter_table('daily_records', schema=None) as batch_op:
        batch_op.create_index('ix_daily_records_subject_kind_on', ['subject_id', 'kind', 'occurred_on'], unique=False)

    op.create_table('documents',
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bureau_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('doc_date', sa.Date(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('source_type', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('created_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['bureau_id'], ['bureaus.id'], name=op.f('fk_documents_bureau_id_bureaus')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_documents_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('bureau_id', 'number', name='uq_documents_bureau_number')
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_sha256'), ['sha256'], unique=False)
        batch_op.create_index('ix_documents_source', ['source_type', 'source_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_subject_id'), ['subject_id'], unique=False)

    op.create_table('leave_requests',
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('office_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('frequent', sa.Boolean(), nullable=False),
    sa.Column('destination', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('companions', sa.String(length=200), nullable=True),
    sa.Column('contact_phone', sa.String(length=32), nullable=True),
    sa.Column('approver_level', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('decided_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('returned_on', sa.Date(), nullable=True),
    sa.Column('return_confirmed_by', sa.String(length=64), nullable=True),
    sa.Column('return_note', sa.Text(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff.id'], name=op.f('fk_leave_requests_decided_by_id_staff')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_leave_requests_office_id_offices')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['staff.id'], name=op.f('fk_leave_requests_requested_by_id_staff')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_leave_requests_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leave_requests'))
    )
    with op.batch_alter_table('leave_requests', schema=None) as batch_op:
        batch_op.create_index('ix_leave_requests_subject_status', ['subject_id', 'status'], unique=False)

    op.create_table('level_reviews',
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('current_level', sa.String(length=16), nullable=False),
    sa.Column('proposed_level', sa.String(length=16), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_level', sa.String(length=16), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('effective_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_level_reviews_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_level_reviews'))
    )
    with op.batch_alter_table('level_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_level_reviews_subject_id'), ['subject_id'], unique=False)

    op.create_table('monthly_assessments',
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('computed_score', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('breakdown', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('assessed_by', sa.String(length=64), nullable=False),
    sa.Column('assessed_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_monthly_assessments_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_assessments')),
    sa.UniqueConstraint('subject_id', 'month', name='uq_monthly_assessments_subject_month')
    )
    op.create_table('notifications',
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.String(length=24), nullable=False),
    sa.Column('sender', sa.String(length=24), nullable=False),
    sa.Column('action', sa.String(length=128), nullable=False),
    sa.Column('legal_basis', sa.String(length=256), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('done_by', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_notifications_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_subject_id'), ['subject_id'], unique=False)

    op.create_table('pre_sentence_assessments',
    sa.Column('office_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('person_name', sa.String(length=50), nullable=False),
    sa.Column('person_id_number', zhijiao.security.crypto.Encrypted(), nullable=True),
    sa.Column('is_minor', sa.Boolean(), nullable=False),
    sa.Column('entrusting_organ', sa.String(length=128), nullable=False),
    sa.Column('entrusted_on', sa.Date(), nullable=False),
    sa.Column('expedited', sa.Boolean(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('proposed_correction_type', sa.String(length=16), nullable=False),
    sa.Column('crime', sa.String(length=128), nullable=False),
    sa.Column('request_note', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('opinion', sa.String(length=16), nullable=True),
    sa.Column('opinion_note', sa.Text(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('completed_by', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_pre_sentence_assessments_office_id_offices')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_pre_sentence_assessments_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pre_sentence_assessments'))
    )
    with op.batch_alter_table('pre_sentence_assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pre_sentence_assessments_office_id'), ['office_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pre_sentence_assessments_subject_id'), ['subject_id'], unique=False)

    op.create_table('proposals',
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('basis', sa.String(length=256), nullable=False),
    sa.Column('decider', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('sent_on', sa.Date(), nullable=True),
    sa.Column('recipient', sa.String(length=128), nullable=True),
    sa.Column('answer_due', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('outcome_on', sa.Date(), nullable=True),
    sa.Column('outcome_ref', sa.String(length=128), nullable=True),
    sa.Column('outcome_note', sa.Text(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_proposals_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals'))
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposals_subject_id'), ['subject_id'], unique=False)

    op.create_table('receptions',
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('notified_on', sa.Date(), nullable=True),
    sa.Column('documents_received_on', sa.Date(), nullable=True),
    sa.Column('documents', sa.JSON(), nullable=False),
    sa.Column('identity_verified', sa.Boolean(), nullable=False),
    sa.Column('received_by', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_receptions_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receptions')),
    sa.UniqueConstraint('subject_id', name=op.f('uq_receptions_subject_id'))
    )
    op.create_table('tasks',
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('office_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('assignee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source_type', sa.String(length=32), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('created_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['staff.id'], name=op.f('fk_tasks_assignee_id_staff')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_tasks_office_id_offices')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_tasks_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks')),
    sa.UniqueConstraint('key', name=op.f('uq_tasks_key'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_assignee_status_due', ['assignee_id', 'status', 'due_on'], unique=False)
        batch_op.create_index('ix_tasks_office_status_due', ['office_id', 'status', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_subject_id'), ['subject_id'], unique=False)

    op.create_table('transfers',
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('to_agency', sa.String(length=128), nullable=False),
    sa.Column('to_address', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('consult_sent_on', sa.Date(), nullable=True),
    sa.Column('consult_deadline', sa.Date(), nullable=True),
    sa.Column('answer', sa.String(length=16), nullable=True),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('report_deadline', sa.Date(), nullable=True),
    sa.Column('handover_deadline', sa.Date(), nullable=True),
    sa.Column('handed_over_on', sa.Date(), nullable=True),
    sa.Column('new_place_reported_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_transfers_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfers'))
    )
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfers_subject_id'), ['subject_id'], unique=False)

    op.create_table('plan_reviews',
    sa.Column('plan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reviewed_on', sa.Date(), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('adjustments', sa.Text(), nullable=True),
    sa.Column('reviewed_by', sa.String(length=64), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['correction_plans.id'], name=op.f('fk_plan_reviews_plan_id_correction_plans')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_plan_reviews_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_reviews'))
    )
    with op.batch_alter_table('plan_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_reviews_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_reviews_subject_id'), ['subject_id'], unique=False)

    op.create_table('sanctions',
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('basis', sa.String(length=256), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=True),
    sa.Column('proposed_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('proposed_by', sa.String(length=64), nullable=False),
    sa.Column('decided_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('proposal_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhijiao.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff.id'], name=op.f('fk_sanctions_decided_by_id_staff')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_sanctions_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['staff.id'], name=op.f('fk_sanctions_proposed_by_id_staff')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_sanctions_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sanctions'))
    )
    with op.batch_alter_table('sanctions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sanctions_subject_id'), ['subject_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sanctions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sanctions_subject_id'))

    op.drop_table('sanctions')
    with op.batch_alter_table('plan_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_reviews_subject_id'))
        batch_op.drop_index(batch_op.f('ix_plan_reviews_plan_id'))

    op.drop_table('plan_reviews')
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfers_subject_id'))

    op.drop_table('transfers')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_subject_id'))
        batch_op.drop_index('ix_tasks_office_status_due')
        batch_op.drop_index('ix_tasks_assignee_status_due')

    op.drop_table('tasks')
    op.drop_table('receptions')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposals_subject_id'))

    op.drop_table('proposals')
    with op.batch_alter_table('pre_sentence_assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pre_sentence_assessments_subject_id'))
        batch_op.drop_index(batch_op.f('ix_pre_sentence_assessments_office_id'))

    op.drop_table('pre_sentence_assessments')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_subject_id'))

    op.drop_table('notifications')
    op.drop_table('monthly_assessments')
    with op.batch_alter_table('level_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_level_reviews_subject_id'))

    op.drop_table('level_reviews')
    with op.batch_alter_table('leave_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_leave_requests_subject_status')

    op.drop_table('leave_requests')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_subject_id'))
        batch_op.drop_index('ix_documents_source')
        batch_op.drop_index(batch_op.f('ix_documents_sha256'))

    op.drop_table('documents')
    with op.batch_alter_table('daily_records', schema=None) as batch_op:
        batch_op.drop_index('ix_daily_records_subject_kind_on')

    op.drop_table('daily_records')
    with op.batch_alter_table('correction_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_correction_plans_subject_id'))

    op.drop_table('correction_plans')
    with op.batch_alter_table('announcements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_announcements_subject_id'))

    op.drop_table('announcements')
    op.drop_table('document_counters')
