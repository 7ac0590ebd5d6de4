"""The correction plan and its reviews (矫正方案, 社区矫正法 第二十四条). The team (第二十五条)
is part of the subject's file (:class:`zhijiao.subjects.models.CorrectionTeamMember`)."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhijiao.db.base import Base, IdMixin, TimestampMixin
from zhijiao.security.scoping import SubjectOwned


class PlanStatus(enum.StrEnum):
    active = "active"
    superseded = "superseded"


class CorrectionPlan(IdMixin, TimestampMixin, SubjectOwned, Base):
    """矫正方案 (社区矫正法 第二十四条); a revision supersedes the previous version."""

    __tablename__ = "correction_plans"
    __table_args__ = (UniqueConstraint("subject_id", "version", name="uq_correction_plans_subject_version"),)

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=PlanStatus.active.value)
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
