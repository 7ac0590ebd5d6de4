"""/activate (账号激活): the new staff member, with the one-time code the system administrator
handed over, sets their own password and enrols the one-time code (动态口令) — so no administrator
ever knows a credential of another account (三员, issue 20 item 1). Public: the code is the key."""

from __future__ import annotations

from nicegui import run, ui

from zhijiao.core.errors import DomainError
from zhijiao.db import session as dbsession
from zhijiao.org import service as org_service
from zhijiao.ui import layout
from zhijiao.ui.pages.login import LOGIN_CSS


def _begin(code: str) -> tuple[str, str, str]:
    db = dbsession.SessionLocal()
    try:
        e = org_service.begin_activation(db_session=db, code=code)
        return e.staff.display_name, e.staff.username, e.totp_secret
    finally:
        db.close()


def _complete(code: str, password: str, otp: str) -> None:
    db = dbsession.SessionLocal()
    try:
        org_service.complete_activation(db_session=db, code=code, password=password, otp=otp)
    finally:
        db.close()


def _grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def register() -> None:
    @ui.page("/activate", title="账号激活 - 智矫")
    def activate_page(code: str = "") -> None:
        layout.apply_colors()
        ui.add_css(LOGIN_CSS)
        ui.query(".nicegui-content").classes("p-0")
        state: dict[str, str] = {}

        async def start() -> None:
            message.set_text("")
            if not code_in.value:
                message.set_text("请输入激活码")
                return
            try:
                name, username, secret = await run.io_bound(_begin, code_in.value.strip())
            except DomainError as exc:
                message.set_text(exc.message)
                return
            state["code"] = code_in.value.strip()
            who.set_text(f"{name}（用户名 {username}）")
            secret_label.set_text(_grouped(secret))
            import pyotp

            uri_label.set_text(pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="智矫"))
            step1.set_visibility(False)
            step2.set_visibility(True)

        async def finish() -> None:
            message2.set_text("")
            if not password.value or password.value != password2.value:
                message2.set_text("两次输入的密码不一致")
                return
            try:
                await run.io_bound(_complete, state["code"], password.value, (otp.value or "").strip())
            except DomainError as exc:
                message2.set_text(exc.message)
                return
            step2.set_visibility(False)
            done.set_visibility(True)

        with ui.column().classes("zj-login-bg w-full items-center justify-center"):
            with ui.card().classes("zj-login-card p-8 gap-4").style("width:460px"):
                with ui.column().classes("w-full items-center gap-1"):
                    ui.html(layout.FAVICON.replace("<svg ", '<svg width="40" height="40" '), sanitize=False)
                    ui.label("账号激活").classes("text-xl font-bold").style("color:#0f3d7a")
                with ui.column().classes("w-full gap-3") as step1:
                    ui.label("请输入系统管理员交给您的激活码（一次有效）。密码与动态口令由您本人设置，"
                             "管理员无从知晓。").classes("text-sm text-grey-8")
                    code_in = ui.input("激活码", value=code).props("outlined dense autofocus").classes(
                        "w-full font-mono").mark("activate-code")
                    message = ui.label().classes("text-negative text-sm min-h-[1.25rem]").mark("activate-error")
                    ui.button("下一步", on_click=start).props("unelevated color=primary").classes("w-full").mark(
                        "activate-next")
                    code_in.on("keydown.enter", start)
                with ui.column().classes("w-full gap-2") as step2:
                    who = ui.label().classes("text-base font-semibold").mark("activate-who")
                    ui.label("1. 在手机身份验证器中添加以下密钥（基于时间，6 位，30 秒），只在此显示：").classes(
                        "text-sm text-grey-8")
                    secret_label = ui.label().classes(
                        "font-mono text-base text-center w-full whitespace-nowrap").mark("activate-secret")
                    uri_label = ui.label().classes("text-xs text-grey-6 break-all").mark("activate-uri")
                    ui.label("2. 设置您的登录密码，并填写验证器显示的动态口令：").classes("text-sm text-grey-8")
                    password = ui.input("新密码", password=True, password_toggle_button=True).props(
                        "outlined dense autocomplete=new-password").classes("w-full").mark("activate-password")
                    password2 = ui.input("再次输入新密码", password=True).props(
                        "outlined dense autocomplete=new-password").classes("w-full").mark("activate-password2")
                    otp = ui.input("动态口令（6 位数字）").props(
                        "outlined dense inputmode=numeric maxlength=6 autocomplete=one-time-code").classes(
                        "w-full").mark("activate-otp")
                    ui.label("密码至少 8 位，含大写字母、小写字母、数字、特殊字符中的三类。").classes(
                        "text-xs text-grey-6")
                    message2 = ui.label().classes("text-negative text-sm min-h-[1.25rem]").mark("activate-error2")
                    ui.button("激 活", on_click=finish).props("unelevated color=primary").classes("w-full").mark(
                        "activate-submit")
                step2.set_visibility(False)
                with ui.column().classes("w-full items-center gap-2") as done:
                    ui.icon("verified_user", color="positive").classes("text-5xl")
                    ui.label("账号已激活。安全管理员授予角色后即可使用。").classes("text-sm").mark("activate-done")
                    ui.link("前往登录", "/login").classes("text-primary")
                done.set_visibility(False)
