"""Schemas of generated documents."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_id: int
    kind: str
    title: str
    number: str
    doc_date: date
    sha256: str
    size: int
    pages: int | None
    source_type: str
    source_id: int
    created_at: datetime
    created_by: str
    template_version: str | None = None  # None: made before documents kept their data (cannot re-render)
    rendered_at: datetime | None = None


class DocumentRerendered(DocumentRead):
    old_sha256: str
    changed: bool  # the new PDF differs from the old one
