from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class EnrolmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_id: int
    photo_sha256: str
    quality: dict[str, Any] | None
    active: bool
    enrolled_at: datetime
    enrolled_by: str


class CheckInResult(BaseModel):
    id: int
    matched: bool
    score: float | None
    liveness: bool | None
    reason: str
    code: str | None = None
    id_card_score: float | None = None


class CheckInRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_id: int | None
    source: str
    kiosk_id: str | None
    at: datetime
    matched: bool
    score: float | None
    id_card_score: float | None
    liveness: bool | None
    challenge: str | None
    code: str | None
    reason: str
    lat: float | None
    lon: float | None
