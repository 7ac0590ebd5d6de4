"""Cameras (视频设备): the list the command center reads, and for the system administrator (and
the district's officers, ``Perm.cameras_manage``) adding, editing and disabling a camera. The video
wall (``/command/video``) shows the active ones. The service decides who may see and change what."""

from __future__ import annotations

from nicegui import ui
from sqlalchemy.orm import Session

from zhijiao.command import service as command_service
from zhijiao.command.schemas import (
    CAMERA_STATUS_LABELS,
    LOCATION_LABELS,
    CameraCreate,
    CameraRead,
    CameraStatus,
    CameraUpdate,
    LocationKind,
)
from zhijiao.core import clock
from zhijiao.core.errors import DomainError
from zhijiao.org import service as org_service
from zhijiao.security.actor import Actor
from zhijiao.security.permissions import Perm, has_perm
from zhijiao.supervision import forms
from zhijiao.ui import menu, session
from zhijiao.ui.layout import error_notice, frame
from zhijiao.ui.session import PageContext, protected_page

COLUMNS = [
    {"name": "name", "label": "名称", "field": "name", "align": "left"},
    {"name": "gb", "label": "国标编码（GB/T 28181）", "field": "gb", "align": "left"},
    {"name": "kind", "label": "位置", "field": "kind", "align": "left"},
    {"name": "office", "label": "所属司法所", "field": "office", "align": "left"},
    {"name": "address", "label": "安装地点", "field": "address", "align": "left"},
    {"name": "status", "label": "状态", "field": "status", "align": "left"},
    {"name": "source", "label": "来源", "field": "source", "align": "left"},
]
SOURCE_LABELS = {"manual": "手工登记", "gb28181": "国标同步"}


def _sees_cameras(actor: Actor | None) -> bool:
    return has_perm(actor, Perm.subjects_read) or has_perm(actor, Perm.cameras_manage)


def _row(c: CameraRead) -> dict:
    status = CAMERA_STATUS_LABELS.get(CameraStatus(c.status), c.status) if c.active else "已停用"
    return {"id": c.id, "name": c.name, "gb": c.gb_device_id or "—",
            "kind": LOCATION_LABELS.get(LocationKind(c.location_kind), c.location_kind),
            "office": c.office_name or "—", "address": c.address or "—", "status": status,
            "source": SOURCE_LABELS.get(c.source, c.source), "active": c.active,
            "status_at": clock.format_local(c.status_at) if c.status_at else "—"}


def camera_dialog(offices: dict[int, str], camera: CameraRead | None = None) -> None:
    """Add (``camera`` None) or edit a camera."""

    def build():
        name = ui.input("名称", value=camera.name if camera else "").props("outlined dense").classes("w-full") \
            .mark("camera-name")
        gb = ui.input("国标编码（20 位数字，可不填）", value=camera.gb_device_id or "" if camera else "").props(
            'outlined dense maxlength=20').classes("w-full").mark("camera-gb")
        kind = ui.select({k.value: v for k, v in LOCATION_LABELS.items()},
                         value=camera.location_kind if camera else LocationKind.center_room.value,
                         label="位置").props("outlined dense").classes("w-full").mark("camera-kind")
        office = ui.select({0: "（中心 / 不属于司法所）", **offices},
                           value=(camera.office_id or 0) if camera else 0, label="所属司法所").props(
            "outlined dense").classes("w-full").mark("camera-office")
        address = ui.input("安装地点", value=camera.address or "" if camera else "").props("outlined dense") \
            .classes("w-full").mark("camera-address")
        url = ui.input("视频地址（HLS .m3u8 / HTTP-FLV .flv / RTSP）", value=camera.stream_url if camera else "") \
            .props("outlined dense").classes("w-full").mark("camera-url")
        return lambda: {"name": (name.value or "").strip(), "gb_device_id": (gb.value or "").strip(),
                        "location_kind": kind.value, "office_id": office.value or 0,
                        "address": (address.value or "").strip() or None, "stream_url": (url.value or "").strip()}

    def save(db: Session, data: dict) -> str:
        if camera is None:
            data = {**data, "office_id": data["office_id"] or None, "gb_device_id": data["gb_device_id"] or None}
            created = command_service.create_camera(db_session=db, camera_in=CameraCreate(**data))
            return f"已登记视频设备：{created.name}"
        command_service.update_camera(db_session=db, camera_id=camera.id, camera_in=CameraUpdate(**data))
        return "已保存"

    forms.form("修改视频设备" if camera else "登记视频设备", "保存", "camera", build, save)


@session.action
def _set_active(db: Session, camera_id: int, active: bool) -> None:
    command_service.update_camera(db_session=db, camera_id=camera_id, camera_in=CameraUpdate(active=active))
    ui.notify("已启用" if active else "已停用（不再显示在视频墙）", type="positive", position="top")
    ui.navigate.reload()


def register() -> None:
    menu.add_menu_item("视频设备", "/cameras", "videocam", _sees_cameras, order=95)

    @protected_page("/cameras")
    def cameras_page(ctx: PageContext) -> None:
        manage = ctx.can(Perm.cameras_manage)
        with frame("视频设备") as f:
            try:
                cameras = [command_service.camera_read(c) for c in command_service.list_cameras(
                    db_session=ctx.db, include_inactive=manage)]
                offices = {o.id: o.name for o in org_service.list_offices(db_session=ctx.db)} if manage else {}
            except DomainError as exc:
                error_notice(exc)
                return
            with f.actions:
                if ctx.can(Perm.subjects_read):
                    ui.link("打开视频墙", "/command/video").classes("text-sm").mark("open-video-wall")
                if manage:
                    ui.button("登记视频设备", icon="add", on_click=lambda: camera_dialog(offices)).props(
                        "unelevated color=primary").mark("camera-add")
            online = sum(c.active and c.status == CameraStatus.online for c in cameras)
            ui.label(f"共 {sum(c.active for c in cameras)} 路在用 · 在线 {online} 路。"
                     "国标 GB/T 28181 接入后自动同步，现可手工登记。").classes("text-sm text-grey-7")
            columns = COLUMNS + ([{"name": "actions", "label": "操作", "field": "id", "align": "left"}]
                                 if manage else [])
            table = ui.table(rows=[_row(c) for c in cameras], columns=columns, row_key="id").props(
                'dense flat bordered no-data-label="尚未配置视频设备" :pagination="{rowsPerPage: 50}"').classes(
                "zj-table w-full").mark("cameras-table")
            if manage:
                by_id = {c.id: c for c in cameras}
                table.add_slot("body-cell-actions", r"""
                    <q-td :props="props">
                      <q-btn flat dense color="primary" label="修改" @click="$parent.$emit('edit', props.row.id)" />
                      <q-btn flat dense :color="props.row.active ? 'negative' : 'positive'"
                             :label="props.row.active ? '停用' : '启用'"
                             @click="$parent.$emit('toggle', props.row.id)" />
                    </q-td>""")
                table.on("edit", lambda e: camera_dialog(offices, by_id[e.args]))
                table.on("toggle", lambda e: _set_active(e.args, not by_id[e.args].active))
