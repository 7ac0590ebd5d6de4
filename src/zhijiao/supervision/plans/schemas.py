"""Schemas of the correction team and the correction plan."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from zhijiao.subjects.schemas import TeamMember
from zhijiao.supervision.common import Day, In, Note, Out, Text


class TeamIn(In):
    members: list[TeamMember] = Field(max_length=20)


class PlanCreate(In):
    circumstances: Text = Field(description="性别、年龄、心理特点、健康状况、犯罪原因、犯罪类型、悔罪表现等")
    goals: Text
    measures: Text


class PlanReviewCreate(In):
    reviewed_on: Day | None = None
    findings: Text
    adjustments: Note = None


class PlanReviewRead(Out):
    id: int
    reviewed_on: date
    findings: str
    adjustments: str | None
    reviewed_by: str


class PlanRead(Out):
    id: int
    subject_id: int
    version: int
    status: str
    circumstances: str
    goals: str
    measures: str
    next_review_on: date
    created_by: str
    created_at: datetime
    reviews: list[PlanReviewRead]
