"""/admin/staff (账号管理): staff accounts, for the system and security administrators.

Separation of duties (三员): the system administrator creates, disables, enables accounts and
resets passwords; the security administrator changes roles and resets the one-time code. Each
sees only the buttons of their own duty, and the service refuses the others whatever the screen
shows. A new account's initial password and one-time-code secret are shown once, in a dialog.
"""

from __future__ import annotations

from typing import Any

from nicegui import ui

from zhijiao.core import clock
from zhijiao.core.errors import DomainError, Forbidden
from zhijiao.org import service as org_service
from zhijiao.org.models import Staff
from zhijiao.security.actor import Actor
from zhijiao.security.permissions import ROLE_LABELS, Perm, Role, has_perm, office_bound
from zhijiao.ui import labels, menu, session
from zhijiao.ui.layout import error_notice, frame
from zhijiao.ui.session import PageContext, protected_page

STATE_CELL = """
<q-td :props="props">
  <q-badge :color="props.row.state_color" :label="props.value" />
</q-td>
"""

ACTIONS_CELL = """
<q-td :props="props" class="q-gutter-x-xs">
  <q-btn v-if="props.row.can_disable" flat dense no-caps size="sm" color="negative" label="停用"
         @click.stop="$parent.$emit('disable', props.row)" />
  <q-btn v-if="props.row.can_enable" flat dense no-caps size="sm" color="positive" label="启用"
         @click.stop="$parent.$emit('enable', props.row)" />
  <q-btn v-if="props.row.can_reset_password" flat dense no-caps size="sm" color="primary" label="重置密码"
         @click.stop="$parent.$emit('reset_password', props.row)" />
  <q-btn v-if="props.row.can_reset_totp" flat dense no-caps size="sm" color="primary" label="重置动态口令"
         @click.stop="$parent.$emit('reset_totp', props.row)" />
  <q-btn v-if="props.row.can_grant" flat dense no-caps size="sm" color="primary" label="变更角色"
         @click.stop="$parent.$emit('grant', props.row)" />
</q-td>
"""

#: Roles an account can be created with from the screen (the kiosk account too; the one per role).
CREATABLE_ROLES = [r for r in Role]


def _state(s: Staff, now) -> tuple[str, str]:
    if not s.active:
        return "停用", "grey-6"
    if s.locked_until is not None and clock.ensure_utc(s.locked_until) > now:
        return "锁定", "negative"
    return "正常", "positive"


def row(s: Staff, now, actor: Actor | None = None) -> dict:
    state, color = _state(s, now)
    own = actor is not None and actor.staff_id == s.id
    manage, grant = has_perm(actor, Perm.staff_manage) and not own, has_perm(actor, Perm.roles_grant) and not own
    return {
        "id": s.id, "username": s.username, "name": s.display_name, "role": labels.label(labels.ROLE, s.role),
        "office": s.office.name if s.office else "区局", "state": state, "state_color": color,
        "otp": "已绑定" if s.totp_secret else "未绑定", "last_login": clock.format_local(s.last_login_at) or "—",
        "can_disable": manage and s.active, "can_enable": manage and not s.active, "can_reset_password": manage,
        "can_reset_totp": grant and bool(s.totp_secret), "can_grant": grant,
    }


COLUMNS = [{"name": n, "label": lbl, "field": n, "align": "left"} for n, lbl in (
    ("username", "用户名"), ("name", "姓名"), ("role", "角色"), ("office", "所属单位"), ("state", "状态"),
    ("otp", "动态口令"), ("last_login", "最近登录"), ("actions", "操作"),
)]


def manages_accounts(actor: Actor | None) -> bool:
    """The system administrator (accounts) and the security administrator (roles) open this page."""
    return has_perm(actor, Perm.staff_manage) or has_perm(actor, Perm.roles_grant)


def register() -> None:
    menu.add_menu_item("账号管理", "/admin/staff", "manage_accounts", manages_accounts, order=90)

    @protected_page("/admin/staff")
    def staff_page(ctx: PageContext) -> None:
        with frame("账号管理") as f:
            try:
                if not manages_accounts(ctx.actor):
                    raise Forbidden(code="permission_denied", message="您的角色无权执行该操作")
                StaffBoard(ctx, f)
            except DomainError as exc:
                error_notice(exc)


class StaffBoard:
    def __init__(self, ctx: PageContext, f: Any) -> None:
        self.actor = ctx.actor
        staff = org_service.list_staff(db_session=ctx.db)
        self.offices = {o.code: o.name for o in org_service.list_offices(db_session=ctx.db)}
        if ctx.can(Perm.staff_manage):
            with f.actions:
                ui.button("新建账号", icon="person_add", on_click=self.open_create).props(
                    "unelevated no-caps color=primary").mark("staff-create")
        duty = ("系统管理员：新建、停用、启用账号与重置密码" if ctx.can(Perm.staff_manage)
                else "安全管理员：变更角色与重置动态口令")
        self.count = ui.label().classes("text-sm text-grey-8")
        ui.label(f"{duty}（三员分立，其他操作由相应管理员办理）。所有操作均记入审计日志。").classes("text-xs text-grey-7")
        self.table = ui.table(rows=[], columns=COLUMNS, row_key="id", pagination={"rowsPerPage": 50}).props(
            "dense flat bordered no-hover").classes("zj-table w-full").mark("staff-table")
        self.table.add_slot("body-cell-state", STATE_CELL)
        self.table.add_slot("body-cell-actions", ACTIONS_CELL)
        self.table.on("disable", lambda e: self.set_active(e.args, False))
        self.table.on("enable", lambda e: self.set_active(e.args, True))
        self.table.on("reset_password", lambda e: self.reset_password(e.args))
        self.table.on("reset_totp", lambda e: self.reset_totp(e.args))
        self.table.on("grant", lambda e: self.open_grant(e.args))
        self.show(staff)

    def show(self, staff: list[Staff]) -> None:
        now = clock.now()
        self.table.rows = [row(s, now, self.actor) for s in staff]
        self.table.update()
        self.count.set_text(f"共 {len(staff)} 个账号")

    def reload(self) -> None:
        session.act(lambda db: self.show(org_service.list_staff(db_session=db)))

    # --- the system administrator ------------------------------------------------------------

    def set_active(self, r: dict, active: bool) -> None:
        verb = "启用" if active else "停用"

        def go() -> None:
            if session.act(lambda db: org_service.set_active(db_session=db, staff_id=r["id"], active=active)):
                ui.notify(f"已{verb}账号 {r['username']}", type="positive", position="top")
                self.reload()

        self.confirm(f"确定{verb}账号 {r['name']}（{r['username']}）？", go)

    def reset_password(self, r: dict) -> None:
        def go() -> None:
            created = session.act(lambda db: org_service.reset_password(db_session=db, staff_id=r["id"]))
            if created:
                self.show_once(f"已重置 {r['name']} 的密码", created.staff.username, created.password, None, None)
                self.reload()

        self.confirm(f"确定重置 {r['name']}（{r['username']}）的密码？原密码将立即失效。", go)

    def open_create(self) -> None:
        with ui.dialog() as dialog, ui.card().classes("min-w-[440px]"):
            ui.label("新建账号").classes("text-base font-semibold")
            name = ui.input("姓名").classes("w-full").mark("new-name")
            username = ui.input("用户名（登录名，字母、数字或 _ . -）").classes("w-full").mark("new-username")
            role = ui.select({r.value: ROLE_LABELS[r] for r in CREATABLE_ROLES}, label="角色",
                             value=Role.office_officer.value).classes("w-full").mark("new-role")
            office = ui.select({"": "区局（不属于司法所）", **self.offices}, label="所属单位", value="") \
                .classes("w-full").mark("new-office")
            ui.label("初始密码与动态口令密钥由系统生成，只显示一次。").classes("text-xs text-grey-7")

            def submit() -> None:
                if office_bound(role.value) and not office.value:
                    ui.notify("司法所工作人员必须指定所属司法所", type="warning", position="top")
                    return
                created = session.act(lambda db: org_service.create_account(
                    db_session=db, username=username.value or "", display_name=name.value or "",
                    role=Role(role.value), office_code=office.value or None))
                if created:
                    dialog.close()
                    self.show_once(f"已创建账号：{created.staff.display_name}", created.staff.username,
                                   created.password, created.totp_secret, created.otpauth_uri)
                    self.reload()

            with ui.row().classes("w-full justify-end"):
                ui.button("取消", on_click=dialog.close).props("flat no-caps")
                ui.button("创建", on_click=submit).props("unelevated no-caps color=primary").mark("new-submit")
        dialog.open()

    # --- the security administrator ----------------------------------------------------------

    def reset_totp(self, r: dict) -> None:
        def go() -> None:
            if session.act(lambda db: org_service.reset_totp(db_session=db, staff_id=r["id"])):
                ui.notify(f"已重置 {r['username']} 的动态口令，下次登录时重新绑定", type="positive", position="top")
                self.reload()

        self.confirm(f"确定重置 {r['name']}（{r['username']}）的动态口令？", go)

    def open_grant(self, r: dict) -> None:
        with ui.dialog() as dialog, ui.card().classes("min-w-[420px]"):
            ui.label(f"变更角色：{r['name']}（{r['username']}）").classes("text-base font-semibold")
            role = ui.select({x.value: ROLE_LABELS[x] for x in Role}, label="新角色").classes("w-full")
            office = ui.select({"": "区局（不属于司法所）", **self.offices}, label="所属单位", value="").classes("w-full")

            def submit() -> None:
                if not role.value:
                    ui.notify("请选择角色", type="warning", position="top")
                    return
                if session.act(lambda db: org_service.grant_role(db_session=db, staff_id=r["id"], role=Role(role.value),
                                                                  office_code=office.value or None)):
                    dialog.close()
                    ui.notify("已变更角色", type="positive", position="top")
                    self.reload()

            with ui.row().classes("w-full justify-end"):
                ui.button("取消", on_click=dialog.close).props("flat no-caps")
                ui.button("确定", on_click=submit).props("unelevated no-caps color=primary")
        dialog.open()

    # --- helpers -------------------------------------------------------------------------------

    @staticmethod
    def confirm(text: str, go) -> None:
        with ui.dialog() as dialog, ui.card():
            ui.label(text)
            with ui.row().classes("w-full justify-end"):
                ui.button("取消", on_click=dialog.close).props("flat no-caps")
                ui.button("确定", on_click=lambda: (dialog.close(), go())).props(
                    "unelevated no-caps color=primary").mark("confirm-ok")
        dialog.open()

    @staticmethod
    def show_once(title: str, username: str, password: str, secret: str | None, uri: str | None) -> None:
        with ui.dialog().props("persistent") as dialog, ui.card().classes("min-w-[480px]").mark("credentials"):
            ui.label(title).classes("text-base font-semibold")
            ui.label("以下信息只显示这一次，请当面交给本人，关闭后无法再次查看。").classes("text-sm text-deep-orange-9")
            with ui.element("div").classes("zj-kv"):
                ui.label("用户名").classes("k")
                ui.label(username).classes("v font-mono").mark("cred-username")
                ui.label("初始密码").classes("k")
                ui.label(password).classes("v font-mono").mark("cred-password")
                if secret:
                    ui.label("动态口令密钥").classes("k")
                    ui.label(secret).classes("v font-mono").mark("cred-secret")
            if uri:
                ui.label("在手机身份验证器中手动添加上述密钥（基于时间，6 位，30 秒）。").classes("text-xs text-grey-7")
                ui.label(uri).classes("text-xs text-grey-6 break-all").mark("cred-uri")
            with ui.row().classes("w-full justify-end"):
                ui.button("我已记录，关闭", on_click=dialog.close).props("unelevated no-caps color=primary") \
                    .mark("cred-close")
        dialog.open()
