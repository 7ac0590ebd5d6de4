"""Video wall (视频监控): the cameras of the center, the offices and the vehicles, and live roll calls.

Cameras are configured by hand through ``/api/v1/cameras`` (or the form here) until the
GB/T 28181 integration fills the list. Browsers play HLS/HTTP-FLV only with hls.js/flv.js,
which are not bundled (and no CDN may be used): a tile plays in the page only when the browser
can play the stream natively and it is served from this origin (the CSP allows no other media
host); otherwise it shows the camera's status and opens the stream in a new window or a player.
"""

from __future__ import annotations

import json

from nicegui import ui
from pydantic import ValidationError
from sqlalchemy.orm import Session

from zhijiao.command import service as command_service
from zhijiao.command.live import hub
from zhijiao.command.schemas import (
    CAMERA_STATUS_LABELS,
    LOCATION_LABELS,
    CameraCreate,
    CameraRead,
    CameraStatus,
    LocationKind,
    StreamProtocol,
)
from zhijiao.core.errors import DomainError
from zhijiao.org import service as org_service
from zhijiao.security.permissions import Perm
from zhijiao.supervision import forms
from zhijiao.ui import session
from zhijiao.ui.command import (
    NOTICE_CLOSE,
    _esc,
    background,
    command_page,
    header,
    local_time,
    office_scope,
    panel,
    screen_frame,
    theme,
)
from zhijiao.ui.session import PageContext

MIME = {StreamProtocol.hls: "application/vnd.apple.mpegurl", StreamProtocol.flv: "video/x-flv",
        StreamProtocol.other: "video/mp4"}
ROLLCALL_STATUS = {"pending": "待应答", "answered_matched": "已应答（比对通过）",
                   "answered_not_matched": "已应答（比对未通过）", "no_answer": "未应答", "calling": "呼叫中",
                   "ringing": "呼叫中", "started": "进行中", "in_progress": "进行中", "active": "进行中",
                   "answered": "已应答", "missed": "未应答", "ended": "已结束", "failed": "失败"}
_TILE_JS = """
(() => {
  for (const tile of document.querySelectorAll('.cc-video[data-src]')) {
    if (tile.dataset.tried) continue;
    tile.dataset.tried = '1';
    let same = false;
    try { same = new URL(tile.dataset.src, location.href).origin === location.origin; } catch (e) {}
    const v = document.createElement('video');
    if (same && v.canPlayType(tile.dataset.mime)) {
      v.muted = true; v.autoplay = true; v.playsInline = true; v.src = tile.dataset.src;
      v.style.cssText = 'width:100%;height:100%;object-fit:cover';
      tile.querySelector('.cc-nosignal')?.remove();
      tile.prepend(v);
    }
  }
})();
"""


async def video_page(ctx: PageContext) -> None:
    try:
        cameras = [command_service.camera_read(c) for c in command_service.list_cameras(db_session=ctx.db)]
    except DomainError as exc:
        theme()
        header(ctx, "/command/video")
        ui.label(exc.message).classes("cc-empty text-lg w-full")
        return
    can_manage = ctx.can(Perm.cameras_manage)
    offices = {o.id: o.name for o in org_service.list_offices(db_session=ctx.db)} if can_manage else {}
    await screen_frame(ctx, "/command/video", live=True)
    VideoWall(ctx, cameras, offices, can_manage)


def register() -> None:
    # The 三员's system administrator manages the cameras here without seeing any case file.
    command_page("/command/video", "视频监控 · 智矫", needs=None)(video_page)


class VideoWall:
    def __init__(self, ctx: PageContext, cameras: list[CameraRead], offices: dict[int, str], can_manage: bool) -> None:
        self.ctx, self.cameras, self.offices = ctx, cameras, offices
        self.kind: str | None = None
        self.viewer = hub.connect(office_scope(ctx))
        ui.context.client.on_delete(lambda: hub.disconnect(self.viewer))
        with ui.element("div").classes("cc-page flex flex-col gap-3"):
            if ctx.can(Perm.subjects_read):
                body, self.rc_extra = panel("视频点名（实时）", classes="flex-none")
                with body:
                    self.rollcalls = ui.refreshable(self._rollcalls)
                    self.rollcalls()
            else:
                self.rollcalls = None
            body, self.extra = panel("视频监控", classes="flex-none")
            with body:
                with ui.row().classes("items-center gap-2 mb-3"):
                    ui.toggle({"": "全部", **{k.value: v for k, v in LOCATION_LABELS.items()}}, value="",
                              on_change=lambda e: self.filter(e.value)).props(
                        "dense unelevated toggle-color=cyan toggle-text-color=black color=blue-grey-10").mark(
                        "video-filter")
                    ui.space()
                    if can_manage:
                        ui.button("登记视频设备", icon="add", on_click=self.add_dialog).props(
                            "outline color=cyan dense").mark("camera-add")
                self.grid = ui.refreshable(self._grid)
                self.grid()
        ui.timer(1.0, self.flush)

    def filter(self, kind: str) -> None:
        self.kind = kind or None
        self.grid.refresh()

    def _grid(self) -> None:
        shown = [c for c in self.cameras if self.kind is None or c.location_kind == self.kind]
        online = sum(c.status == "online" for c in self.cameras)
        self.extra.set_text(f"共 {len(self.cameras)} 路 · 在线 {online} 路")
        if not shown:
            ui.label("尚未配置视频设备（国标 GB/T 28181 接入后自动同步；现可手工登记）").classes("cc-empty") \
                .mark("video-empty")
            return
        with ui.element("div").classes("cc-video-grid"):
            for c in shown:
                self._tile(c)
        ui.run_javascript(_TILE_JS)

    def _tile(self, c: CameraRead) -> None:
        kind = LOCATION_LABELS.get(LocationKind(c.location_kind), c.location_kind)
        status = CAMERA_STATUS_LABELS.get(CameraStatus(c.status), c.status)
        with ui.element("div").classes("cc-panel").mark(f"camera-{c.id}"):
            with ui.element("div").classes("cc-video").props(
                    f"data-src={json.dumps(c.stream_url)} data-mime={MIME.get(c.stream_protocol, '')}"):
                ui.html(f"<div class='cc-nosignal'><i class='q-icon notranslate material-icons' aria-hidden='true' "
                        f"style='font-size:34px'>videocam_off</i><br>"
                        f"{'信号源：' + c.stream_protocol.upper()}<br>浏览器不能直接播放此流，请点“打开播放”</div>",
                        sanitize=False)
                ui.html(f"<span class='cc-rec'>{_esc(c.name)}</span>"
                        f"<span class='cc-status cc-chip cc-status-{c.status}'>● {status}</span>", sanitize=False)
            with ui.row().classes("items-center justify-between px-3 py-2 no-wrap"):
                where = f"{kind}{' · ' + c.office_name if c.office_name else ''}{' · ' + c.address if c.address else ''}"
                ui.label(where).classes("text-sm ellipsis min-w-0 flex-1").style("color: var(--cc-dim)").tooltip(where)
                with ui.row().classes("gap-1 no-wrap items-center flex-none"):
                    ui.link("打开播放", c.stream_url, new_tab=True).classes("text-cyan-300 text-sm whitespace-nowrap")
                    ui.button(icon="content_copy", on_click=lambda _e, url=c.stream_url: self.copy(url)).props(
                        "flat dense round size=sm color=grey-5")

    def copy(self, url: str) -> None:
        ui.clipboard.write(url)
        ui.notify("已复制视频地址，可粘贴到播放器（如 VLC）", position="top")

    def _rollcalls(self) -> None:
        items = hub.live_rollcalls(self.viewer)
        self.rc_extra.set_text(f"{len(items)} 场" if items else "")
        if not items:
            ui.label("暂无进行中的视频点名（视频点名模块接入后在此实时显示）").classes("cc-empty").mark("rollcalls-empty")
            return
        with ui.element("div").classes("cc-video-grid"):
            for rc in items[:24]:
                status = ROLLCALL_STATUS.get(str(rc.get("status")), "状态未知")  # never an English code
                with ui.element("div").classes("cc-tile").mark("rollcall"):
                    ui.label(f"{rc.get('subject_label') or ''} · {rc.get('office') or ''}").classes("font-bold")
                    ui.label(f"{status} · {local_time(rc['_at'], '%H:%M:%S')}").classes("text-sm").style(
                        "color: var(--cc-dim)")

    def flush(self) -> None:
        delta = hub.take(self.viewer)
        if delta.rollcalls_changed and self.rollcalls is not None:
            self.rollcalls.refresh()

    def add_dialog(self) -> None:
        with ui.dialog() as dialog, ui.card().classes("cc-panel min-w-[420px]"):
            ui.label("登记视频设备").classes("cc-panel-title w-full")
            name = ui.input("名称").classes("w-full").mark("camera-name")
            kind = ui.select({k.value: v for k, v in LOCATION_LABELS.items()}, value="center_room",
                             label="位置").classes("w-full")
            office = ui.select({0: "（中心/无）", **self.offices}, value=0, label="所属司法所").classes("w-full")
            gb = ui.input("国标编码（20 位数字，可不填）").props("maxlength=20").classes("w-full").mark("camera-gb")
            address = ui.input("安装地点").classes("w-full").mark("camera-address")
            url = ui.input("视频地址（HLS .m3u8 / HTTP-FLV .flv）").classes("w-full").mark("camera-url")

            def save() -> None:
                def create(db: Session) -> CameraRead:
                    camera_in = CameraCreate(name=name.value or "", location_kind=kind.value,
                                             office_id=office.value or None, stream_url=url.value or "",
                                             gb_device_id=gb.value or None, address=address.value or None)
                    return command_service.camera_read(command_service.create_camera(db_session=db,
                                                                                     camera_in=camera_in))

                try:
                    created = session.act(create, close_button=NOTICE_CLOSE)
                except ValidationError as exc:  # pydantic validation of the form, in Chinese
                    forms.invalid(exc)
                    return
                if created is not None:
                    dialog.close()
                    self.cameras = background(self.ctx, lambda db: [
                        command_service.camera_read(c) for c in command_service.list_cameras(db_session=db)])
                    self.grid.refresh()
                    ui.notify("已登记", type="positive", position="top")

            with ui.row().classes("justify-end w-full"):
                ui.button("取消", on_click=dialog.close).props("flat")
                ui.button("保存", on_click=save).props("unelevated color=cyan text-color=black").mark("camera-save")
        dialog.open()
