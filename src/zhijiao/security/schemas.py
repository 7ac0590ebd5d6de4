from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


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
