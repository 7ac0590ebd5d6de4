from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field


class CheckInSource(enum.StrEnum):
    kiosk = "kiosk"
    phone = "phone"


class CheckInCode(enum.StrEnum):
    """Why a check-in ended as it did (a failed quality gate gives its ``QualityCode`` instead)."""

    ok = "ok"
    subject_not_found = "subject_not_found"
    face_not_enrolled = "face_not_enrolled"
    face_mismatch = "face_mismatch"
    id_card_mismatch = "id_card_mismatch"
    liveness_failed = "liveness_failed"


class RollCallStatus(enum.StrEnum):
    """pending → answered_matched | answered_not_matched | no_answer"""

    pending = "pending"
    answered_matched = "answered_matched"
    answered_not_matched = "answered_not_matched"
    no_answer = "no_answer"


class EnrolmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_id: int
    photo_sha256: str
    quality: dict[str, Any] | None
    active: bool
    enrolled_at: datetime
    enrolled_by: str


class GateIssueRead(BaseModel):
    code: str
    message: str


class GateRead(BaseModel):
    """The quality gate's answer for one frame (nothing is stored)."""

    passed: bool
    message: str
    issues: list[GateIssueRead]
    face_count: int
    face_px: float | None = None
    sharpness: float | None = None
    luminance: float | None = None


class EnrolmentItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    active: bool
    enrolled_at: datetime
    enrolled_by: str
    source: str | None
    face_px: float | None
    sharpness: float | None


class PhoneLoginRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    enabled: bool
    set_at: datetime | None
    set_by: str | None
    locked_until: datetime | None
    open_sessions: int


class IdentityRead(BaseModel):
    """签到身份: the face enrolments (newest first, at most one active) and the phone login."""

    model_config = ConfigDict(from_attributes=True)

    subject_id: int
    enrolments: list[EnrolmentItemRead]
    phone: PhoneLoginRead


class PhonePasswordIssued(BaseModel):
    password: str = Field(description="只返回这一次；系统只保存其摘要")


class PhoneLoginRevoked(BaseModel):
    sessions_ended: int


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


class RollCallCreate(BaseModel):
    subject_ids: list[Annotated[int, Field(ge=1, le=2**53)]] | None = Field(
        default=None, max_length=500, description="点名对象；省略时随机抽取")
    sample: int | None = Field(default=None, ge=1, le=500, description="随机抽取人数")
    minutes: int = Field(default=10, ge=1, le=120, description="应答时限（分钟）")


class RollCallRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_id: int
    called_at: datetime
    called_by: str
    deadline: datetime
    status: str
    answered_at: datetime | None
    checkin_id: int | None


class ChallengeRead(BaseModel):
    nonce: str
    action: str
    prompt: str
    expires_at: datetime


class DutyRead(BaseModel):
    title: str
    due: date | None
    kind: str


class KioskWelcomeRead(BaseModel):
    name: str
    next_checkin: date | None
    duties: list[DutyRead]
    courses: list[str]
