"""The subject's case file (社区矫正对象档案) and its lifecycle history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhijiao.db.base import Base, BigId, IdMixin, TimestampMixin, UTCDateTime
from zhijiao.org.models import Office, Staff
from zhijiao.security.crypto import Encrypted, EncryptedBytes
from zhijiao.security.scoping import ScopeRoot, SubjectOwned


class Subject(IdMixin, TimestampMixin, ScopeRoot, Base):
    __tablename__ = "subjects"
    __table_args__ = (
        Index("ix_subjects_office_status", "office_id", "status"),
        Index("ix_subjects_status_name", "status", "name"),
    )

    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), nullable=False)
    responsible_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)

    name: Mapped[str] = mapped_column(String(50), nullable=False, index=True)
    gender: Mapped[str] = mapped_column(String(8), nullable=False)
    ethnicity: Mapped[str] = mapped_column(String(16), nullable=False, default="汉族")
    birth_date: Mapped[date] = mapped_column(Date, nullable=False)
    id_number: Mapped[str] = mapped_column(Encrypted, nullable=False, deferred=True, deferred_group="identity")
    id_number_index: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    id_number_masked: Mapped[str] = mapped_column(String(20), nullable=False)  # for lists and search by tail
    phone: Mapped[str | None] = mapped_column(Encrypted, deferred=True, deferred_group="identity")
    phone_masked: Mapped[str | None] = mapped_column(String(16))
    residence_address: Mapped[str | None] = mapped_column(Encrypted, deferred=True, deferred_group="identity")
    household_address: Mapped[str | None] = mapped_column(Encrypted, deferred=True, deferred_group="identity")
    photo: Mapped[bytes | None] = mapped_column(EncryptedBytes, deferred=True)
    # Home position (WGS-84) for the night-absence rule; set at reception from the home visit.
    home_lat: Mapped[float | None] = mapped_column(Float, deferred=True, deferred_group="identity")
    home_lon: Mapped[float | None] = mapped_column(Float, deferred=True, deferred_group="identity")

    correction_type: Mapped[str] = mapped_column(String(16), nullable=False)
    crime: Mapped[str] = mapped_column(String(128), nullable=False)
    sentence: Mapped[str] = mapped_column(String(128), nullable=False)
    deciding_organ: Mapped[str] = mapped_column(String(128), nullable=False)
    judgment_effective_date: Mapped[date] = mapped_column(Date, nullable=False)
    correction_start_date: Mapped[date | None] = mapped_column(Date)
    correction_end_date: Mapped[date | None] = mapped_column(Date)
    prohibitions: Mapped[str | None] = mapped_column(Text)
    supervision_level: Mapped[str] = mapped_column(String(16), nullable=False, default="ordinary")
    # Derived from birth_date and judgment_effective_date (subjects.rules.minor_at_decision) unless
    # the bureau's leader overrode it (minor_override, with reason, who and when; audited).
    is_minor: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    minor_override: Mapped[bool | None] = mapped_column(Boolean)
    minor_override_reason: Mapped[str | None] = mapped_column(String(200))
    minor_override_by: Mapped[str | None] = mapped_column(String(64))
    minor_override_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    status: Mapped[str] = mapped_column(String(24), nullable=False, default="pending_reception")
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    termination_reason: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    office: Mapped[Office] = relationship(lazy="joined", innerjoin=True)
    responsible_staff: Mapped[Staff | None] = relationship(lazy="joined")
    transitions: Mapped[list[SubjectTransition]] = relationship(
        back_populates="subject", order_by="SubjectTransition.at", cascade="all, delete-orphan"
    )
    team: Mapped[list[CorrectionTeamMember]] = relationship(
        back_populates="subject", order_by="CorrectionTeamMember.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class SubjectTransition(IdMixin, SubjectOwned, Base):
    """One lifecycle step with its actor, time and legal basis."""

    __tablename__ = "subject_transitions"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    from_status: Mapped[str] = mapped_column(String(24), nullable=False)
    to_status: Mapped[str] = mapped_column(String(24), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor_name: Mapped[str] = mapped_column(String(64), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(32))
    basis: Mapped[str] = mapped_column(String(256), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)

    subject: Mapped[Subject] = relationship(back_populates="transitions")


class CorrectionTeamMember(IdMixin, SubjectOwned, Base):
    """A member of the correction team (矫正小组, Law Art. 25)."""

    __tablename__ = "correction_team_members"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)  # 司法所工作人员 / 村居委会 / 家庭成员 …
    gender: Mapped[str | None] = mapped_column(String(8))
    phone: Mapped[str | None] = mapped_column(Encrypted)

    subject: Mapped[Subject] = relationship(back_populates="team")
