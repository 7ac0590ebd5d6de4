"""Tasks and deadlines: one row per thing an officer has to do by a date."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhijiao.db.base import Base, IdMixin, UTCDateTime
from zhijiao.security.scoping import SubjectOwned


class Task(IdMixin, SubjectOwned, Base):
    """A dated task, fed by a legal deadline or a duty of the supervision level.

    ``key`` makes creation idempotent (a scan may run many times); ``office_id`` is the office
    that owns the work, for the per-office lists. Tasks without a subject (a pre-sentence
    assessment before the person is registered) are visible to their office and to district
    roles (``__scope_office__``); every other task follows its subject's jurisdiction.
    """

    __tablename__ = "tasks"
    __scope_office__ = True
    __table_args__ = (
        Index("ix_tasks_office_status_due", "office_id", "status", "due_on"),
        Index("ix_tasks_assignee_status_due", "assignee_id", "status", "due_on"),
    )

    key: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")  # open | done | cancelled
    source_type: Mapped[str | None] = mapped_column(String(32))
    source_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
