"""Daily supervision (日常监管) and the monthly assessment (月度考核)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhijiao.db.base import Base, IdMixin, UTCDateTime
from zhijiao.security.scoping import SubjectOwned


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
