"""/admin/staff (账号管理): staff accounts, for the system and security administrators.

Separation of duties (三员): the system administrator creates, disables, enables accounts and
resets passwords; the security administrator grants and revokes roles and resets the one-time
code. Each sees only the buttons of their own duty, and the service refuses the others whatever
the screen shows. A new account (and a password reset) gets a one-time activation code, shown
once: the user sets the password and enrols the one-time code at /activate. A change to or from
an administrator role waits in 待批准的角色变更 for another administrator.
"""

from __future__ import annotations

from typing import Any

from nicegui import ui

from zhijiao.core import clock
from zhijiao.core.errors import DomainError, Forbidden
from zhijiao.org import service as org_service
from zhijiao.org.models import RoleChange, Staff
from zhijiao.security.actor import Actor
from zhijiao.security.permissions import ROLE_LABELS, Perm, Role, has_perm
from zhijiao.ui import labels, menu, session
from zhijiao.ui.layout import error_notice, frame
from zhijiao.ui.session import PageContext, protected_page

ACTIVATE_PATH = "/activate"

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
  <q-btn v-if="props.row.can_grant" flat dense no-caps size="sm" color="primary" label="授予角色"
         @click.stop="$parent.$emit('grant', props.row)" />
  <q-btn v-if="props.row.can_revoke" flat dense no-caps size="sm" color="negative" label="撤销角色"
         @click.stop="$parent.$emit('revoke', props.row)" />
</q-td>
"""

CHANGE_CELL = """
<q-td :props="props" class="q-gutter-x-xs">
  <q-btn v-if="props.row.can_decide" flat dense no-caps size="sm" color="positive" label="批准"
         @click.stop="$parent.$emit('approve', props.row)" />
  <q-btn v-if="props.row.can_decide" flat dense no-caps size="sm" color="negative" label="驳回"
         @click.stop="$parent.$emit('refuse', props.row)" />
  <span v-if="!props.row.can_decide" class="text-grey-6 text-xs">{{ props.row.why }}</span>
</q-td>
"""

CHANGE_COLUMNS = [{"name": n, "label": lbl, "field": n, "align": "left"} for n, lbl in (
    ("account", "账号"), ("from", "原角色"), ("to", "新角色"), ("by", "申请人"), ("at", "申请时间"), ("actions", "操作"),
)]


def _role_label(role: str | None) -> str:
    return labels.label(labels.ROLE, role) if role else "无角色"


def change_row(c: RoleChange, actor: Actor | None, names: dict[str, str]) -> dict:
    decider = has_perm(actor, Perm.staff_manage) or has_perm(actor, Perm.roles_grant)
    mine = actor is not None and actor.staff_id in (c.requested_by_id, c.staff_id)
    return {
        "id": c.id, "account": f"{c.staff.display_name}（{c.staff.username}）", "from": _role_label(c.from_role),
        "to": _role_label(c.to_role) if c.to_role else "撤销角色", "by": names.get(c.requested_by, c.requested_by),
        "at": clock.format_local(c.created_at), "can_decide": decider and not mine,
        "why": "须由另一名管理员批准" if mine else "",
    }


def _state(s: Staff, now) -> tuple[str, str]:
    if not s.active:
        return "停用", "grey-6"
    if s.password_hash == org_service.NO_PASSWORD:
        return "待激活", "warning"
    if s.locked_until is not None and clock.ensure_utc(s.locked_until) > now:
        return "锁定", "negative"
    return "正常", "positive"


def row(s: Staff, now, actor: Actor | None = None) -> dict:
    state, color = _state(s, now)
    # The auditor's account is out of reach of the other two administrators (refused by the service).
    own = (actor is not None and actor.staff_id == s.id) or s.role == Role.auditor.value
    manage, grant = has_perm(actor, Perm.staff_manage) and not own, has_perm(actor, Perm.roles_grant) and not own
    return {
        "id": s.id, "username": s.username, "name": s.display_name,
        "role": labels.label(labels.ROLE, s.role) if s.role else "未授予角色", "role_value": s.role or "",
        "office": s.office.name if s.office else "区局", "state": state, "state_color": color,
        "otp": "已绑定" if s.totp_secret else "未绑定", "last_login": clock.format_local(s.last_login_at) or "—",
        "can_disable": manage and s.active, "can_enable": manage and not s.active, "can_reset_password": manage,
        "can_reset_totp": grant and bool(s.totp_secret), "can_grant": grant, "can_revoke": grant and bool(s.role),
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
        duty = ("系统管理员：新建、停用、启用账号与重置密码（新账号无角色，由本人凭激活码设置密码）"
                if ctx.can(Perm.staff_manage) else "安全管理员：授予、撤销角色与重置动态口令")
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
        self.table.on("revoke", lambda e: self.revoke(e.args))
        with ui.card().classes("zj-card w-full p-3").mark("role-changes"):
            ui.label("待批准的角色变更").classes("text-base font-semibold")
            ui.label("授予或撤销系统管理员、安全管理员、审计管理员角色，须由申请人以外的另一名管理员批准；"
                     "任何人不能变更自己的角色。").classes("text-xs text-grey-7")
            self.changes = ui.table(rows=[], columns=CHANGE_COLUMNS, row_key="id").props(
                "dense flat bordered no-hover").classes("zj-table w-full").mark("role-changes-table")
            self.changes.add_slot("body-cell-actions", CHANGE_CELL)
            self.changes.add_slot("no-data", '<div class="text-grey-6 text-sm">没有待批准的角色变更</div>')
            self.changes.on("approve", lambda e: self.decide(e.args, True))
            self.changes.on("refuse", lambda e: self.decide(e.args, False))
        self.show(staff, org_service.list_role_changes(db_session=ctx.db), ctx.db)

    def show(self, staff: list[Staff], changes: list[RoleChange], db) -> None:
        now = clock.now()
        self.table.rows = [row(s, now, self.actor) for s in staff]
        self.table.update()
        self.count.set_text(f"共 {len(staff)} 个账号")
        names = org_service.names_of(db_session=db, usernames=[c.requested_by for c in changes])
        self.changes.rows = [change_row(c, self.actor, names) for c in changes]
        self.changes.update()

    def reload(self) -> None:
        session.act(lambda db: self.show(org_service.list_staff(db_session=db),
                                         org_service.list_role_changes(db_session=db), db))

    def decide(self, r: dict, approve: bool) -> None:
        verb = "批准" if approve else "驳回"

        def go() -> None:
            if session.act(lambda db: org_service.decide(db_session=db, change_id=r["id"], approve=approve)):
                ui.notify(f"已{verb}：{r['account']} {r['from']} → {r['to']}", type="positive", position="top")
                self.reload()

        self.confirm(f"确定{verb} {r['account']} 的角色变更（{r['from']} → {r['to']}）？", go)

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
                self.show_once(f"已重置 {r['name']} 的密码", created)
                self.reload()

        self.confirm(f"确定重置 {r['name']}（{r['username']}）的密码？原密码与动态口令立即失效、已登录的会话结束，"
                     "本人凭新的激活码重新设置；账号角色暂停，待另一名管理员批准后恢复。", go)

    def open_create(self) -> None:
        with ui.dialog() as dialog, ui.card().classes("min-w-[440px]"):
            ui.label("新建账号").classes("text-base font-semibold")
            name = ui.input("姓名").classes("w-full").mark("new-name")
            username = ui.input("用户名（登录名，字母、数字或 _ . -）").classes("w-full").mark("new-username")
            office = ui.select({"": "区局（不属于司法所）", **self.offices}, label="所属单位", value="") \
                .classes("w-full").mark("new-office")
            ui.label("新账号没有角色，由安全管理员授予；密码与动态口令由本人凭一次性激活码设置，"
                     "系统管理员不知道也不能设置。").classes("text-xs text-grey-7")

            def submit() -> None:
                created = session.act(lambda db: org_service.create_account(
                    db_session=db, username=username.value or "", display_name=name.value or "",
                    office_code=office.value or None))
                if created:
                    dialog.close()
                    self.show_once(f"已创建账号：{created.staff.display_name}", created)
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
            ui.label(f"授予角色：{r['name']}（{r['username']}）").classes("text-base font-semibold")
            ui.label(f"现有角色：{r['role']}。每个账号只有一个角色，授予即替换。").classes("text-xs text-grey-7")
            role = ui.select({x.value: ROLE_LABELS[x] for x in Role if x.value != r.get("role_value")},
                             label="新角色").classes("w-full").mark("grant-role")
            office = ui.select({"": "区局（不属于司法所）", **self.offices}, label="所属单位", value="").classes("w-full")

            def submit() -> None:
                if not role.value:
                    ui.notify("请选择角色", type="warning", position="top")
                    return
                result = session.act(lambda db: org_service.grant_role(
                    db_session=db, staff_id=r["id"], role=Role(role.value), office_code=office.value or None))
                if result:
                    dialog.close()
                    self.notify_role(result, f"已授予 {r['name']}“{ROLE_LABELS[Role(role.value)]}”角色")
                    self.reload()

            with ui.row().classes("w-full justify-end"):
                ui.button("取消", on_click=dialog.close).props("flat no-caps")
                ui.button("确定", on_click=submit).props("unelevated no-caps color=primary").mark("grant-submit")
        dialog.open()

    def revoke(self, r: dict) -> None:
        def go() -> None:
            result = session.act(lambda db: org_service.grant_role(db_session=db, staff_id=r["id"], role=None))
            if result:
                self.notify_role(result, f"已撤销 {r['name']} 的角色")
                self.reload()

        self.confirm(f"确定撤销 {r['name']}（{r['username']}）的“{r['role']}”角色？", go)

    @staticmethod
    def notify_role(result: org_service.RoleResult, done: str) -> None:
        if result.pending is not None:
            ui.notify("涉及三员角色：已提交，待另一名管理员批准后生效", type="info", position="top")
        else:
            ui.notify(done, type="positive", position="top")

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
    def show_once(title: str, created: org_service.Activation) -> None:
        """The activation code, once, to hand over: never a password or a one-time-code secret."""
        with ui.dialog().props("persistent") as dialog, ui.card().classes("min-w-[480px]").mark("credentials"):
            ui.label(title).classes("text-base font-semibold")
            ui.label("激活码只显示这一次，请当面交给本人，关闭后无法再次查看。").classes("text-sm text-deep-orange-9")
            with ui.element("div").classes("zj-kv"):
                ui.label("用户名").classes("k")
                ui.label(created.staff.username).classes("v font-mono").mark("cred-username")
                ui.label("激活码").classes("k")
                ui.label(created.code).classes("v font-mono text-lg").mark("cred-code")
                ui.label("有效期至").classes("k")
                ui.label(clock.format_local(created.expires_at)).classes("v").mark("cred-expires")
            ui.label(f"本人打开 {ACTIVATE_PATH} 页面，输入激活码，自行设置密码并绑定动态口令；激活码只能使用一次，"
                     f"{org_service.ACTIVATION_HOURS} 小时内有效。").classes("text-xs text-grey-7")
            with ui.row().classes("w-full justify-end"):
                ui.button("我已记录，关闭", on_click=dialog.close).props("unelevated no-caps color=primary") \
                    .mark("cred-close")
        dialog.open()
