"""Level reviews (分类管理): a proposed level with its reasons, and the officer's decision."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhijiao.db.base import Base, IdMixin, TimestampMixin, UTCDateTime
from zhijiao.security.scoping import SubjectOwned


class LevelReviewStatus(enum.StrEnum):
    proposed = "proposed"
    confirmed = "confirmed"
    rejected = "rejected"
    superseded = "superseded"  # a newer proposal replaced it before a decision


class LevelReview(IdMixin, TimestampMixin, SubjectOwned, Base):
    """A proposed supervision level with its reasons, and the officer's decision (分类管理)."""

    __tablename__ = "level_reviews"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    current_level: Mapped[str] = mapped_column(String(16), nullable=False)
    proposed_level: Mapped[str] = mapped_column(String(16), nullable=False)
    reasons: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    facts: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=LevelReviewStatus.proposed.value)
    decided_level: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    effective_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
