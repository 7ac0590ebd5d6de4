"""One row per scheduled job: its lease (so one process of many runs it) and its last run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhijiao.db.base import Base, UTCDateTime


class JobRun(Base):
    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # A process owns the job until ``lease_until``; a crashed owner's lease simply runs out.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    owner: Mapped[str | None] = mapped_column(String(64))
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str | None] = mapped_column(String(8))  # ok | failed
    last_result: Mapped[str | None] = mapped_column(Text)  # JSON summary (counts, ids)
    last_error: Mapped[str | None] = mapped_column(String(500))
    runs: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
