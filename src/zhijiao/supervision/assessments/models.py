"""The pre-sentence assessment (调查评估, 社区矫正法 第十八条), made before there is a subject:
:class:`OfficeScoped`, not hanging off a subject."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhijiao.db.base import Base, IdMixin, TimestampMixin
from zhijiao.security.crypto import Encrypted
from zhijiao.security.scoping import OfficeScoped


class AssessmentStatus(enum.StrEnum):
    open = "open"
    completed = "completed"


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
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=AssessmentStatus.open.value)
    findings: Mapped[str | None] = mapped_column(Text)
    opinion: Mapped[str | None] = mapped_column(String(16))  # suitable | unsuitable
    opinion_note: Mapped[str | None] = mapped_column(Text)
    completed_on: Mapped[date | None] = mapped_column(Date)
    completed_by: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
