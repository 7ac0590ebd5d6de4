from __future__ import annotations

from fastapi import APIRouter

from zhijiao.api.deps import CurrentActor, ScopedDb
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
