"""Schemas of termination (终止矫正); a release is an announcement (see the reception package)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from zhijiao.supervision.common import Basis, Day, In, Note
from zhijiao.supervision.notices.schemas import NotificationRead


class TerminationIn(In):
    reason: Literal["revoked_probation", "revoked_parole", "recommitted", "died"]
    basis: Basis = None
    decided_on: Day | None = Field(default=None, description="裁定、决定或死亡日期")
    proposal_id: int | None = Field(default=None, ge=1, le=2**53, description="据以终止的提请建议")
    note: Note = None


class TerminationRead(BaseModel):
    subject_id: int
    status: str
    termination_reason: str | None
    basis: str
    notifications: list[NotificationRead]
