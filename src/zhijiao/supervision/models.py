"""Supervision records: from the pre-sentence assessment to release.

Rows that hang off a subject are :class:`SubjectOwned` (visible with their subject); the
pre-sentence assessment, made before there is a subject, is :class:`OfficeScoped`. Every write
is audited by the one after-flush listener; nothing here writes audit rows by hand.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhijiao.db.base import Base, IdMixin, TimestampMixin, UTCDateTime
from zhijiao.security.crypto import Encrypted
from zhijiao.security.scoping import OfficeScoped, SubjectOwned


class PreSentenceAssessment(IdMixin, TimestampMixin, OfficeScoped, Base):
    """调查评估 (社区矫正法 第十八条): entrusted by the deciding organ before its decision."""

    __tablename__ = "pre_sentence_assessments"

    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), nullable=False, index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    person_name: Mapped[str] = mapped_column(String(50), nullable=False)
    person_id_number: Mapped[str | None] = mapped_column(Encrypted)
    is_minor: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    entrusting_organ: Mapped[str] = mapped_column(String(128), nullable=False)
    entrusted_on: Mapped[date] = mapped_column(Date, nullable=False)
    expedited: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # 速裁
    deadline: Mapped[date] = mapped_column(Date, nullable=False)
    proposed_correction_type: Mapped[str] = mapped_column(String(16), nullable=False)
    crime: Mapped[str] = mapped_column(String(128), nullable=False)
    request_note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")  # open | completed
    findings: Mapped[str | None] = mapped_column(Text)
    opinion: Mapped[str | None] = mapped_column(String(16))  # suitable | unsuitable
    opinion_note: Mapped[str | None] = mapped_column(Text)
    completed_on: Mapped[date | None] = mapped_column(Date)
    completed_by: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)


class Reception(IdMixin, TimestampMixin, SubjectOwned, Base):
    """交付接收 (社区矫正法 第二十条、第二十二条): what the deciding organ sent, and when."""

    __tablename__ = "receptions"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, unique=True)
    notified_on: Mapped[date | None] = mapped_column(Date)
    documents_received_on: Mapped[date | None] = mapped_column(Date)
    documents: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # [{"name", "received_on"}]
    identity_verified: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    received_by: Mapped[str] = mapped_column(String(64), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)


class Announcement(IdMixin, SubjectOwned, Base):
    """入矫宣告 / 解矫宣告 (社区矫正法 第二十二条、第四十四条)."""

    __tablename__ = "announcements"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # entry | release
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    place: Mapped[str] = mapped_column(String(128), nullable=False)
    host: Mapped[str] = mapped_column(String(64), nullable=False)
    present: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    items: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # what was announced
    reason: Mapped[str | None] = mapped_column(String(32))  # release: term_completed | pardoned
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)


class CorrectionPlan(IdMixin, TimestampMixin, SubjectOwned, Base):
    """矫正方案 (社区矫正法 第二十四条); a revision supersedes the previous version."""

    __tablename__ = "correction_plans"
    __table_args__ = (UniqueConstraint("subject_id", "version", name="uq_correction_plans_subject_version"),)

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")  # active | superseded
    circumstances: Mapped[str] = mapped_column(Text, nullable=False)  # sex, age, psychology, health, crime, remorse
    goals: Mapped[str] = mapped_column(Text, nullable=False)
    measures: Mapped[str] = mapped_column(Text, nullable=False)
    next_review_on: Mapped[date] = mapped_column(Date, nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)

    reviews: Mapped[list[PlanReview]] = relationship(order_by="PlanReview.id", cascade="all, delete-orphan")


class PlanReview(IdMixin, SubjectOwned, Base):
    __tablename__ = "plan_reviews"

    plan_id: Mapped[int] = mapped_column(ForeignKey("correction_plans.id"), nullable=False, index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    reviewed_on: Mapped[date] = mapped_column(Date, nullable=False)
    findings: Mapped[str] = mapped_column(Text, nullable=False)
    adjustments: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str] = mapped_column(String(64), nullable=False)


class LevelReview(IdMixin, TimestampMixin, SubjectOwned, Base):
    """A proposed supervision level with its reasons, and the officer's decision (分类管理)."""

    __tablename__ = "level_reviews"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    current_level: Mapped[str] = mapped_column(String(16), nullable=False)
    proposed_level: Mapped[str] = mapped_column(String(16), nullable=False)
    reasons: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    facts: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="proposed")  # proposed|confirmed|rejected
    decided_level: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    effective_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)


class DailyRecord(IdMixin, SubjectOwned, Base):
    """One act of daily supervision (社区矫正法 第二十六条、第三十五条至第四十三条).

    ``kind``: report (``channel`` in_person | phone | written), home_visit, talk, remote_check,
    visitor_approval (``result`` approved | rejected), education and community_service (``hours``).
    """

    __tablename__ = "daily_records"
    __table_args__ = (Index("ix_daily_records_subject_kind_on", "subject_id", "kind", "occurred_on"),)

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    occurred_on: Mapped[date] = mapped_column(Date, nullable=False)
    channel: Mapped[str | None] = mapped_column(String(16))
    hours: Mapped[float | None] = mapped_column(Numeric(5, 1, asdecimal=False))
    place: Mapped[str | None] = mapped_column(String(128))
    counterpart: Mapped[str | None] = mapped_column(String(128))  # visitor, person talked to, partner unit
    result: Mapped[str | None] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class MonthlyAssessment(IdMixin, SubjectOwned, Base):
    """月度考核 (社区矫正法 第二十八条)."""

    __tablename__ = "monthly_assessments"
    __table_args__ = (UniqueConstraint("subject_id", "month", name="uq_monthly_assessments_subject_month"),)

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False)
    month: Mapped[date] = mapped_column(Date, nullable=False)  # first day of the month
    computed_score: Mapped[int] = mapped_column(Integer, nullable=False)
    score: Mapped[int] = mapped_column(Integer, nullable=False)
    passed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    breakdown: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    assessed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class LeaveRequest(IdMixin, TimestampMixin, SubjectOwned, Base):
    """外出请假 (社区矫正法 第二十七条)."""

    __tablename__ = "leave_requests"
    __table_args__ = (Index("ix_leave_requests_subject_status", "subject_id", "status"),)

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), nullable=False)
    start: Mapped[date] = mapped_column(Date, nullable=False)
    end: Mapped[date] = mapped_column(Date, nullable=False)
    days: Mapped[int] = mapped_column(Integer, nullable=False)
    frequent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    destination: Mapped[str] = mapped_column(String(200), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    companions: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    approver_level: Mapped[str] = mapped_column(String(16), nullable=False)  # office | bureau
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    requested_by: Mapped[str] = mapped_column(String(64), nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    returned_on: Mapped[date | None] = mapped_column(Date)
    return_confirmed_by: Mapped[str | None] = mapped_column(String(64))
    return_note: Mapped[str | None] = mapped_column(Text)


class Transfer(IdMixin, TimestampMixin, SubjectOwned, Base):
    """执行地变更 (社区矫正法 第二十七条; 实施办法 第三十条、第三十一条)."""

    __tablename__ = "transfers"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    to_agency: Mapped[str] = mapped_column(String(128), nullable=False)
    to_address: Mapped[str] = mapped_column(String(200), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    applied_on: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="applied")
    consult_sent_on: Mapped[date | None] = mapped_column(Date)
    consult_deadline: Mapped[date | None] = mapped_column(Date)
    answer: Mapped[str | None] = mapped_column(String(16))  # agree | disagree
    answered_on: Mapped[date | None] = mapped_column(Date)
    decision: Mapped[str | None] = mapped_column(String(16))  # approve | reject
    decided_on: Mapped[date | None] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    report_deadline: Mapped[date | None] = mapped_column(Date)
    handover_deadline: Mapped[date | None] = mapped_column(Date)
    handed_over_on: Mapped[date | None] = mapped_column(Date)
    new_place_reported_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)


class Sanction(IdMixin, TimestampMixin, SubjectOwned, Base):
    """表扬 / 训诫 / 警告 (社区矫正法 第二十八条), decided by the bureau."""

    __tablename__ = "sanctions"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # commendation | admonition | warning
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    basis: Mapped[str] = mapped_column(String(256), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # pending | decided | rejected
    occurred_on: Mapped[date | None] = mapped_column(Date)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    proposed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))


class Proposal(IdMixin, TimestampMixin, SubjectOwned, Base):
    """A measure another body decides, or an escalation to a stronger measure (社区矫正法 第二十八条).

    suggested → accepted | rejected (with a reason) → sent → court_decided (30-day clock).
    Escalations to a warning (or an admonition) stop at accepted: the bureau's own decision
    is then a :class:`Sanction`.
    """

    __tablename__ = "proposals"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)  # escalation | officer
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    basis: Mapped[str] = mapped_column(String(256), nullable=False)
    decider: Mapped[str] = mapped_column(String(24), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="suggested")
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    sent_on: Mapped[date | None] = mapped_column(Date)
    recipient: Mapped[str | None] = mapped_column(String(128))
    answer_due: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(16))  # granted | denied
    outcome_on: Mapped[date | None] = mapped_column(Date)
    outcome_ref: Mapped[str | None] = mapped_column(String(128))  # the ruling's number
    outcome_note: Mapped[str | None] = mapped_column(Text)


class Notification(IdMixin, SubjectOwned, Base):
    """A notice the law requires on release, termination or transfer, and whether it went out."""

    __tablename__ = "notifications"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    event: Mapped[str] = mapped_column(String(16), nullable=False)  # release | termination | transfer
    source_id: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(String(24), nullable=False)
    sender: Mapped[str] = mapped_column(String(24), nullable=False)
    action: Mapped[str] = mapped_column(String(128), nullable=False)
    legal_basis: Mapped[str] = mapped_column(String(256), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")  # pending | done
    done_on: Mapped[date | None] = mapped_column(Date)
    done_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
