"""/login: username, password and the optional one-time code (动态口令)."""

from __future__ import annotations

import uuid

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, run, ui

from zhijiao.config import get_settings
from zhijiao.core.errors import DomainError, Unauthorized
from zhijiao.db import session as dbsession
from zhijiao.security import auth
from zhijiao.settings import service as settings_service
from zhijiao.ui import layout, session

LOGIN_CSS = """
.zj-login-bg { min-height: 100vh; background: linear-gradient(160deg, #0f3d7a 0%, #1a5aa8 55%, #e8eef7 55.1%); }
.zj-login-card { width: 400px; max-width: 92vw; border-radius: 6px; }
"""


def _login(username: str, password: str, otp: str | None, client_ip: str | None) -> str:
    db = dbsession.SessionLocal()
    try:
        result = auth.login(db, username=username, password=password, otp=otp, kind="ui",
                            client_ip=client_ip, request_id=uuid.uuid4().hex)
        return result.token
    finally:
        db.close()


def _still_logged_in(request: Request) -> bool:
    if not session.token():
        return False
    db = dbsession.SessionLocal()
    try:
        session.resolve(db, request)
        return True
    except Unauthorized:
        app.storage.user.pop(session.TOKEN_KEY, None)
        return False
    finally:
        db.close()


def register() -> None:
    @ui.page("/login", title="登录 - 智矫")
    def login_page(request: Request, next: str = "/") -> RedirectResponse | None:  # noqa: A002 - query name
        target = session.safe_next(next)
        if _still_logged_in(request):
            return RedirectResponse(target, status_code=303)
        flash = app.storage.user.pop(session.FLASH_KEY, None)
        client_ip = session.client_ip(request)
        layout.apply_colors()
        ui.add_css(LOGIN_CSS)
        ui.query(".nicegui-content").classes("p-0")

        async def submit() -> None:
            message.set_text("")
            if not username.value or not password.value:
                message.set_text("请输入用户名和密码")
                return
            button.props("loading")
            try:
                token = await run.io_bound(_login, username.value.strip(), password.value,
                                           (otp.value or "").strip() or None, client_ip)
            except DomainError as exc:
                message.set_text(exc.message)
                password.set_value("")
                otp.set_value("")
                return
            finally:
                button.props(remove="loading")
            app.storage.user[session.TOKEN_KEY] = token
            ui.navigate.to(target)

        with ui.column().classes("zj-login-bg w-full items-center justify-center"):
            with ui.card().classes("zj-login-card p-8 gap-4"):
                with ui.column().classes("w-full items-center gap-1"):
                    ui.html(layout.FAVICON.replace("<svg ", '<svg width="48" height="48" '), sanitize=False)
                    ui.label(layout.PRODUCT_NAME).classes("text-xl font-bold text-center").style("color:#0f3d7a")
                    ui.label(get_settings().bureau_name).classes("text-sm text-grey-7")
                username = ui.input("用户名").props("outlined dense autocomplete=username autofocus").classes(
                    "w-full").mark("login-username")
                password = ui.input("密码", password=True, password_toggle_button=True).props(
                    "outlined dense autocomplete=current-password").classes("w-full").mark("login-password")
                otp = ui.input("动态口令（已绑定令牌时填写）").props(
                    "outlined dense inputmode=numeric maxlength=6 autocomplete=one-time-code").classes("w-full").mark(
                    "login-otp")
                message = ui.label(flash or "").classes("text-negative text-sm min-h-[1.25rem]").mark("login-error")
                button = ui.button("登 录", on_click=submit).props("unelevated color=primary").classes(
                    "w-full h-10").mark("login-submit")
                for field in (username, password, otp):
                    field.on("keydown.enter", submit)
                lockout = (f"连续 {settings_service.value('security.lockout_failures')} 次登录失败，"
                           f"账号将锁定 {settings_service.value('security.lockout_minutes')} 分钟")
                ui.label(lockout).classes("text-xs text-grey-6 self-center")
        return None
