"""/admin/staff: the staff accounts, for the system and security administrators."""

from __future__ import annotations

from nicegui import ui

from zhijiao.core import clock
from zhijiao.core.errors import DomainError, Forbidden
from zhijiao.org import service as org_service
from zhijiao.org.models import Staff
from zhijiao.security.actor import Actor
from zhijiao.security.permissions import Perm, has_perm
from zhijiao.ui import labels, menu
from zhijiao.ui.layout import error_notice, frame
from zhijiao.ui.session import PageContext, protected_page

STATE_CELL = """
<q-td :props="props">
  <q-badge :color="props.row.state_color" :label="props.value" />
</q-td>
"""


def _state(s: Staff, now) -> tuple[str, str]:
    if not s.active:
        return "停用", "grey-6"
    if s.locked_until is not None and clock.ensure_utc(s.locked_until) > now:
        return "锁定", "negative"
    return "正常", "positive"


def row(s: Staff, now) -> dict:
    state, color = _state(s, now)
    return {
        "id": s.id, "username": s.username, "name": s.display_name, "role": labels.label(labels.ROLE, s.role),
        "office": s.office.name if s.office else "区局", "state": state, "state_color": color,
        "otp": "已绑定" if s.totp_secret else "未绑定", "last_login": clock.format_local(s.last_login_at) or "—",
    }


COLUMNS = [{"name": n, "label": lbl, "field": n, "align": "left"} for n, lbl in (
    ("username", "用户名"), ("name", "姓名"), ("role", "角色"), ("office", "所属单位"), ("state", "状态"),
    ("otp", "动态口令"), ("last_login", "最近登录"),
)]


def manages_accounts(actor: Actor | None) -> bool:
    """The system administrator (accounts) and the security administrator (roles) open this page."""
    return has_perm(actor, Perm.staff_manage) or has_perm(actor, Perm.roles_grant)


def register() -> None:
    menu.add_menu_item("账号与设置", "/admin/staff", "manage_accounts", manages_accounts, order=90)

    @protected_page("/admin/staff")
    def staff_page(ctx: PageContext) -> None:
        with frame("账号与设置"):
            try:
                if not manages_accounts(ctx.actor):
                    raise Forbidden(code="permission_denied", message="您的角色无权执行该操作")
                staff = org_service.list_staff(db_session=ctx.db)
            except DomainError as exc:
                error_notice(exc)
                return
            now = clock.now()
            ui.label(f"共 {len(staff)} 个账号").classes("text-sm text-grey-8")
            table = ui.table(rows=[row(s, now) for s in staff], columns=COLUMNS, row_key="id",
                             pagination={"rowsPerPage": 50}).props("dense flat bordered no-hover").classes(
                "zj-table w-full").mark("staff-table")
            table.add_slot("body-cell-state", STATE_CELL)
            ui.label("新建账号请使用命令行：zhijiao users create（系统管理员操作）。").classes("text-xs text-grey-6")
