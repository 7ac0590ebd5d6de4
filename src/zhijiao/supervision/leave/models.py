"""Leave requests (外出请假, 社区矫正法 第二十七条). The status column holds the values of
:class:`zhijiao.supervision.leave.rules.LeaveStatus`."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhijiao.db.base import Base, IdMixin, TimestampMixin, UTCDateTime
from zhijiao.security.crypto import Encrypted
from zhijiao.security.scoping import SubjectOwned
from zhijiao.supervision.leave.rules import LeaveStatus


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
    contact_phone: Mapped[str | None] = mapped_column(Encrypted)  # SM4 at rest (issue 20)
    approver_level: Mapped[str] = mapped_column(String(16), nullable=False)  # office | bureau
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=LeaveStatus.pending.value)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    requested_by: Mapped[str] = mapped_column(String(64), nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    returned_on: Mapped[date | None] = mapped_column(Date)
    return_confirmed_by: Mapped[str | None] = mapped_column(String(64))
    return_note: Mapped[str | None] = mapped_column(Text)
