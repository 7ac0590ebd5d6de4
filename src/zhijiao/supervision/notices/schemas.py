"""Schemas of the notices: what must be sent to whom, and marking one done."""

from __future__ import annotations

from datetime import date

from zhijiao.supervision.common import Day, In, Note, Out


class NotificationRead(Out):
    id: int
    subject_id: int
    event: str
    source_id: int | None
    body: str
    body_label: str
    sender: str
    ours: bool
    action: str
    legal_basis: str
    status: str
    done_on: date | None
    done_by: str | None
    note: str | None


class NotificationDoneIn(In):
    done_on: Day | None = None
    note: Note = None
