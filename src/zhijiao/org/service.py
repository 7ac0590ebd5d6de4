"""Bureau, offices and staff accounts."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import pyotp
from pydantic import ValidationError

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from zhijiao.org.models import Bureau, Office, Staff
from zhijiao.org.schemas import StaffCreate
from zhijiao.security import audit, auth, passwords
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


SYSTEM_NAMES = {"system": "系统", "kiosk": "自助终端", "subject": "社区矫正对象本人"}


def names_of(*, db_session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """The names of the people behind usernames recorded where they acted (an alarm's log, a request,
    a decision, the audit log): the staff member's name, 系统 for scheduled jobs; others unchanged.
    Records keep the username (accountable and stable); screens show the person."""
    wanted = {u for u in usernames if u}
    out = {u: u for u in wanted}
    for u in wanted:
        head = u.split(":", 1)[0]
        if head in SYSTEM_NAMES:
            out[u] = SYSTEM_NAMES[head]
    staff = [u for u in wanted if out[u] == u]
    if staff:
        rows = db_session.execute(select(Staff.username, Staff.display_name).where(Staff.username.in_(staff)))
        out.update({u: name for u, name in rows if name})
    return out


def name_of(*, db_session: Session, username: str | None) -> str:
    if not username:
        return "—"
    return names_of(db_session=db_session, usernames=[username])[username]


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


_SYMBOLS = "#@%+=-"


def generate_password(length: int = 12) -> str:
    """A random initial password that meets the policy (all four classes, no look-alike letters)."""
    upper, lower = "ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz"
    digits, pool = "23456789", "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789" + _SYMBOLS
    chars = [secrets.choice(upper), secrets.choice(lower), secrets.choice(digits), secrets.choice(_SYMBOLS)]
    chars += [secrets.choice(pool) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


@dataclass
class NewCredentials:
    """What the administrator hands over once: never stored in clear, never shown again."""

    staff: Staff
    password: str
    totp_secret: str | None = None

    @property
    def otpauth_uri(self) -> str | None:
        if not self.totp_secret:
            return None
        return pyotp.TOTP(self.totp_secret).provisioning_uri(name=self.staff.username, issuer_name="智矫")


def create_account(*, db_session: Session, username: str, display_name: str, role: Role,
                   office_code: str | None = None) -> NewCredentials:
    """An account with a generated initial password and one-time-code secret (shown once)."""
    password, secret = generate_password(), pyotp.random_base32()
    try:
        staff_in = StaffCreate(username=username.strip(), display_name=display_name.strip(), role=role,
                               office_code=office_code or None, password=password, totp_secret=secret)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors() else "username"
        message = {"username": "用户名须为 3–64 位字母、数字或 _ . -", "display_name": "姓名至少 2 个字"}.get(
            field, "输入有误")
        raise InvalidInput(message, code="invalid_staff", fields={field: message}) from None
    return NewCredentials(create_staff(db_session=db_session, staff_in=staff_in), password, secret)


def reset_password(*, db_session: Session, staff_id: int) -> NewCredentials:
    """A new generated password (sysadmin), which also lifts a lockout; shown once."""
    actor = require(get_actor(db_session), Perm.staff_manage)
    staff = _staff(db_session, staff_id)
    if staff.id == actor.staff_id:
        raise Conflict("不能在此重置自己的密码，请使用“修改密码”", code="self_reset")
    password = generate_password()
    staff.password_history = [*(staff.password_history or []), staff.password_hash][-passwords.HISTORY:]
    staff.password_hash = passwords.hash_password(password)
    staff.password_changed_at = clock.now()
    staff.failed_logins, staff.locked_until = 0, None
    revoked = auth.revoke_sessions(db_session, staff_id=staff.id)  # whoever held the old password is out
    audit.record(db_session, object_type="staff", object_id=staff.id, action="password_reset",
                 detail={"sessions_revoked": revoked})
    db_session.commit()
    return NewCredentials(staff, password)


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


# Staff who work cases in the field (issue 20 item 9): an officer of the office, or of the bureau.
# Never an administrator, the command centre's operator, a kiosk or the leader.
FIELD_ROLES = frozenset({"office_officer", "bureau_officer"})


def require_field_staff(*, db_session: Session, staff_id: int, office_id: int, field: str) -> Staff:
    """The active field officer ``staff_id`` who may take a case of ``office_id``, or a 4xx in Chinese."""
    staff = db_session.get(Staff, staff_id)
    if staff is None or not staff.active:
        raise InvalidInput("工作人员不存在或已停用", code="staff_not_found", fields={field: "无效"})
    if staff.role not in FIELD_ROLES:
        raise InvalidInput("只能指定司法所或区局的矫正工作人员（不能是管理员等其他角色）",
                           code="staff_not_field_officer", fields={field: "不是矫正工作人员"})
    if staff.role == "office_officer" and staff.office_id != office_id:
        raise InvalidInput("该工作人员不属于对象所在司法所", code="staff_other_office", fields={field: "不属于该司法所"})
    return staff
