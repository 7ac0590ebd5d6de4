"""Check-ins (点验签到) with face and ID card: enrolments, attempts and their evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhijiao.checkins.schemas import RollCallStatus
from zhijiao.db.base import Base, IdMixin, UTCDateTime
from zhijiao.security.crypto import EncryptedBytes
from zhijiao.security.scoping import SubjectOwned


class FaceEnrolment(IdMixin, SubjectOwned, Base):
    """A reference face (biometric, SM4-encrypted). Re-enrolment keeps history; one is active."""

    __tablename__ = "face_enrolments"
    __table_args__ = (Index("ix_face_enrolments_subject_active", "subject_id", "active"),)

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False)
    embedding: Mapped[bytes] = mapped_column(EncryptedBytes, nullable=False)
    photo: Mapped[bytes] = mapped_column(EncryptedBytes, nullable=False, deferred=True)
    photo_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    quality: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    enrolled_by: Mapped[str] = mapped_column(String(64), nullable=False)


class Evidence(Base):
    """A captured image, content-addressed by SHA-256 and stored encrypted."""

    __tablename__ = "evidence"
    __audited__ = False  # the check-in row that refers to it is audited

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(EncryptedBytes, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class CheckIn(IdMixin, SubjectOwned, Base):
    """One attempt, successful or not, with why it failed and what was captured."""

    __tablename__ = "checkins"
    __table_args__ = (Index("ix_checkins_subject_at", "subject_id", "at"),)

    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    source: Mapped[str] = mapped_column(String(8), nullable=False)  # a CheckInSource
    kiosk_id: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    matched: Mapped[bool] = mapped_column(Boolean, nullable=False)
    score: Mapped[float | None] = mapped_column(Float)
    distance: Mapped[float | None] = mapped_column(Float)
    id_card_score: Mapped[float | None] = mapped_column(Float)
    liveness: Mapped[bool | None] = mapped_column(Boolean)
    challenge: Mapped[str | None] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[list[str] | None] = mapped_column(JSON)
    actor_name: Mapped[str] = mapped_column(String(64), nullable=False)


class RollCall(IdMixin, SubjectOwned, Base):
    """A video roll call (视频点名): the subject must answer with a live capture before the deadline."""

    __tablename__ = "rollcalls"
    __table_args__ = (Index("ix_rollcalls_status_deadline", "status", "deadline"),)

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    called_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    called_by: Mapped[str] = mapped_column(String(64), nullable=False)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(24), nullable=False, default=RollCallStatus.pending)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id"))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)


class KioskChallenge(Base):
    """A liveness action the server chose for one kiosk check-in: single use, short-lived.

    The kiosk cannot pick an action a prepared video already performs; the check-in must show
    the nonce, and the action checked is this one, not what the client claims.
    """

    __tablename__ = "kiosk_challenges"
    __table_args__ = (Index("ix_kiosk_challenges_expires_at", "expires_at"),)

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    kiosk: Mapped[str] = mapped_column(String(64), nullable=False)  # the kiosk account it was issued to
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
