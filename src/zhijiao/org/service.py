"""Bureau, offices and staff accounts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from zhijiao.org.models import Bureau, Office, Staff
from zhijiao.org.schemas import StaffCreate
from zhijiao.security import passwords
from zhijiao.security.actor import get_actor
from zhijiao.security.permissions import (
    ADMIN_ROLES, CASE_ROLES, Perm, Role, has_perm, office_bound, own_office_only, require,
)


def list_offices(*, db_session: Session) -> list[Office]:
    return list(db_session.execute(select(Office).order_by(Office.code)).scalars())


def get_office(*, db_session: Session, office_id: int) -> Office:
    office = db_session.get(Office, office_id)
    if office is None:
        raise NotFound("司法所不存在", code="office_not_found", fields={"office_id": "不存在"})
    return office


def get_office_by_code(*, db_session: Session, code: str) -> Office:
    office = db_session.execute(select(Office).where(Office.code == code)).scalar_one_or_none()
    if office is None:
        raise NotFound("司法所不存在", code="office_not_found", fields={"office": "不存在"})
    return office


def get_bureau(*, db_session: Session) -> Bureau | None:
    return db_session.execute(select(Bureau).order_by(Bureau.id)).scalars().first()


def find_staff(*, db_session: Session, staff_id: int) -> Staff | None:
    return db_session.get(Staff, staff_id)


def list_staff(*, db_session: Session, office_id: int | None = None, active_only: bool = False) -> list[Staff]:
    """Staff accounts by username: all of them for account administrators; for case staff
    (choosing a responsible officer) the active case staff they may assign."""
    actor = get_actor(db_session)
    stmt = select(Staff).options(selectinload(Staff.office)).order_by(Staff.username)
    if not (has_perm(actor, Perm.staff_manage) or has_perm(actor, Perm.roles_grant)):
        if not has_perm(actor, Perm.subjects_write):
            raise Forbidden(code="permission_denied", message="您的角色无权执行该操作")
        stmt = stmt.where(Staff.role.in_([r.value for r in CASE_ROLES]))
        active_only = True
        if own_office_only(actor):
            office_id = actor.office_id
    if office_id is not None:
        stmt = stmt.where(Staff.office_id == office_id)
    if active_only:
        stmt = stmt.where(Staff.active.is_(True))
    return list(db_session.execute(stmt).scalars())


def create_staff(*, db_session: Session, staff_in: StaffCreate, check_policy: bool = True) -> Staff:
    """Create an account; only the system administrator may (三员: sysadmin manages accounts)."""
    require(get_actor(db_session), Perm.staff_manage)
    if db_session.execute(select(Staff.id).where(Staff.username == staff_in.username)).first():
        raise Conflict("用户名已存在", code="username_taken", fields={"username": "已存在"})
    office_id = None
    if office_bound(staff_in.role):
        if not staff_in.office_code:
            raise InvalidInput("司法所工作人员必须指定所属司法所", code="office_required",
                               fields={"office_code": "必填"})
        office_id = get_office_by_code(db_session=db_session, code=staff_in.office_code).id
    elif staff_in.office_code:
        office_id = get_office_by_code(db_session=db_session, code=staff_in.office_code).id
    if check_policy:
        passwords.check_policy(staff_in.password, who=passwords.personal(
            username=staff_in.username, name=staff_in.display_name, numbers=[getattr(staff_in, "phone", None)]))
    bureau = get_bureau(db_session=db_session)
    staff = Staff(
        username=staff_in.username, display_name=staff_in.display_name, role=staff_in.role.value,
        office_id=office_id, bureau_id=bureau.id if bureau else None, gender=staff_in.gender,
        password_hash=passwords.hash_password(staff_in.password), password_changed_at=clock.now(),
        password_history=[], totp_secret=staff_in.totp_secret, active=True,
    )
    db_session.add(staff)
    db_session.commit()
    return staff


def is_admin(role: str) -> bool:
    return role in ADMIN_ROLES


def _staff(db_session: Session, staff_id: int) -> Staff:
    staff = db_session.get(Staff, staff_id)
    if staff is None:
        raise NotFound("账号不存在", code="staff_not_found")
    return staff


def set_active(*, db_session: Session, staff_id: int, active: bool) -> Staff:
    """Disable or enable an account (sysadmin); takes effect on the account's next request."""
    actor = require(get_actor(db_session), Perm.staff_manage)
    staff = _staff(db_session, staff_id)
    if staff.id == actor.staff_id:
        raise Conflict("不能停用自己的账号", code="self_disable")
    staff.active = active
    db_session.commit()
    return staff


def grant_role(*, db_session: Session, staff_id: int, role: Role, office_code: str | None = None) -> Staff:
    """Change an account's role (secadmin). One role per account, so no one holds two of 三员."""
    actor = require(get_actor(db_session), Perm.roles_grant)
    staff = _staff(db_session, staff_id)
    if staff.id == actor.staff_id:
        raise Conflict("不能修改自己的角色", code="self_grant")
    office_id = None
    if office_bound(role):
        if not office_code:
            raise InvalidInput("司法所工作人员必须指定所属司法所", code="office_required", fields={"office_code": "必填"})
        office_id = get_office_by_code(db_session=db_session, code=office_code).id
    staff.role, staff.office_id = role.value, office_id
    db_session.commit()
    return staff


def reset_totp(*, db_session: Session, staff_id: int) -> Staff:
    """Clear a lost second factor (secadmin); the account enrols again at its next login."""
    require(get_actor(db_session), Perm.roles_grant)
    staff = _staff(db_session, staff_id)
    staff.totp_secret = None
    staff.totp_pending = None
    staff.totp_last_step = None
    db_session.commit()
    return staff
