"""The notices the law requires on release, termination or transfer, and whether each went out."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhijiao.db.base import Base, IdMixin, UTCDateTime
from zhijiao.security.scoping import SubjectOwned


class NotificationStatus(enum.StrEnum):
    pending = "pending"  # ours to send
    done = "done"
    others = "others"  # another organ's duty, listed so officers can check


class Notification(IdMixin, SubjectOwned, Base):
    """A notice the law requires on release, termination or transfer, and whether it went out."""

    __tablename__ = "notifications"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    event: Mapped[str] = mapped_column(String(16), nullable=False)  # release | termination | transfer
    source_id: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(String(24), nullable=False)
    sender: Mapped[str] = mapped_column(String(24), nullable=False)
    action: Mapped[str] = mapped_column(String(128), nullable=False)
    legal_basis: Mapped[str] = mapped_column(String(256), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=NotificationStatus.pending.value)
    done_on: Mapped[date | None] = mapped_column(Date)
    done_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
