"""签到身份 screens: the face enrolment page (/subjects/{id}/face) and the subject page's card.

The page opens the browser camera (``enrolment.js``, shipped here) and sends a frame every
1.5 s to the quality gate; the reasons are shown live and 采集 is enabled only while the last
frame passed; that frame is what gets enrolled. A photo (JPEG/PNG, at most 5 MB) may be
uploaded instead. The card on the subject page shows the face and phone login state and opens,
resets or revokes the phone login; a new password is shown once.

Stable hooks for browser tests (``data-testid``): face-camera-start, face-camera-stop, face-gate,
face-capture, face-upload, face-result, face-state, face-history, face-photo-<id>;
on the subject page: identity-card, open-face, phone-state, phone-create, phone-reset,
phone-revoke, phone-confirm, phone-password.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from nicegui import run, ui
from sqlalchemy.orm import Session

from zhijiao.checkins.enrolment import service
from zhijiao.core import clock
from zhijiao.core.errors import DomainError, InvalidInput
from zhijiao.security.permissions import Perm
from zhijiao.subjects.schemas import SubjectRead
from zhijiao.ui import sections, session
from zhijiao.ui.layout import error_notice, frame, kv, section
from zhijiao.ui.session import PageContext, protected_page

T = TypeVar("T")
SCRIPT = (Path(__file__).parent / "enrolment.js").read_text(encoding="utf-8")
GATE_INTERVAL_MS = 1500
MAX_FRAME_B64 = 8 * 1024 * 1024
SOURCE = {"camera": "摄像头", "upload": "上传照片", "api": "接口"}
CSS = """
.zj-face-video { width: 480px; max-width: 100%; aspect-ratio: 4 / 3; background: #1d2733; border-radius: 8px;
                 transform: scaleX(-1); object-fit: cover; }
.zj-face-upload .q-uploader__subtitle { display: none; }
.zj-gate-ok { color: #1b7f3b; } .zj-gate-bad { color: #b3261e; }
"""


def _testid(element: ui.element, name: str) -> ui.element:
    """A NiceGUI marker for the simulated user and a ``data-testid`` for chromium."""
    return element.mark(name).props(f"data-testid={name}")


def _when(value) -> str:
    return clock.format_local(value, "%Y-%m-%d %H:%M") if value else "—"


async def _in_thread(fn: Callable[[Session], T]) -> T | None:
    """A service call that runs the face engine: off the event loop, with a fresh actor-bound session."""
    try:
        with session.unit_of_work() as db:
            return await run.io_bound(fn, db)
    except DomainError as exc:
        session.show_error(exc)
        return None


# --- the subject page's card ---------------------------------------------------------------------

def identity_card(ctx: PageContext, s: SubjectRead, ended: bool) -> None:
    if not ctx.can(Perm.subjects_read):
        return
    with ui.row().classes("w-full gap-3 items-stretch no-wrap max-lg:flex-wrap"):
        card = _testid(ui.card().classes("zj-card flex-1 min-w-[320px] p-4 gap-3"), "identity-card")
        with card:
            IdentityCard(ctx.can(Perm.subjects_write) and not ended, s.id, card).show()


class IdentityCard:
    """Face enrolment and phone login of one subject, with the phone login's actions."""

    def __init__(self, can_write: bool, subject_id: int, host: ui.element) -> None:
        self.can_write = can_write
        self.subject_id = subject_id
        self.host = host  # dialogs live here: refreshing the card's content must not remove them

    @ui.refreshable_method
    def show(self) -> None:
        section("签到身份")
        state = session.act(lambda db: service.enrolment_state(db_session=db, subject_id=self.subject_id))
        if state is None:
            return
        active, phone = state.active, state.phone
        face_text = (f"已采集（{_when(active.enrolled_at)}，{active.enrolled_by}，共采集 {len(state.enrolments)} 次）"
                     if active else "未采集 — 对象无法在自助终端或手机上签到")
        if phone.enabled:
            phone_text = f"已开通（密码设置于 {_when(phone.set_at)}，{phone.set_by}；当前登录 {phone.open_sessions} 处）"
            if phone.locked_until:
                phone_text += f"；因多次输错已锁定至 {_when(phone.locked_until)}"
        else:
            phone_text = "未开通"
        with ui.element("div").classes("zj-kv"):
            ui.label("人脸").classes("k")
            _testid(ui.label(face_text).classes("v"), "face-state")
            ui.label("手机登录").classes("k")
            _testid(ui.label(phone_text).classes("v"), "phone-state")
            ui.label("登录方式").classes("k")
            ui.label("手机浏览器打开 /m/，账号为身份证号码").classes("v")
        with ui.row().classes("gap-2"):
            _testid(ui.button("人脸采集" if not active else "重新采集人脸", icon="face",
                              on_click=lambda: ui.navigate.to(f"/subjects/{self.subject_id}/face")).props(
                "outline dense color=primary"), "open-face")
            if self.can_write:
                if not phone.enabled:
                    _testid(ui.button("开通手机登录", icon="phone_iphone", on_click=lambda: self.confirm("create")).props(
                        "outline dense color=primary"), "phone-create")
                else:
                    _testid(ui.button("重置密码", icon="lock_reset", on_click=lambda: self.confirm("reset")).props(
                        "outline dense color=primary"), "phone-reset")
                    _testid(ui.button("停用手机登录", icon="phonelink_erase", on_click=lambda: self.confirm("revoke"))
                            .props("outline dense color=negative"), "phone-revoke")

    def confirm(self, what: str) -> None:
        title, text = {
            "create": ("开通手机登录", "将生成一个随机初始密码，只显示一次，请当面告知对象本人。"),
            "reset": ("重置手机登录密码", "将生成新密码并使对象在所有手机上的登录立即失效。"),
            "revoke": ("停用手机登录", "对象将不能再登录手机端签到或应答视频点名，现有登录立即失效。"),
        }[what]
        with self.host, ui.dialog() as dialog, ui.card().classes("w-[480px] max-w-full gap-3"):
            section(title)
            ui.label(text).classes("text-sm")

            @session.action
            def go(db: Session) -> None:
                if what == "revoke":
                    ended = service.revoke_phone_login(db_session=db, subject_id=self.subject_id)
                    dialog.close()
                    ui.notify(f"已停用手机登录，结束登录 {ended} 处", type="positive", position="top")
                else:
                    password = service.issue_phone_password(db_session=db, subject_id=self.subject_id,
                                                            reset=what == "reset")
                    dialog.close()
                    self.show_password(password)
                self.show.refresh()

            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("取消", on_click=dialog.close).props("flat")
                _testid(ui.button(f"确认{title[:2]}", on_click=go).props(
                    f"unelevated color={'negative' if what == 'revoke' else 'primary'}"), "phone-confirm")
        dialog.open()

    def show_password(self, password: str) -> None:
        with self.host, ui.dialog().props("persistent") as dialog, ui.card().classes("w-[480px] max-w-full gap-3"):
            section("手机登录密码")
            _testid(ui.label(password).classes("text-3xl font-mono tracking-widest select-all"), "phone-password")
            ui.label("此密码只显示这一次，关闭后无法再次查看。请当面告知对象本人：手机浏览器打开 /m/，"
                     "账号为身份证号码。").classes("text-sm text-grey-8")
            with ui.row().classes("w-full justify-end"):
                _testid(ui.button("我已告知，关闭", on_click=dialog.close).props("unelevated color=primary"),
                        "phone-password-close")
        dialog.open()


# --- the enrolment page --------------------------------------------------------------------------

class FacePage:
    def __init__(self, ctx: PageContext, subject_id: int, ended: bool) -> None:
        can_write = ctx.can(Perm.subjects_write) and not ended
        self.subject_id = subject_id
        self.can_write = can_write
        self.passed: bytes | None = None  # the last frame that passed the gate
        self.checking = False
        if can_write:
            ui.add_css(CSS)
            ui.add_body_html(f"<script>{SCRIPT}</script>")
            ui.on("face_frame", self.on_frame)
            ui.on("face_camera", self.on_camera)
            with ui.row().classes("w-full gap-3 items-stretch no-wrap max-lg:flex-wrap"):
                self._camera_card()
                self._upload_card()
        else:
            with ui.card().classes("zj-card w-full p-4"):
                ui.label("矫正已结束，不能再采集人脸。" if ended else "您的角色无权采集人脸，只能查看采集记录。").classes(
                    "text-grey-8").mark("face-readonly")
        with _testid(ui.card().classes("zj-card w-full p-4 gap-3"), "face-history"):
            self.history()

    def _camera_card(self) -> None:
        with ui.card().classes("zj-card flex-1 min-w-[320px] p-4 gap-3"):
            section("摄像头采集")
            ui.label("请对象正对摄像头、摘下帽子和眼镜，画面中只保留本人；系统每 1.5 秒检查一次画面质量，"
                     "合格后方可采集。").classes("text-sm text-grey-8")
            with ui.row().classes("w-full gap-4 no-wrap max-md:flex-wrap items-start"):
                ui.html('<video id="face-video" class="zj-face-video" autoplay muted playsinline></video>',
                        sanitize=False)
                with ui.column().classes("gap-2 min-w-[220px] flex-1"):
                    ui.label("画面检查").classes("text-sm font-bold")
                    self.gate = _testid(ui.label("摄像头未开启").classes("text-base text-grey-8"), "face-gate")
                    self.preview = ui.image().classes("w-[160px] rounded").style("transform: scaleX(-1)")
                    self.preview.set_visibility(False)
            with ui.row().classes("gap-2"):
                self.start_button = _testid(ui.button("开启摄像头", icon="videocam", on_click=self.start).props(
                    "outline color=primary"), "face-camera-start")
                self.stop_button = _testid(ui.button("关闭摄像头", icon="videocam_off", on_click=self.stop).props(
                    "flat color=grey-8"), "face-camera-stop")
                self.capture_button = _testid(ui.button("采集此照片", icon="photo_camera", on_click=self.capture).props(
                    "unelevated color=primary"), "face-capture")
                self.capture_button.disable()
            self.result = _testid(ui.label("").classes("text-base"), "face-result")

    def _upload_card(self) -> None:
        with ui.card().classes("zj-card w-[380px] max-lg:w-full p-4 gap-3"):
            section("上传照片")
            ui.label("也可上传对象本人近期正面免冠照片：JPEG 或 PNG 格式，不超过 5 MB，面部清晰、光线均匀。").classes(
                "text-sm text-grey-8")
            _testid(ui.upload(label="选择照片", auto_upload=True, max_file_size=service.MAX_PHOTO_BYTES,
                              on_upload=self.on_upload, on_rejected=self.on_rejected).props(
                'accept=".jpg,.jpeg,.png,image/jpeg,image/png" flat bordered color=primary').classes(
                "w-full zj-face-upload"),
                "face-upload")
            self.upload_result = _testid(ui.label("").classes("text-base"), "face-upload-result")

    # camera

    def start(self) -> None:
        self.gate.set_text("正在打开摄像头…")
        ui.run_javascript(f"window.zhijiaoFace.start({{interval: {GATE_INTERVAL_MS}}})")

    def stop(self) -> None:
        ui.run_javascript("window.zhijiaoFace.stop()")
        self.passed = None
        self.capture_button.disable()
        self.gate.set_text("摄像头已关闭")
        self.gate.classes(remove="zj-gate-ok zj-gate-bad")

    def on_camera(self, event: Any) -> None:
        args = event.args or {}
        if not args.get("ok"):
            self._gate(False, str(args.get("message") or "摄像头无法使用"))
        else:
            self.gate.set_text("摄像头已开启，正在检查画面…")

    async def on_frame(self, event: Any) -> None:
        if self.checking:
            return  # the previous frame is still being checked: skip this one
        text = str((event.args or {}).get("image") or "")
        try:
            if len(text) > MAX_FRAME_B64:
                raise InvalidInput("画面过大", code="image_too_large")
            frame_bytes = base64.b64decode(text, validate=True)
        except (binascii.Error, InvalidInput):
            self._gate(False, "收到的画面无法识别，请重新开启摄像头")
            return
        self.checking = True
        try:
            result = await _in_thread(lambda db: service.assess_photo(
                db_session=db, subject_id=self.subject_id, image=frame_bytes))
        finally:
            self.checking = False
        if result is None:
            return
        self._gate(result.passed, result.message)
        if result.passed:
            self.passed = frame_bytes
            self.preview.set_source("data:image/jpeg;base64," + text)
            self.preview.set_visibility(True)

    def _gate(self, ok: bool, text: str) -> None:
        self.gate.set_text(text)
        self.gate.classes(add="zj-gate-ok" if ok else "zj-gate-bad", remove="zj-gate-bad" if ok else "zj-gate-ok")
        self.capture_button.set_enabled(ok)
        if not ok:
            self.passed = None

    async def capture(self) -> None:
        photo = self.passed
        if photo is None:
            return
        self.capture_button.disable()
        enrolment = await _in_thread(lambda db: service.enrol_photo(
            db_session=db, subject_id=self.subject_id, image=photo, source="camera"))
        if enrolment is None:
            self.capture_button.set_enabled(self.passed is not None)
            return
        ui.run_javascript("window.zhijiaoFace.stop()")
        self.passed = None
        self.gate.set_text("采集完成，摄像头已关闭")
        self._done(self.result, "camera")

    # upload

    async def on_upload(self, event: Any) -> None:
        data = await event.file.read()
        self.upload_result.set_text("正在检查照片…")
        self.upload_result.classes(remove="zj-gate-ok zj-gate-bad")
        try:
            with session.unit_of_work() as db:
                await run.io_bound(lambda: service.enrol_photo(db_session=db, subject_id=self.subject_id,
                                                               image=data, source="upload"))
        except DomainError as exc:
            self.upload_result.set_text(f"未采集：{exc.message}")
            self.upload_result.classes(add="zj-gate-bad")
            session.show_error(exc)
            return
        finally:
            event.sender.reset()
        self._done(self.upload_result, "upload")

    def on_rejected(self) -> None:
        text = "照片只能是 JPEG 或 PNG 格式，且不能超过 5 MB"
        self.upload_result.set_text(f"未采集：{text}")
        self.upload_result.classes(add="zj-gate-bad", remove="zj-gate-ok")
        ui.notify(text, type="warning", position="top")

    def _done(self, label: ui.label, source: str) -> None:
        label.set_text(f"人脸采集成功（{SOURCE[source]}），对象现在可以签到")
        label.classes(add="zj-gate-ok", remove="zj-gate-bad")
        ui.notify("人脸采集成功", type="positive", position="top")
        self.history.refresh()

    # history

    @ui.refreshable_method
    def history(self) -> None:
        section("采集记录")
        state = session.act(lambda db: service.enrolment_state(db_session=db, subject_id=self.subject_id))
        if state is None:
            return
        if not state.enrolments:
            _testid(ui.label("尚未采集人脸").classes("text-grey-7"), "face-state")
            return
        _testid(ui.label(f"已采集 {len(state.enrolments)} 次；签到时使用当前照片，以前的采集记录保留备查。").classes(
            "text-sm text-grey-8"), "face-state")
        with ui.column().classes("w-full gap-1"):
            for e in state.enrolments:
                with ui.row().classes("w-full items-center gap-3 py-1 border-b border-grey-3"):
                    ui.badge("当前" if e.active else "已停用", color="positive" if e.active else "grey-6")
                    ui.label(_when(e.enrolled_at)).classes("w-[140px]")
                    ui.label(f"采集人 {e.enrolled_by}").classes("w-[160px]")
                    ui.label(SOURCE.get(e.source or "", "—")).classes("w-[80px]")
                    ui.label(f"人脸 {e.face_px:.0f} 像素" if e.face_px else "").classes("w-[120px] text-grey-8")
                    _testid(ui.button("查看照片", icon="visibility", on_click=lambda i=e.id: self.view(i)).props(
                        "flat dense no-caps color=primary"), f"face-photo-{e.id}").tooltip("查看将记入审计日志")

    def view(self, enrolment_id: int) -> None:
        data = session.act(lambda db: service.enrolment_photo(db_session=db, subject_id=self.subject_id,
                                                              enrolment_id=enrolment_id))
        if data is None:
            return
        media = "image/png" if data[:4] == b"\x89PNG" else "image/jpeg"
        with ui.dialog() as dialog, ui.card().classes("gap-2"):
            section("采集照片")
            ui.image(f"data:{media};base64,{base64.b64encode(data).decode()}").classes("w-[360px]")
            ui.label("本次查看已记入审计日志").classes("text-xs text-grey-7")
            ui.button("关闭", on_click=dialog.close).props("flat")
        dialog.open()


def register() -> None:
    sections.add_subject_section("checkins", identity_card)

    @protected_page("/subjects/{subject_id}/face")
    def face_page(ctx: PageContext, subject_id: int) -> None:
        with frame("人脸采集") as f:
            with f.actions:
                ui.button("返回档案", icon="arrow_back", on_click=lambda: ui.navigate.to(f"/subjects/{subject_id}")
                          ).props("flat dense color=primary").mark("back-to-subject")
            try:
                state = service.enrolment_state(db_session=ctx.db, subject_id=subject_id)
            except DomainError as exc:
                error_notice(exc)
                return
            with ui.card().classes("zj-card w-full p-4 gap-2"):
                _testid(ui.label(state.subject_name).classes("text-2xl font-bold").style("color:#0f2f5a"),
                        "face-subject-name")
                active = state.active
                kv([("当前人脸", f"已采集（{_when(active.enrolled_at)}，{active.enrolled_by}）" if active else "未采集"),
                    ("用途", "自助终端签到、手机签到和视频点名时与现场人脸比对")])
            FacePage(ctx, subject_id, state.ended)
