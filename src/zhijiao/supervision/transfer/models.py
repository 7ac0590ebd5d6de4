"""Change of the place of execution (执行地变更)."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhijiao.db.base import Base, IdMixin, TimestampMixin
from zhijiao.security.scoping import SubjectOwned


class TransferStatus(enum.StrEnum):
    applied = "applied"
    consulting = "consulting"  # the new place was asked (实施办法 第三十条)
    answered = "answered"
    approved = "approved"
    rejected = "rejected"
    completed = "completed"  # files handed over and the subject reported at the new place


class Transfer(IdMixin, TimestampMixin, SubjectOwned, Base):
    """执行地变更 (社区矫正法 第二十七条; 实施办法 第三十条、第三十一条)."""

    __tablename__ = "transfers"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    to_agency: Mapped[str] = mapped_column(String(128), nullable=False)
    to_address: Mapped[str] = mapped_column(String(200), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    applied_on: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=TransferStatus.applied.value)
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
