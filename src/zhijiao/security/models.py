"""Security records: audit trail, its chain head, and login sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from zhijiao.db.base import Base, BigId, IdMixin, UTCDateTime


class AuditEvent(Base):
    """One audited fact. Append-only; chained with HMAC-SM3 (see security.audit)."""

    __tablename__ = "audit_events"
    __audited__ = False
    __table_args__ = (
        Index("ix_audit_events_object", "object_type", "object_id"),
        Index("ix_audit_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    actor_name: Mapped[str] = mapped_column(String(80), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    role: Mapped[str | None] = mapped_column(String(32))
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64), nullable=False)
    object_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_mac: Mapped[str] = mapped_column(String(64), nullable=False)
    mac: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditHead(Base):
    """The chain's head: one row, locked by every audit append to serialise the chain."""

    __tablename__ = "audit_head"
    __audited__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    mac: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class AuthSession(IdMixin, Base):
    """A login (API token or browser session); only the SHA-256 of the token is kept."""

    __tablename__ = "auth_sessions"
    __audited__ = False

    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    subject_id: Mapped[int | None] = mapped_column(BigId, index=True)  # phone page logins
    kind: Mapped[str] = mapped_column(String(8), nullable=False, default="api")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client_ip: Mapped[str | None] = mapped_column(String(64))
    # Set while the login may only enrol a second factor or change an expired password.
    restriction: Mapped[str | None] = mapped_column(String(32))


class SubjectCredential(Base):
    """The password a subject uses on the phone page, set by the officer at reception."""

    __tablename__ = "subject_credentials"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(256), nullable=False, info={"sensitive": True})
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    set_by: Mapped[str] = mapped_column(String(64), nullable=False)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
