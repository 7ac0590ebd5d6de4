"""Roles and what each may do. One table, checked in the service layer."""

from __future__ import annotations

import enum

from zhijiao.core.errors import Forbidden
from zhijiao.security.actor import Actor, ActorKind


class Role(enum.StrEnum):
    bureau_officer = "bureau_officer"
    office_officer = "office_officer"
    operator = "operator"
    leader = "leader"
    sysadmin = "sysadmin"
    secadmin = "secadmin"
    auditor = "auditor"
    kiosk = "kiosk"


ROLE_LABELS = {
    Role.bureau_officer: "区局矫正工作人员",
    Role.office_officer: "司法所工作人员",
    Role.operator: "指挥中心值班员",
    Role.leader: "领导",
    Role.sysadmin: "系统管理员",
    Role.secadmin: "安全管理员",
    Role.auditor: "审计管理员",
    Role.kiosk: "自助终端",
}

# 三员 (GB/T 22239-2019 8.1.4.2): kept separate, none of them sees case files.
ADMIN_ROLES = frozenset({Role.sysadmin, Role.secadmin, Role.auditor})
# Roles that see every office's subjects (the roles holding Perm.offices_all; checks use the perm).
ALL_OFFICE_ROLES = frozenset({Role.bureau_officer, Role.operator, Role.leader})
CASE_ROLES = ALL_OFFICE_ROLES | {Role.office_officer}


class Perm(enum.StrEnum):
    subjects_read = "subjects.read"
    subjects_write = "subjects.write"
    subjects_transition = "subjects.transition"
    alarms_handle = "alarms.handle"
    workflows_write = "workflows.write"
    approvals_final = "approvals.final"
    audit_read = "audit.read"
    staff_manage = "staff.manage"
    roles_grant = "roles.grant"
    settings_manage = "settings.manage"
    security_settings = "security.settings"
    kiosk_checkin = "kiosk.checkin"
    # Not an action but a reach: sees and acts on every office's files, not only its own.
    offices_all = "offices.all"
    # Video equipment (cameras of the center, the offices and the street): equipment, not case files.
    cameras_manage = "cameras.manage"
    # 社区矫正法 第二十九条: electronic positioning is approved by the bureau's head (负责人).
    positioning_approve = "positioning.approve"


ROLE_PERMS: dict[Role, frozenset[Perm]] = {
    Role.bureau_officer: frozenset(
        {Perm.subjects_read, Perm.subjects_write, Perm.subjects_transition, Perm.alarms_handle,
         Perm.workflows_write, Perm.approvals_final, Perm.offices_all, Perm.cameras_manage}
    ),
    Role.office_officer: frozenset(
        {Perm.subjects_read, Perm.subjects_write, Perm.subjects_transition, Perm.alarms_handle,
         Perm.workflows_write}
    ),
    Role.operator: frozenset({Perm.subjects_read, Perm.alarms_handle, Perm.offices_all}),
    Role.leader: frozenset({Perm.subjects_read, Perm.approvals_final, Perm.offices_all, Perm.positioning_approve}),
    Role.sysadmin: frozenset({Perm.staff_manage, Perm.settings_manage, Perm.cameras_manage}),
    Role.secadmin: frozenset({Perm.roles_grant, Perm.security_settings}),
    Role.auditor: frozenset({Perm.audit_read}),
    Role.kiosk: frozenset({Perm.kiosk_checkin}),
}


def has_perm(actor: Actor | None, perm: Perm) -> bool:
    if actor is None:
        return False
    if actor.is_system:
        return True
    return actor.role is not None and perm in ROLE_PERMS.get(Role(actor.role), frozenset())


def sees_every_office(actor: Actor | None) -> bool:
    """The district's reach (bureau, command center, leaders, system jobs), not one office's."""
    return has_perm(actor, Perm.offices_all)


def office_bound(role: str | None) -> bool:
    """Whether a role works within one office (and an account of it must have one): it reads case
    files without the district's reach. Derived from the table, so a new role needs no list."""
    perms = ROLE_PERMS.get(Role(role), frozenset()) if role else frozenset()
    return Perm.subjects_read in perms and Perm.offices_all not in perms


def own_office_only(actor: Actor | None) -> bool:
    """An office's staff acting: limited to its own office's files and objects."""
    return actor is not None and actor.kind == ActorKind.staff and office_bound(actor.role)


def require(actor: Actor | None, perm: Perm) -> Actor:
    if not has_perm(actor, perm):
        raise Forbidden(code="permission_denied", message="您的角色无权执行该操作")
    assert actor is not None
    return actor


assert {r for r, perms in ROLE_PERMS.items() if Perm.offices_all in perms} == ALL_OFFICE_ROLES
