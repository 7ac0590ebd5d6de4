"""Schemas of leave (外出请假)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from zhijiao.documents.schemas import DocumentRead
from zhijiao.supervision.common import Day, In, Note, Out, ShortText, Text


class LeaveCreate(In):
    start: Day = Field(description="外出日期")
    end: Day = Field(description="返回日期（经常性外出：批准有效期截止日）")
    destination: ShortText
    reason: Text
    frequent: bool = Field(default=False, description="经常性跨市县活动的简化审批（有效期不超过六个月）")
    companions: Annotated[str | None, Field(default=None, max_length=200)] = None
    contact_phone: Annotated[str | None, Field(default=None, max_length=32)] = None


class LeaveDecisionIn(In):
    decision: Literal["approve", "reject"]
    note: Note = None


class LeaveReturnIn(In):
    returned_on: Day | None = Field(default=None, description="返回日期；省略为今天")
    note: Note = None


class LeaveRead(Out):
    id: int
    subject_id: int
    office_id: int
    status: str
    status_label: str
    start: date
    end: date
    days: int
    frequent: bool
    destination: str
    reason: str
    companions: str | None
    approver_level: str
    requested_by: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    returned_on: date | None
    returned_late: bool
    return_confirmed_by: str | None
    created_at: datetime
    documents: list[DocumentRead] = []


class ActiveLeave(BaseModel):
    """An approved leave in force, for the permitted-area rules of monitoring (Law Art. 27)."""

    id: int
    subject_id: int
    destination: str
    start: date
    end: date
    start_at: datetime
    end_at: datetime
