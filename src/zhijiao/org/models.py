"""The organisation: the district bureau, its judicial offices (司法所) and staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhijiao.db.base import Base, IdMixin, TimestampMixin, UTCDateTime
from zhijiao.security.crypto import Encrypted


class Bureau(IdMixin, TimestampMixin, Base):
    __tablename__ = "bureaus"

    code: Mapped[str] = mapped_column(String(12), unique=True, nullable=False)  # adcode
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    short_name: Mapped[str] = mapped_column(String(16), nullable=False, default="")

    offices: Mapped[list[Office]] = relationship(back_populates="bureau", order_by="Office.code")


class Office(IdMixin, TimestampMixin, Base):
    __tablename__ = "offices"

    bureau_id: Mapped[int] = mapped_column(ForeignKey("bureaus.id"), nullable=False, index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    area_name: Mapped[str] = mapped_column(String(32), nullable=False)  # 街道 / 镇
    address: Mapped[str | None] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(32))
    area_geojson: Mapped[dict | None] = mapped_column(JSON)

    bureau: Mapped[Bureau] = relationship(back_populates="offices")


class Staff(IdMixin, TimestampMixin, Base):
    __tablename__ = "staff"

    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(64), nullable=False)
    gender: Mapped[str | None] = mapped_column(String(8))
    # None until the security administrator grants one (三员: the system administrator creates, the
    # security administrator grants; issue 20 item 1).
    role: Mapped[str | None] = mapped_column(String(32))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), index=True)
    bureau_id: Mapped[int | None] = mapped_column(ForeignKey("bureaus.id"))
    phone: Mapped[str | None] = mapped_column(Encrypted)  # SM4 at rest (issue 20)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    password_hash: Mapped[str] = mapped_column(String(256), nullable=False, info={"sensitive": True})
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_history: Mapped[list | None] = mapped_column(JSON, info={"sensitive": True})
    totp_secret: Mapped[str | None] = mapped_column(Encrypted)
    totp_pending: Mapped[str | None] = mapped_column(Encrypted)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A one-time activation (new account, password reset): the user sets the password and enrols the
    # one-time code themselves. Only the SHA-256 of the code is kept; cleared when used.
    activation_hash: Mapped[str | None] = mapped_column(String(64), unique=True, info={"sensitive": True})
    activation_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    office: Mapped[Office | None] = relationship()


class RoleChange(IdMixin, TimestampMixin, Base):
    """A change to or from an administrator role, waiting for a second administrator (三员)."""

    __tablename__ = "role_changes"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), nullable=False, index=True)
    from_role: Mapped[str | None] = mapped_column(String(32))
    to_role: Mapped[str | None] = mapped_column(String(32))  # None: the role is revoked
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending", index=True)
    requested_by: Mapped[str] = mapped_column(String(64), nullable=False)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff: Mapped[Staff] = relationship(foreign_keys=[staff_id])
