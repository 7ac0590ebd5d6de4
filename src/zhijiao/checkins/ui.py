"""The self-service kiosk page (自助签到终端), full screen, for a kiosk account only.

Three steps: the ID card is read (or the number typed on the large keypad) → the camera
records a short burst while the person performs the action the server chose → the result,
and for a match the person's own duties and the self-study courses. The page returns to the
first step by itself, so the next person never sees the previous one's data.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from nicegui import ui

from zhijiao.checkins import kiosk
from zhijiao.checkins.enrolment import ui as enrolment_ui
from zhijiao.core import clock
from zhijiao.core.errors import DomainError
from zhijiao.security.permissions import Perm
from zhijiao.subjects import idcard
from zhijiao.ui import layout, menu, session
from zhijiao.ui.session import PageContext, protected_page

SCRIPT = (Path(__file__).parent / "kiosk.js").read_text(encoding="utf-8")
COUNTDOWN_S = 3
FRAMES, FRAME_INTERVAL_MS = 16, 200  # ~3 s of movement
RESULT_SHOWN_S = 45  # then back to the first step
IDLE_KEEPALIVE_S = 240  # an open kiosk page keeps its session (the absolute limit still applies)

CSS = """
body { background: #0f3d7a; }
.kiosk { min-height: 100vh; color: #fff; font-size: 1.4rem; }
.kiosk-card { background: rgba(255,255,255,.08); border-radius: 18px; padding: 28px 36px; }
.kiosk-title { font-size: 2.4rem; font-weight: 700; letter-spacing: .1em; }
.kiosk-big { font-size: 2rem; font-weight: 700; }
.kiosk-id input { font-size: 2.2rem !important; letter-spacing: .12em; color: #fff !important; }
.kiosk-key { width: 110px; height: 84px; font-size: 2rem !important; }
.kiosk-video { width: 640px; max-width: 90vw; border-radius: 14px; background: #000; transform: scaleX(-1); }
.kiosk-countdown { font-size: 3rem; font-weight: 700; min-height: 4rem; color: #ffd54f; }
.kiosk-ok { color: #69f0ae; } .kiosk-fail { color: #ff8a80; }
"""


def register() -> None:
    enrolment_ui.register()
    menu.add_menu_item("自助签到", "/kiosk", "how_to_reg", menu.KIOSK, order=5)

    @protected_page("/kiosk", title="自助签到 - 智矫")
    def kiosk_page(ctx: PageContext) -> None:
        layout.apply_colors()
        ui.add_css(CSS)
        ui.query(".nicegui-content").classes("p-0")
        if not ctx.can(Perm.kiosk_checkin):
            with ui.column().classes("kiosk w-full items-center justify-center"):
                ui.label("自助签到页面仅限自助终端账号使用").classes("kiosk-big").mark("kiosk-refused")
                ui.link("返回首页", "/").classes("text-white")
            return
        ui.add_body_html(f"<script>{SCRIPT}</script>")
        Kiosk(ctx)


class Kiosk:
    def __init__(self, ctx: PageContext) -> None:
        self.ctx = ctx
        self.id_number = ""
        self.back_timer: ui.timer | None = None
        self.client = ui.context.client
        with ui.column().classes("kiosk w-full items-center gap-6 py-10") as self.root:
            with ui.row().classes("items-center gap-4"):
                ui.icon("how_to_reg").classes("text-5xl")
                ui.label("社区矫正自助签到").classes("kiosk-title")
            ui.label(ctx.office_name or ctx.bureau_name).classes("text-lg opacity-80")
            self.body = ui.column().classes("items-center gap-6 w-full")
        ui.on("kiosk_result", self._in_root(self.on_result))
        ui.on("kiosk_idcard", self._in_root(self.on_idcard))
        ui.timer(IDLE_KEEPALIVE_S, self.keep_alive)
        self.step_id()

    def _in_root(self, handler):
        """Run a handler in the page's root: the button that triggered it may be gone already
        (each step replaces the previous one's elements, and NiceGUI works in the caller's slot)."""
        if inspect.signature(handler).parameters:
            def with_event(event: Any) -> None:
                with self.root:
                    handler(event)
            return with_event

        def plain() -> None:
            with self.root:
                handler()
        return plain

    # --- step 1: who ---------------------------------------------------------------------------

    def step_id(self) -> None:
        self._cancel_back()
        self.id_number = ""
        self.client.run_javascript("window.zhijiaoKiosk && window.zhijiaoKiosk.forget()")
        self.body.clear()
        with self.body, ui.column().classes("kiosk-card items-center gap-4"):
            ui.label("请将身份证放在读卡区，或输入身份证号码").classes("kiosk-big")
            self.number = ui.input(placeholder="18 位身份证号码").props(
                "outlined dark maxlength=18 input-class=text-center").classes("kiosk-id w-[640px]").mark(
                "kiosk-id-number")
            self.number.on("keydown.enter", self._in_root(self.next_from_id))
            self.message = ui.label("").classes("kiosk-fail min-h-[2rem]").mark("kiosk-message")
            with ui.grid(columns=4).classes("gap-3"):
                for key in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "0"):
                    ui.button(key, on_click=lambda k=key: self.type_key(k)).props(
                        "unelevated color=white text-color=primary").classes("kiosk-key")
                ui.button(icon="backspace", on_click=lambda: self.type_key(None)).props(
                    "unelevated color=grey-4 text-color=primary").classes("kiosk-key")
            ui.button("下一步", icon="arrow_forward", on_click=self._in_root(self.next_from_id)).props(
                "unelevated color=amber-7 size=xl").classes("w-[320px] h-[72px]").mark("kiosk-next")

    def type_key(self, key: str | None) -> None:
        value = self.number.value or ""
        self.number.set_value(value[:-1] if key is None else (value + key)[:18])

    def on_idcard(self, event: Any) -> None:
        card = event.args or {}
        self.number.set_value(str(card.get("id_number") or "")[:18])
        self.next_from_id()

    def next_from_id(self) -> None:
        try:
            self.id_number = idcard.parse_id_number((self.number.value or "").strip()).number
        except DomainError as exc:
            self.message.set_text(exc.message)
            return
        try:
            with session.unit_of_work() as db:
                challenge = kiosk.issue_challenge(db_session=db)
                nonce, action, prompt = challenge.nonce, challenge.action, kiosk.prompt(challenge.action)
        except DomainError as exc:
            session.show_error(exc)
            return
        self.step_camera(nonce, action, prompt)

    # --- step 2: the camera ----------------------------------------------------------------------

    def step_camera(self, nonce: str, action: str, prompt: str) -> None:
        self.body.clear()
        with self.body, ui.column().classes("kiosk-card items-center gap-4"):
            ui.label(prompt).classes("kiosk-big").mark(f"kiosk-challenge-{action}")
            ui.label("请正对摄像头，倒计时结束后按提示缓慢完成动作").classes("opacity-80")
            ui.html('<video id="kiosk-video" class="kiosk-video" autoplay muted playsinline></video>', sanitize=False)
            ui.html('<div id="kiosk-countdown" class="kiosk-countdown"></div>', sanitize=False)
            ui.button("取消", icon="close", on_click=self._in_root(self.step_id)).props("flat color=white size=lg")
        try:
            api_token = session.api_token()
        except DomainError as exc:
            session.show_error(exc)
            return
        params = {"token": api_token, "nonce": nonce, "id_number": self.id_number, "countdown": COUNTDOWN_S,
                  "frames": FRAMES, "interval": FRAME_INTERVAL_MS}
        self.client.run_javascript(f"window.zhijiaoKiosk.capture({json.dumps(params)})")

    # --- step 3: the answer ----------------------------------------------------------------------

    def on_result(self, event: Any) -> None:
        status, body = (event.args or {}).get("status", 0), (event.args or {}).get("body") or {}
        if status == 401:
            session.show_error(DomainError("会话已失效，请工作人员重新登录", code="session_expired", status=401))
            return
        if status != 201:
            self.step_failed(str(body.get("message") or "签到失败，请重试"))
            return
        if not body.get("matched"):
            self.step_failed(str(body.get("reason") or "比对未通过"), body)
            return
        try:
            with session.unit_of_work() as db:
                welcome = kiosk.welcome(db_session=db, checkin_id=int(body["id"]))
        except DomainError as exc:
            self.step_failed(exc.message)
            return
        self.step_done(body, welcome)

    def step_done(self, body: dict[str, Any], welcome: kiosk.KioskWelcome) -> None:
        self.body.clear()
        with self.body:
            with ui.column().classes("kiosk-card items-center gap-2"):
                ui.icon("check_circle").classes("text-7xl kiosk-ok")
                ui.label(f"签到成功：{welcome.name}").classes("kiosk-big kiosk-ok").mark("kiosk-ok")
                ui.label(f"签到时间 {clock.format_local(clock.now(), '%Y-%m-%d %H:%M')}　"
                         f"比对分数 {body.get('score', 0):.2f}　活体检测通过").classes("opacity-80")
                if welcome.next_checkin:
                    ui.label(f"下次签到请于 {welcome.next_checkin.isoformat()} 前完成").classes("text-xl")
            with ui.row().classes("gap-6 items-start justify-center w-full"):
                with ui.column().classes("kiosk-card w-[560px]").mark("kiosk-duties"):
                    ui.label("我的待办事项").classes("text-2xl font-bold")
                    if welcome.duties:
                        for d in welcome.duties:
                            ui.label(f"· {d.title}" + (f"（{d.due.isoformat()} 前）" if d.due else ""))
                    else:
                        ui.label("暂无待办事项").classes("opacity-80")
                with ui.column().classes("kiosk-card w-[560px]").mark("kiosk-courses"):
                    ui.label("自学课程").classes("text-2xl font-bold")
                    for course in kiosk.courses():
                        ui.label(course)
            ui.button("完成", icon="done", on_click=self._in_root(self.step_id)).props(
                "unelevated color=amber-7 size=xl").classes("w-[320px] h-[72px]").mark("kiosk-finish")
        self._back_later()

    def step_failed(self, reason: str, body: dict[str, Any] | None = None) -> None:
        self.body.clear()
        with self.body, ui.column().classes("kiosk-card items-center gap-4"):
            ui.icon("error").classes("text-7xl kiosk-fail")
            ui.label("签到未通过").classes("kiosk-big kiosk-fail")
            ui.label(reason).classes("text-xl max-w-[720px] text-center").mark("kiosk-reason")
            if body and body.get("code"):
                ui.label(f"代码：{body['code']}").classes("opacity-60 text-sm")
            ui.label("如多次未通过，请联系司法所工作人员").classes("opacity-80")
            ui.button("重新签到", icon="refresh", on_click=self._in_root(self.step_id)).props(
                "unelevated color=amber-7 size=xl").classes("w-[320px] h-[72px]").mark("kiosk-retry")
        self._back_later()

    # --- housekeeping ----------------------------------------------------------------------------

    def _back_later(self) -> None:
        self._cancel_back()
        with self.root:
            self.back_timer = ui.timer(RESULT_SHOWN_S, self._in_root(self.step_id), once=True)

    def _cancel_back(self) -> None:
        if self.back_timer is not None:
            self.back_timer.cancel()
            self.back_timer = None

    def keep_alive(self) -> None:
        try:
            with session.unit_of_work():
                pass
        except DomainError as exc:
            session.show_error(exc)
