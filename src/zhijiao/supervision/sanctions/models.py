"""Rewards and punishments (考核奖惩, 社区矫正法 第二十八条) and the proposals to other organs."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhijiao.db.base import Base, IdMixin, TimestampMixin, UTCDateTime
from zhijiao.security.scoping import SubjectOwned


class SanctionStatus(enum.StrEnum):
    pending = "pending"  # a 司法所's record waiting for the bureau
    decided = "decided"
    rejected = "rejected"


class ProposalStatus(enum.StrEnum):
    suggested = "suggested"
    accepted = "accepted"
    rejected = "rejected"
    sent = "sent"
    court_decided = "court_decided"


class ProposalOutcome(enum.StrEnum):
    granted = "granted"
    denied = "denied"


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
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=ProposalStatus.suggested.value)
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
