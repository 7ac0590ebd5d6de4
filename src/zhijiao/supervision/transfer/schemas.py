"""Schemas of the change of the place of execution."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from zhijiao.supervision.common import Day, In, Note, Out, ShortText, Text
from zhijiao.supervision.notices.schemas import NotificationRead


class TransferCreate(In):
    to_agency: ShortText = Field(description="新执行地社区矫正机构")
    to_address: ShortText
    reason: Text
    applied_on: Day | None = None


class TransferConsultIn(In):
    sent_on: Day | None = Field(default=None, description="征求意见函送达新执行地的日期")


class TransferAnswerIn(In):
    answer: Literal["agree", "disagree"]
    answered_on: Day | None = None
    note: Note = None


class TransferDecisionIn(In):
    decision: Literal["approve", "reject"]
    decided_on: Day | None = None
    note: Note = None


class TransferHandoverIn(In):
    handed_over_on: Day | None = None
    new_place_reported_on: Day | None = None
    note: Note = None


class TransferRead(Out):
    id: int
    subject_id: int
    to_agency: str
    to_address: str
    reason: str
    applied_on: date
    status: str
    consult_sent_on: date | None
    consult_deadline: date | None
    consult_overdue: bool = False
    answer: str | None
    answered_on: date | None
    decision: str | None
    decided_on: date | None
    decided_by: str | None
    report_deadline: date | None
    handover_deadline: date | None
    handed_over_on: date | None
    new_place_reported_on: date | None
    note: str | None
    created_by: str
    notifications: list[NotificationRead] = []
