"""Schemas of reception and the announcements."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, field_validator
from pydantic_core import PydanticCustomError

from zhijiao.documents.schemas import DocumentRead
from zhijiao.supervision.common import Day, In, Note, Out, ShortText
from zhijiao.supervision.notices.schemas import NotificationRead


class ReceivedDocument(In):
    name: Annotated[str, Field(min_length=2, max_length=64)]
    received_on: Day | None = None


class ReceptionIn(In):
    notified_on: Day | None = Field(default=None, description="收到决定机关通知的日期")
    documents_received_on: Day | None = Field(default=None, description="法律文书送达日期")
    documents: list[ReceivedDocument] = Field(default_factory=list, max_length=30)
    identity_verified: bool = False
    note: Note = None


class ReceptionRead(Out):
    id: int
    subject_id: int
    notified_on: date | None
    documents_received_on: date | None
    documents: list[dict]
    identity_verified: bool
    received_by: str
    note: str | None
    notice_deadline: date
    documents_deadline: date
    notice_late: bool
    documents_late: bool
    missing_documents: list[str]
    reporting_deadline: date
    report_overdue: bool
    legal_basis: str


class AnnouncementKind(enum.StrEnum):
    entry = "entry"
    release = "release"


class AnnouncementCreate(In):
    kind: AnnouncementKind
    at: AwareDatetime | None = Field(default=None, description="宣告时间；省略为当前时间")
    place: ShortText
    present: list[Annotated[str, Field(min_length=2, max_length=64)]] = Field(
        min_length=1, max_length=30, description="到场人员（姓名及身份）")
    items: list[Annotated[str, Field(min_length=2, max_length=200)]] | None = Field(
        default=None, max_length=30, description="宣告内容；省略时按规定事项填入")
    reason: Literal["term_completed", "pardoned"] | None = Field(default=None, description="解矫原因")
    performance: Annotated[str | None, Field(default=None, max_length=500, description="矫正期间表现")] = None
    note: Note = None

    @field_validator("at")
    @classmethod
    def _plausible(cls, value: datetime | None) -> datetime | None:
        if value is not None and not 2000 <= value.year <= 2099:
            raise PydanticCustomError("date_range", "时间须在2000年至2099年之间")
        return value


class AnnouncementRead(Out):
    id: int
    subject_id: int
    kind: str
    at: datetime
    place: str
    host: str
    present: list[str]
    items: list[str]
    reason: str | None
    note: str | None
    subject_status: str
    documents: list[DocumentRead] = []
    notifications: list[NotificationRead] = []
