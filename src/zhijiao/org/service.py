"""Bureau, offices and staff accounts."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn

import pyotp
from pydantic import ValidationError

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from zhijiao.org.models import Bureau, Office, RoleChange, Staff
from zhijiao.org.schemas import StaffCreate, StaffNew
from zhijiao.security import audit, auth, passwords
from zhijiao.security.actor import Actor, ActorKind, get_actor
from zhijiao.security.permissions import (
    ADMIN_ROLES, CASE_ROLES, Perm, Role, has_perm, office_bound, own_office_only,
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
    """Bootstrap only (``zhijiao users create`` on the host, the demo seed): an account with a role and
    a password set directly. Not reachable from the API or the screens; see :func:`bootstrap_allowed`."""
    actor = get_actor(db_session)
    if actor is None or not actor.is_system:
        raise Forbidden(code="permission_denied", message="您的角色无权执行该操作")
    _check_username(db_session, staff_in.username)
    office_id = _office_for(db_session, staff_in.role, staff_in.office_code)
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


def bootstrap_allowed(*, db_session: Session, role: Role) -> bool:
    """``users create`` sets a password directly only for the first account of each administrator
    role (an empty database gets its 三员 this way); every other account is created at /admin/staff."""
    if role not in ADMIN_ROLES:
        return not db_session.execute(select(Staff.id).where(Staff.role.in_([r.value for r in ADMIN_ROLES]))).first()
    return not db_session.execute(select(Staff.id).where(Staff.role == role.value)).first()


def _check_username(db_session: Session, username: str) -> None:
    if db_session.execute(select(Staff.id).where(Staff.username == username)).first():
        raise Conflict("用户名已存在", code="username_taken", fields={"username": "已存在"})


def _office_for(db_session: Session, role: Role | str | None, office_code: str | None) -> int | None:
    if role and office_bound(Role(role)) and not office_code:
        raise InvalidInput("司法所工作人员必须指定所属司法所", code="office_required", fields={"office_code": "必填"})
    return get_office_by_code(db_session=db_session, code=office_code).id if office_code else None


# --- one-time activation (the user sets the password and enrols the one-time code) ---------------

ACTIVATION_HOURS = 72
#: Marks an account with no usable password (a hash that never verifies).
NO_PASSWORD = "!activation-pending"
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().replace("-", "").replace(" ", "").encode()).hexdigest()


def _new_activation(staff: Staff) -> str:
    """A fresh single-use code (80 bits, shown once, stored as its hash); voids the password and TOTP."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
    staff.activation_hash = _code_hash(raw)
    staff.activation_expires_at = clock.now() + timedelta(hours=ACTIVATION_HOURS)
    staff.password_hash = NO_PASSWORD
    staff.totp_secret = staff.totp_pending = None
    staff.totp_last_step = None
    staff.failed_logins, staff.locked_until = 0, None
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


@dataclass
class Activation:
    """What the system administrator hands over once: the code, never a password or a secret."""

    staff: Staff
    code: str

    @property
    def expires_at(self):
        return self.staff.activation_expires_at


def _deny(db_session: Session, staff: Staff | None, op: str, message: str, code: str) -> NoReturn:
    """Refuse an administrative act, on record (action ``denied``, shown to the auditor as 越权尝试)."""
    audit.record(db_session, object_type="staff", object_id=staff.id if staff else None, action="denied",
                 detail={"operation": op, "code": code, "target_role": staff.role if staff else None})
    db_session.commit()
    raise Forbidden(message, code=code)


def _require(db_session: Session, perm: Perm, op: str, staff: Staff | None = None):
    actor = get_actor(db_session)
    if not has_perm(actor, perm):
        _deny(db_session, staff, op, "您的角色无权执行该操作", "permission_denied")
    assert actor is not None
    return actor


def _guard_auditor(db_session: Session, staff: Staff, op: str) -> None:
    """The auditor's account is out of reach of the other two administrators."""
    if staff.role == Role.auditor.value:
        _deny(db_session, staff, op, "审计管理员的账号不能由其他管理员停用、重置或变更", "auditor_protected")


def create_account(*, db_session: Session, username: str, display_name: str,
                   office_code: str | None = None, gender: str | None = None) -> Activation:
    """A new account without a role or credentials (sysadmin); the user activates it with the code."""
    actor = _require(db_session, Perm.staff_manage, "create")
    try:
        staff_in = StaffNew(username=username.strip(), display_name=display_name.strip(),
                            office_code=office_code or None, gender=gender)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors() else "username"
        message = {"username": "用户名须为 3–64 位字母、数字或 _ . -", "display_name": "姓名至少 2 个字"}.get(
            field, "输入有误")
        raise InvalidInput(message, code="invalid_staff", fields={field: message}) from None
    _check_username(db_session, staff_in.username)
    office_id = _office_for(db_session, None, staff_in.office_code)
    bureau = get_bureau(db_session=db_session)
    staff = Staff(username=staff_in.username, display_name=staff_in.display_name, role=None, office_id=office_id,
                  bureau_id=bureau.id if bureau else None, gender=staff_in.gender, password_history=[], active=True)
    code = _new_activation(staff)
    db_session.add(staff)
    db_session.flush()
    audit.record(db_session, object_type="staff", object_id=staff.id, action="activation_issued",
                 detail={"by": actor.username})
    db_session.commit()
    return Activation(staff, code)


def reset_password(*, db_session: Session, staff_id: int) -> Activation:
    """Clear the password and the one-time code, end the sessions and issue a new activation
    (sysadmin): the administrator never knows a password it could use. Also lifts a lockout.
    The account's role is withheld: a pending change restores it once another administrator
    (in practice the security administrator) approves."""
    staff = _staff(db_session, staff_id)
    actor = _require(db_session, Perm.staff_manage, "reset", staff)
    if staff.id == actor.staff_id:
        raise Conflict("不能在此重置自己的密码，请使用“修改密码”", code="self_reset")
    _guard_auditor(db_session, staff, "reset")
    if staff.password_hash != NO_PASSWORD:
        staff.password_history = [*(staff.password_history or []), staff.password_hash][-passwords.HISTORY:]
    code = _new_activation(staff)
    revoked = auth.revoke_sessions(db_session, staff_id=staff.id)  # whoever held the old password is out
    # The system administrator holds the code: the role is withheld until another administrator
    # restores it, so no administrator alone can take over an account that has a role.
    previous = staff.role
    if previous:
        for old in db_session.execute(select(RoleChange).where(
                RoleChange.staff_id == staff.id, RoleChange.status == "pending")).scalars():
            old.status = "void"
        staff.role = None
        db_session.add(RoleChange(staff_id=staff.id, from_role=None, to_role=previous, office_id=staff.office_id,
                                  status="pending", requested_by=actor.username, requested_by_id=actor.staff_id))
    audit.record(db_session, object_type="staff", object_id=staff.id, action="password_reset",
                 detail={"sessions_revoked": revoked, **({"role_withheld": previous} if previous else {})})
    db_session.commit()
    return Activation(staff, code)


def _by_code(db_session: Session, code: str) -> Staff:
    staff = None
    if code and len(code) <= 64:
        staff = db_session.execute(select(Staff).where(Staff.activation_hash == _code_hash(code))).scalar_one_or_none()
    if (staff is None or not staff.active or staff.activation_expires_at is None
            or clock.ensure_utc(staff.activation_expires_at) <= clock.now()):
        raise InvalidInput("激活码无效、已使用或已过期，请联系系统管理员重新发放", code="activation_invalid",
                           fields={"code": "无效"})
    if get_actor(db_session) is None:  # the user activating acts (and is audited) as themselves
        db_session.info["actor"] = Actor(kind=ActorKind.staff, username=staff.username, staff_id=staff.id,
                                         role=staff.role, office_id=staff.office_id)
    return staff


@dataclass
class Enrolment:
    staff: Staff
    totp_secret: str

    @property
    def otpauth_uri(self) -> str:
        return pyotp.TOTP(self.totp_secret).provisioning_uri(name=self.staff.username, issuer_name="智矫")


def begin_activation(*, db_session: Session, code: str) -> Enrolment:
    """First step at /activate: the account behind a valid code and a fresh one-time-code secret
    (kept pending), shown to the user only."""
    staff = _by_code(db_session, code)
    staff.totp_pending = pyotp.random_base32()
    db_session.commit()
    return Enrolment(staff, staff.totp_pending)


def complete_activation(*, db_session: Session, code: str, password: str, otp: str) -> Staff:
    """Second step: the user's own password (policy checked) and a code from the enrolled app.
    The activation is single use: cleared here."""
    staff = _by_code(db_session, code)
    if not staff.totp_pending:
        raise InvalidInput("请先获取动态口令密钥", code="activation_not_started")
    passwords.check_policy(password, staff.password_history or [], who=passwords.personal(
        username=staff.username, name=staff.display_name, numbers=[staff.phone]))
    totp = pyotp.TOTP(staff.totp_pending)
    if not (otp or "").isdigit() or not totp.verify(otp, valid_window=1):
        raise InvalidInput("动态口令不正确，请核对手机验证器的时间", code="otp_invalid", fields={"otp": "不正确"})
    staff.password_hash = passwords.hash_password(password)
    staff.password_changed_at = clock.now()
    staff.totp_secret, staff.totp_pending = staff.totp_pending, None
    staff.totp_last_step = int(clock.now().timestamp() // totp.interval)  # this code cannot log in again
    staff.activation_hash = staff.activation_expires_at = None
    audit.record(db_session, object_type="staff", object_id=staff.id, action="activated")
    db_session.commit()
    return staff


def is_admin(role: str | None) -> bool:
    return role in ADMIN_ROLES


def _staff(db_session: Session, staff_id: int) -> Staff:
    staff = db_session.get(Staff, staff_id)
    if staff is None:
        raise NotFound("账号不存在", code="staff_not_found")
    return staff


def set_active(*, db_session: Session, staff_id: int, active: bool) -> Staff:
    """Disable or enable an account (sysadmin); takes effect on the account's next request.
    Never the auditor's account."""
    staff = _staff(db_session, staff_id)
    op = "enable" if active else "disable"
    actor = _require(db_session, Perm.staff_manage, op, staff)
    if staff.id == actor.staff_id:
        raise Conflict("不能停用自己的账号", code="self_disable")
    _guard_auditor(db_session, staff, op)
    staff.active = active
    db_session.commit()
    return staff


@dataclass
class RoleResult:
    """A role change: applied at once, or waiting for a second administrator."""

    staff: Staff
    pending: RoleChange | None = None


def grant_role(*, db_session: Session, staff_id: int, role: Role | None, office_code: str | None = None) -> RoleResult:
    """Grant (or, with ``role=None``, revoke) an account's role (secadmin). One role per account.

    Nobody changes their own role; the auditor's account is out of reach; a change to or from one of
    the three administrator roles waits for another administrator's approval (:func:`decide`)."""
    staff = _staff(db_session, staff_id)
    op = "grant" if role else "revoke"
    actor = _require(db_session, Perm.roles_grant, op, staff)
    if staff.id == actor.staff_id:
        _deny(db_session, staff, op, "不能修改自己的角色", "self_grant")
    _guard_auditor(db_session, staff, op)
    if role is None and staff.role is None:
        raise Conflict("该账号尚无角色", code="no_role")
    if role and office_bound(role) and not office_code and staff.office is not None:
        office_code = staff.office.code
    office_id = _office_for(db_session, role, office_code) if role else None
    if is_admin(staff.role) or (role is not None and role in ADMIN_ROLES):
        if db_session.execute(select(RoleChange.id).where(
                RoleChange.staff_id == staff.id, RoleChange.status == "pending")).first():
            raise Conflict("该账号已有待批准的角色变更", code="role_change_pending")
        change = RoleChange(staff_id=staff.id, from_role=staff.role, to_role=role.value if role else None,
                            office_id=office_id, status="pending", requested_by=actor.username,
                            requested_by_id=actor.staff_id)
        db_session.add(change)
        db_session.commit()
        return RoleResult(staff, change)
    staff.role, staff.office_id = (role.value if role else None), (office_id if role else staff.office_id)
    db_session.commit()
    return RoleResult(staff)


def list_role_changes(*, db_session: Session, status: str | None = "pending") -> list[RoleChange]:
    actor = get_actor(db_session)
    if not any(has_perm(actor, p) for p in (Perm.staff_manage, Perm.roles_grant, Perm.audit_read)):
        raise Forbidden(code="permission_denied", message="您的角色无权执行该操作")
    stmt = select(RoleChange).options(selectinload(RoleChange.staff)).order_by(RoleChange.id.desc())
    if status:
        stmt = stmt.where(RoleChange.status == status)
    return list(db_session.execute(stmt).scalars())


def decide(*, db_session: Session, change_id: int, approve: bool) -> RoleChange:
    """Approve or refuse a pending role change: the system or security administrator who did not ask
    for it and whose own account it is not."""
    change = db_session.get(RoleChange, change_id)
    if change is None:
        raise NotFound("角色变更申请不存在", code="role_change_not_found")
    actor = get_actor(db_session)
    op = "approve" if approve else "refuse"
    if not (has_perm(actor, Perm.staff_manage) or has_perm(actor, Perm.roles_grant)):
        _deny(db_session, change.staff, op, "您的角色无权执行该操作", "permission_denied")
    assert actor is not None
    if actor.staff_id in (change.requested_by_id, change.staff_id):
        _deny(db_session, change.staff, op, "角色变更须由申请人以外的另一名管理员批准，且不能批准自己的账号",
              "second_admin_required")
    if change.status != "pending":
        raise Conflict("该申请已处理", code="role_change_decided")
    staff = change.staff
    if approve:
        if staff.role != change.from_role:
            raise Conflict("账号角色已变化，申请作废，请重新申请", code="role_change_stale")
        staff.role = change.to_role
        if change.to_role:
            staff.office_id = change.office_id
    change.status = "approved" if approve else "refused"
    change.decided_by, change.decided_at = actor.username, clock.now()
    db_session.commit()
    return change


def reset_totp(*, db_session: Session, staff_id: int) -> Staff:
    """Clear a lost second factor (secadmin); the account enrols again at its next login."""
    staff = _staff(db_session, staff_id)
    actor = _require(db_session, Perm.roles_grant, "reset_totp", staff)
    if staff.id == actor.staff_id:
        raise Conflict("不能重置自己的动态口令", code="self_reset")
    _guard_auditor(db_session, staff, "reset_totp")
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
