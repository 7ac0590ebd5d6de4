from __future__ import annotations

from fastapi import APIRouter, Response

from zhijiao.api.deps import CurrentActor, DbSession, IdPath, ScopedDb
from zhijiao.core.errors import InvalidInput
from zhijiao.org import service as org_service
from zhijiao.org.models import Staff
from zhijiao.org.schemas import (
    ActivationComplete, ActivationEnrol, ActivationRead, ActivationStart, MeRead, OfficeRead, RoleChangeRead, RoleGrant,
    RoleResultRead, StaffNew, StaffRead,
)
from zhijiao.security.permissions import ROLE_LABELS, ROLE_PERMS, Role

router = APIRouter()


@router.get("/offices", response_model=list[OfficeRead], tags=["org"], summary="司法所列表")
def list_offices(db_session: ScopedDb) -> list[OfficeRead]:
    return [OfficeRead.model_validate(o) for o in org_service.list_offices(db_session=db_session)]


@router.get("/me", response_model=MeRead, tags=["auth"], summary="当前用户")
def me(db_session: ScopedDb, actor: CurrentActor) -> MeRead:
    staff = db_session.get(Staff, actor.staff_id)
    assert staff is not None
    role = Role(staff.role) if staff.role else None
    return MeRead(
        id=staff.id, username=staff.username, display_name=staff.display_name, role=staff.role,
        office_id=staff.office_id, active=staff.active, role_label=ROLE_LABELS[role] if role else "未授予角色",
        office_name=staff.office.name if staff.office else None,
        permissions=sorted(p.value for p in ROLE_PERMS[role]) if role else [],
    )


def _activation(a: org_service.Activation) -> ActivationRead:
    return ActivationRead(staff=StaffRead.model_validate(a.staff), activation_code=a.code, expires_at=a.expires_at)


@router.post("/staff", response_model=ActivationRead, status_code=201, tags=["org"],
             summary="创建账号（系统管理员；无角色，返回一次性激活码）")
def create_staff(db_session: ScopedDb, staff_in: StaffNew) -> ActivationRead:
    return _activation(org_service.create_account(
        db_session=db_session, username=staff_in.username, display_name=staff_in.display_name,
        office_code=staff_in.office_code, gender=staff_in.gender))


@router.get("/staff", response_model=list[StaffRead], tags=["org"], summary="账号列表（系统/安全管理员）")
def list_staff(db_session: ScopedDb) -> list[StaffRead]:
    return [StaffRead.model_validate(s) for s in org_service.list_staff(db_session=db_session)]


@router.post("/staff/{staff_id}/disable", response_model=StaffRead, tags=["org"], summary="停用账号（系统管理员）")
def disable_staff(db_session: ScopedDb, staff_id: IdPath) -> StaffRead:
    return StaffRead.model_validate(org_service.set_active(db_session=db_session, staff_id=staff_id, active=False))


@router.post("/staff/{staff_id}/enable", response_model=StaffRead, tags=["org"], summary="启用账号（系统管理员）")
def enable_staff(db_session: ScopedDb, staff_id: IdPath) -> StaffRead:
    return StaffRead.model_validate(org_service.set_active(db_session=db_session, staff_id=staff_id, active=True))


def _role_result(result: org_service.RoleResult, response: Response) -> RoleResultRead:
    if result.pending is not None:
        response.status_code = 202
    return RoleResultRead(staff=StaffRead.model_validate(result.staff),
                          pending=RoleChangeRead.model_validate(result.pending) if result.pending else None)


@router.post("/staff/{staff_id}/role", response_model=RoleResultRead, tags=["org"],
             summary="授予角色（安全管理员；涉及三员角色时 202，待另一名管理员批准）",
             responses={202: {"model": RoleResultRead, "description": "待另一名管理员批准"}})
def grant_role(db_session: ScopedDb, staff_id: IdPath, body: RoleGrant, response: Response) -> RoleResultRead:
    if body.role is None:
        raise InvalidInput("请选择角色", code="role_required", fields={"role": "必填"})
    return _role_result(org_service.grant_role(db_session=db_session, staff_id=staff_id, role=body.role,
                                               office_code=body.office_code), response)


@router.post("/staff/{staff_id}/role/revoke", response_model=RoleResultRead, tags=["org"],
             summary="撤销角色（安全管理员；涉及三员角色时 202，待另一名管理员批准）",
             responses={202: {"model": RoleResultRead, "description": "待另一名管理员批准"}})
def revoke_role(db_session: ScopedDb, staff_id: IdPath, response: Response) -> RoleResultRead:
    return _role_result(org_service.grant_role(db_session=db_session, staff_id=staff_id, role=None), response)


@router.get("/role-changes", response_model=list[RoleChangeRead], tags=["org"], summary="待批准的角色变更（管理员）")
def list_role_changes(db_session: ScopedDb) -> list[RoleChangeRead]:
    return [RoleChangeRead.model_validate(c) for c in org_service.list_role_changes(db_session=db_session)]


@router.post("/role-changes/{change_id}/approve", response_model=RoleChangeRead, tags=["org"],
             summary="批准角色变更（申请人以外的系统/安全管理员）")
def approve_role_change(db_session: ScopedDb, change_id: IdPath) -> RoleChangeRead:
    return RoleChangeRead.model_validate(org_service.decide(db_session=db_session, change_id=change_id, approve=True))


@router.post("/role-changes/{change_id}/refuse", response_model=RoleChangeRead, tags=["org"],
             summary="驳回角色变更（申请人以外的系统/安全管理员）")
def refuse_role_change(db_session: ScopedDb, change_id: IdPath) -> RoleChangeRead:
    return RoleChangeRead.model_validate(org_service.decide(db_session=db_session, change_id=change_id, approve=False))


@router.post("/staff/{staff_id}/totp/reset", response_model=StaffRead, tags=["org"], summary="重置动态口令（安全管理员）")
def reset_totp(db_session: ScopedDb, staff_id: IdPath) -> StaffRead:
    return StaffRead.model_validate(org_service.reset_totp(db_session=db_session, staff_id=staff_id))


@router.post("/staff/{staff_id}/password/reset", response_model=ActivationRead, tags=["org"],
             summary="重置密码（系统管理员；清除密码与动态口令、结束会话，返回新的一次性激活码）")
def reset_password(db_session: ScopedDb, staff_id: IdPath) -> ActivationRead:
    return _activation(org_service.reset_password(db_session=db_session, staff_id=staff_id))


@router.post("/activation", response_model=ActivationEnrol, tags=["auth"],
             summary="账号激活第一步：凭激活码取得动态口令密钥（本人）")
def activation_start(db_session: DbSession, body: ActivationStart) -> ActivationEnrol:
    e = org_service.begin_activation(db_session=db_session, code=body.code)
    return ActivationEnrol(username=e.staff.username, totp_secret=e.totp_secret, otpauth_uri=e.otpauth_uri)


@router.post("/activation/complete", status_code=204, tags=["auth"],
             summary="账号激活第二步：设置密码并以动态口令确认（本人；激活码随即失效）")
def activation_complete(db_session: DbSession, body: ActivationComplete) -> None:
    org_service.complete_activation(db_session=db_session, code=body.code, password=body.password, otp=body.otp)
