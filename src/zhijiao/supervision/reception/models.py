"""Reception and the announcements (社区矫正法 第二十条、第二十二条、第四十四条)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhijiao.db.base import Base, IdMixin, TimestampMixin, UTCDateTime
from zhijiao.security.scoping import SubjectOwned


class Reception(IdMixin, TimestampMixin, SubjectOwned, Base):
    """交付接收 (社区矫正法 第二十条、第二十二条): what the deciding organ sent, and when."""

    __tablename__ = "receptions"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, unique=True)
    notified_on: Mapped[date | None] = mapped_column(Date)
    documents_received_on: Mapped[date | None] = mapped_column(Date)
    documents: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # [{"name", "received_on"}]
    identity_verified: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    received_by: Mapped[str] = mapped_column(String(64), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)


class Announcement(IdMixin, SubjectOwned, Base):
    """入矫宣告 / 解矫宣告 (社区矫正法 第二十二条、第四十四条)."""

    __tablename__ = "announcements"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # entry | release
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    place: Mapped[str] = mapped_column(String(128), nullable=False)
    host: Mapped[str] = mapped_column(String(64), nullable=False)
    present: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    items: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # what was announced
    reason: Mapped[str | None] = mapped_column(String(32))  # release: term_completed | pardoned
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
