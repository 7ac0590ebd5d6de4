"""Schemas of classified management (分类管理)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Literal

from pydantic import Field

from zhijiao.supervision.common import In, Note, Out


class Level(enum.StrEnum):
    strict = "strict"
    ordinary = "ordinary"
    lenient = "lenient"


class LevelReviewCreate(In):
    risk_level: Literal["high", "medium", "low"] = Field(default="medium", description="风险评估等级")
    note: Note = None


class LevelDecisionIn(In):
    decision: Literal["confirm", "reject"]
    level: Level | None = Field(default=None, description="确定的等级；省略为建议等级")
    note: Note = None


class LevelReviewRead(Out):
    id: int
    subject_id: int
    current_level: str
    proposed_level: str
    reasons: list[str]
    facts: dict
    status: str
    decided_level: str | None
    decided_by: str | None
    decided_at: datetime | None
    effective_on: date | None
    note: str | None
    created_by: str
    created_at: datetime
    tasks_created: int = 0
