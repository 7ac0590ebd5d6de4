from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    restriction: str | None = Field(default=None, description="totp_enrolment / password_expired：须先完成")


class TotpEnrolmentRead(BaseModel):
    secret: str
    otpauth_uri: str


class TotpConfirm(BaseModel):
    code: str = Field(min_length=6, max_length=8, pattern=r"^\d+$")


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128)


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    seq: int
    at: datetime
    actor_kind: str
    actor_name: str
    actor_id: int | None
    role: str | None
    request_id: str | None
    client_ip: str | None
    object_type: str
    object_id: str | None
    action: str
    changes: dict[str, Any] | list[Any] | None
