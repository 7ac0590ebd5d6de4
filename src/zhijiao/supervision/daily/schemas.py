"""Schemas of daily supervision records and the monthly assessment."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from zhijiao.supervision.common import Day, In, Note, Out, Text


class _RecordBase(In):
    occurred_on: Day = Field(description="发生日期")
    summary: Text
    place: Annotated[str | None, Field(default=None, max_length=128)] = None


class ReportIn(_RecordBase):
    kind: Literal["report"]
    channel: Literal["in_person", "phone", "written"]


class HomeVisitIn(_RecordBase):
    kind: Literal["home_visit"]
    counterpart: Annotated[str | None, Field(default=None, max_length=128, description="走访对象")] = None


class TalkIn(_RecordBase):
    kind: Literal["talk"]
    counterpart: Annotated[str | None, Field(default=None, max_length=128)] = None


class RemoteCheckIn(_RecordBase):
    kind: Literal["remote_check"]
    result: Literal["passed", "failed"]
    channel: Literal["phone", "video", "app", "kiosk"] = "phone"


class VisitorApprovalIn(_RecordBase):
    kind: Literal["visitor_approval"]
    counterpart: Annotated[str, Field(min_length=2, max_length=128, description="会客对象")]
    result: Literal["approved", "rejected"]


class EducationIn(_RecordBase):
    kind: Literal["education"]
    hours: float = Field(gt=0, le=24)
    counterpart: Annotated[str | None, Field(default=None, max_length=128, description="组织单位")] = None


class CommunityServiceIn(_RecordBase):
    kind: Literal["community_service"]
    hours: float = Field(gt=0, le=24)
    counterpart: Annotated[str | None, Field(default=None, max_length=128, description="服务单位")] = None


RecordIn = Annotated[
    ReportIn | HomeVisitIn | TalkIn | RemoteCheckIn | VisitorApprovalIn | EducationIn | CommunityServiceIn,
    Field(discriminator="kind"),
]

RECORD_KINDS = ("report", "home_visit", "talk", "remote_check", "visitor_approval", "education",
                "community_service")


class RecordRead(Out):
    id: int
    subject_id: int
    kind: str
    occurred_on: date
    channel: str | None
    hours: float | None
    place: str | None
    counterpart: str | None
    result: str | None
    summary: str
    recorded_by: str
    recorded_at: datetime


class MonthlyAssessmentCreate(In):
    month: Annotated[str, Field(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$", description="考核月份 YYYY-MM")]
    score: int | None = Field(default=None, ge=0, le=100, description="与建议分不同时须说明理由")
    note: Note = None


class MonthlyAssessmentRead(Out):
    id: int
    subject_id: int
    month: date
    computed_score: int
    score: int
    passed: bool
    breakdown: list
    note: str | None
    assessed_by: str
    assessed_at: datetime
