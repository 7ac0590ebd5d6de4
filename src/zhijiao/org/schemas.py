from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from zhijiao.security.permissions import Role


class OfficeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    area_name: str
    address: str | None
    phone: str | None


class StaffCreate(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    display_name: str = Field(min_length=2, max_length=64)
    role: Role
    office_code: str | None = None
    password: str = Field(min_length=1, max_length=128)
    gender: str | None = None
    totp_secret: str | None = None


class StaffNew(BaseModel):
    """A new account (system administrator): no role, no credentials; the user activates it."""

    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    display_name: str = Field(min_length=2, max_length=64)
    office_code: str | None = Field(default=None, max_length=16)
    gender: str | None = Field(default=None, max_length=8)


class StaffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: str | None
    office_id: int | None
    active: bool


class MeRead(StaffRead):
    role_label: str
    office_name: str | None
    permissions: list[str]


class ActivationRead(BaseModel):
    """Shown once to the system administrator, to hand over: the code, never a password."""

    staff: StaffRead
    activation_code: str
    expires_at: datetime


class RoleGrant(BaseModel):
    role: Role | None = None  # None: revoke
    office_code: str | None = Field(default=None, max_length=16)


class RoleChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    staff_id: int
    from_role: str | None
    to_role: str | None
    office_id: int | None
    status: str
    requested_by: str
    decided_by: str | None
    created_at: datetime
    decided_at: datetime | None


class RoleResultRead(BaseModel):
    """``pending`` set: the change waits for a second administrator (HTTP 202)."""

    staff: StaffRead
    pending: RoleChangeRead | None = None


class ActivationStart(BaseModel):
    code: str = Field(min_length=1, max_length=64)


class ActivationEnrol(BaseModel):
    username: str
    totp_secret: str
    otpauth_uri: str


class ActivationComplete(ActivationStart):
    password: str = Field(min_length=1, max_length=128)
    otp: str = Field(min_length=6, max_length=6)
