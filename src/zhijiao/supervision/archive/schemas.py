"""Schemas of the subject's file: its timeline."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class TimelineEntry(BaseModel):
    """One event of the subject's file, for the subject page's timeline."""

    on: date = Field(description="事件日期（上海时间）")
    at: datetime = Field(description="排序用时间（UTC）")
    kind: str
    label: str
    summary: str
    object_type: str
    object_id: int
    document_ids: list[int] = []
