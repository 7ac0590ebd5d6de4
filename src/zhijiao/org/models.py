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
    role: Mapped[str] = mapped_column(String(32), nullable=False)
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

    office: Mapped[Office | None] = relationship()
