from __future__ import annotations

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


class StaffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: str
    office_id: int | None
    active: bool


class MeRead(StaffRead):
    role_label: str
    office_name: str | None
    permissions: list[str]
