from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from zhijiao.api.deps import CurrentActor, IdPath, ScopedDb
from zhijiao.org import service as org_service
from zhijiao.org.models import Staff
from zhijiao.org.schemas import MeRead, OfficeRead, StaffCreate, StaffRead
from zhijiao.security.permissions import ROLE_LABELS, ROLE_PERMS, Role

router = APIRouter()


@router.get("/offices", response_model=list[OfficeRead], tags=["org"], summary="司法所列表")
def list_offices(db_session: ScopedDb) -> list[OfficeRead]:
    return [OfficeRead.model_validate(o) for o in org_service.list_offices(db_session=db_session)]


@router.get("/me", response_model=MeRead, tags=["auth"], summary="当前用户")
def me(db_session: ScopedDb, actor: CurrentActor) -> MeRead:
    staff = db_session.get(Staff, actor.staff_id)
    assert staff is not None
    role = Role(staff.role)
    return MeRead(
        id=staff.id, username=staff.username, display_name=staff.display_name, role=staff.role,
        office_id=staff.office_id, active=staff.active, role_label=ROLE_LABELS[role],
        office_name=staff.office.name if staff.office else None,
        permissions=sorted(p.value for p in ROLE_PERMS[role]),
    )


@router.post("/staff", response_model=StaffRead, status_code=201, tags=["org"], summary="创建账号（系统管理员）")
def create_staff(db_session: ScopedDb, staff_in: StaffCreate) -> StaffRead:
    return StaffRead.model_validate(org_service.create_staff(db_session=db_session, staff_in=staff_in))


@router.get("/staff", response_model=list[StaffRead], tags=["org"], summary="账号列表（系统/安全管理员）")
def list_staff(db_session: ScopedDb) -> list[StaffRead]:
    return [StaffRead.model_validate(s) for s in org_service.list_staff(db_session=db_session)]


@router.post("/staff/{staff_id}/disable", response_model=StaffRead, tags=["org"], summary="停用账号（系统管理员）")
def disable_staff(db_session: ScopedDb, staff_id: IdPath) -> StaffRead:
    return StaffRead.model_validate(org_service.set_active(db_session=db_session, staff_id=staff_id, active=False))


@router.post("/staff/{staff_id}/enable", response_model=StaffRead, tags=["org"], summary="启用账号（系统管理员）")
def enable_staff(db_session: ScopedDb, staff_id: IdPath) -> StaffRead:
    return StaffRead.model_validate(org_service.set_active(db_session=db_session, staff_id=staff_id, active=True))


@router.post("/staff/{staff_id}/role", response_model=StaffRead, tags=["org"], summary="授予角色（安全管理员）")
def grant_role(
    db_session: ScopedDb, staff_id: IdPath, role: Annotated[Role, Body()],
    office_code: Annotated[str | None, Body(max_length=16)] = None,
) -> StaffRead:
    return StaffRead.model_validate(
        org_service.grant_role(db_session=db_session, staff_id=staff_id, role=role, office_code=office_code))


@router.post("/staff/{staff_id}/totp/reset", response_model=StaffRead, tags=["org"], summary="重置动态口令（安全管理员）")
def reset_totp(db_session: ScopedDb, staff_id: IdPath) -> StaffRead:
    return StaffRead.model_validate(org_service.reset_totp(db_session=db_session, staff_id=staff_id))


@router.post("/staff/{staff_id}/password/reset", tags=["org"], summary="重置密码（系统管理员；新密码只返回一次）")
def reset_password(db_session: ScopedDb, staff_id: IdPath) -> dict[str, str]:
    created = org_service.reset_password(db_session=db_session, staff_id=staff_id)
    return {"username": created.staff.username, "password": created.password}
