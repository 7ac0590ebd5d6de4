"""Schemas of the pre-sentence assessment (社区矫正法 第十八条)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from zhijiao.subjects.schemas import CorrectionType
from zhijiao.supervision.common import Day, In, Note, Out, Text


class AssessmentCreate(In):
    office_id: int | None = Field(default=None, ge=1, le=2**31, description="承办司法所；司法所工作人员可省略")
    subject_id: int | None = Field(default=None, ge=1, le=2**53, description="已建档时关联的社区矫正对象")
    person_name: Annotated[str, Field(min_length=2, max_length=50)]
    id_number: str | None = Field(default=None, min_length=18, max_length=18)
    entrusting_organ: Annotated[str, Field(min_length=2, max_length=128, description="委托机关")]
    entrusted_on: Day = Field(description="收到委托的日期")
    expedited: bool = Field(default=False, description="速裁程序（五个工作日）")
    proposed_correction_type: CorrectionType
    crime: Annotated[str, Field(min_length=2, max_length=128)]
    request_note: Note = None


class Opinion(enum.StrEnum):
    suitable = "suitable"
    unsuitable = "unsuitable"


class AssessmentFindings(In):
    findings: Text
    opinion: Opinion
    opinion_note: Note = None
    completed_on: Day | None = None


class AssessmentRead(Out):
    id: int
    office_id: int
    subject_id: int | None
    person_name: str
    is_minor: bool
    entrusting_organ: str
    entrusted_on: date
    expedited: bool
    deadline: date
    overdue: bool = False
    proposed_correction_type: str
    crime: str
    request_note: str | None
    status: str
    findings: str | None
    opinion: str | None
    opinion_note: str | None
    completed_on: date | None
    completed_by: str | None
    created_by: str
    created_at: datetime
