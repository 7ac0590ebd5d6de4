"""Screens of electronic positioning: the device registry (定位设备), binding on the subject's page,
and the positioning orders (电子定位, 社区矫正法 第二十九条): the office proposes, the bureau's head
approves (the 使用电子定位装置决定书 is made) or refuses. The services decide who may do what;
their refusals come back as Chinese notices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from nicegui import ui
from pydantic import ValidationError
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import DomainError
from zhijiao.core.pagination import Page
from zhijiao.monitoring import positioning
from zhijiao.monitoring import service as monitoring_service
from zhijiao.monitoring.schemas import (
    BindingCreate,
    DeviceCreate,
    DeviceListItem,
    OrderDecisionIn,
    OrderRead,
    ProposalCreate,
)
from zhijiao.security.permissions import Perm
from zhijiao.subjects.schemas import SubjectStatus
from zhijiao.supervision import forms
from zhijiao.ui import menu, sections, session
from zhijiao.ui.components.date_input import date_input
from zhijiao.ui.components.paged_table import PagedTable, fetch_page
from zhijiao.ui.layout import error_notice, frame, section
from zhijiao.ui.session import PageContext, protected_page

KIND_LABELS = {"bracelet": "电子定位腕带", "phone": "手机"}
PROTOCOL_LABELS = {"jt808": "JT/T 808", "mqtt": "MQTT", "http": "HTTP"}
EXPIRY_WINDOWS = (7, 15, 30)


def _time(value) -> str:
    return clock.format_local(value) if value else "—"


# --- the device registry ------------------------------------------------------------------------


def _device_row(d: DeviceListItem) -> dict:
    if not d.active:
        state = "停用"
    else:
        state = "在线" if d.online else "离线"
    if d.subject_name:
        wearer = d.subject_name
    else:
        wearer = "其他司法所使用中" if d.bound_elsewhere else "未绑定"
    return {"id": d.id, "ident": d.ident, "kind": KIND_LABELS.get(d.kind, d.kind),
            "protocol": PROTOCOL_LABELS.get(d.protocol, d.protocol), "state": state,
            "last_fix": _time(d.last_fix_at), "battery": "—" if d.battery_pct is None else f"{d.battery_pct}%",
            "subject": wearer, "subject_id": d.subject_id, "bound_at": _time(d.bound_at)}


DEVICE_COLUMNS = [
    {"name": "ident", "label": "设备编号", "field": "ident", "align": "left"},
    {"name": "kind", "label": "类型", "field": "kind", "align": "left"},
    {"name": "protocol", "label": "接入协议", "field": "protocol", "align": "left"},
    {"name": "state", "label": "状态", "field": "state", "align": "left"},
    {"name": "last_fix", "label": "最后定位", "field": "last_fix", "align": "left"},
    {"name": "battery", "label": "电量", "field": "battery", "align": "right"},
    {"name": "subject", "label": "佩戴对象", "field": "subject", "align": "left"},
    {"name": "bound_at", "label": "绑定时间", "field": "bound_at", "align": "left"},
]


def _devices(q: dict) -> Callable[[Session, int, int], Page[DeviceListItem]]:
    """A page of the registry under the filters in ``q`` (read when the page is fetched)."""
    def fetch(db: Session, page: int, size: int) -> Page[DeviceListItem]:
        return monitoring_service.list_devices(db_session=db, q=q.get("q") or None, bound=q.get("bound"),
                                               page=page, size=size)
    return fetch


def register_device_dialog() -> None:
    with ui.dialog() as dialog, ui.card().classes("min-w-[460px] gap-3"):
        section("登记定位设备")
        kind = ui.select(KIND_LABELS, value="bracelet", label="类型").props("outlined dense").classes("w-full") \
            .mark("device-kind")
        protocol = ui.select(PROTOCOL_LABELS, value="jt808", label="接入协议").props("outlined dense") \
            .classes("w-full").mark("device-protocol")
        ident = ui.input("设备编号（JT/T 808 终端手机号，或 MQTT/HTTP 设备编号）").props("outlined dense") \
            .classes("w-full").mark("device-ident")
        note = ui.input("备注（型号、批次等，可不填）").props("outlined dense").classes("w-full").mark("device-note")

        @session.action
        def submit(db: Session) -> None:
            try:
                device_in = DeviceCreate(kind=kind.value, protocol=protocol.value, ident=(ident.value or "").strip(),
                                         note=note.value or None)
            except ValidationError as exc:
                forms.invalid(exc)
                return
            created = monitoring_service.create_device(db_session=db, device_in=device_in)
            dialog.close()
            _show_secret(created.ident, created.secret, created.protocol, typed=device_in.ident)

        with ui.row().classes("justify-end w-full"):
            ui.button("取消", on_click=dialog.close).props("flat")
            ui.button("登记", on_click=submit).props("unelevated color=primary").mark("device-submit")
    dialog.open()


def _show_secret(ident: str, secret: str | None, protocol: str, typed: str | None = None) -> None:
    """The device's token is shown once: only its hash is kept."""
    with ui.dialog().props("persistent") as dialog, ui.card().classes("min-w-[460px] gap-3").mark("device-created"):
        section(f"设备 {ident} 已登记")
        if typed and typed != ident:
            ui.label(f"终端手机号 {typed} 已统一登记为 {ident}（去掉前导 0；2013 版与 2019 版消息头均可接入）。") \
                .classes("text-sm").mark("device-ident-normalised")
        if secret:
            ui.label("设备令牌（仅显示这一次，请立即写入设备；系统只保存其摘要，无法再次查看）：").classes("text-sm")
            ui.label(secret).classes("text-lg font-mono p-2 bg-grey-2 rounded select-all").mark("device-secret")
        else:
            ui.label("JT/T 808 终端首次注册时由平台自动下发鉴权码，无需手工设置。").classes("text-sm")
        with ui.row().classes("justify-end w-full"):
            ui.button("我已记录，关闭", on_click=lambda: (dialog.close(), ui.navigate.reload())).props(
                "unelevated color=primary").mark("device-secret-close")
    dialog.open()


# --- the subject's page: devices and positioning orders ----------------------------------------


def bind_dialog(subject_id: int, devices: dict[int, str]) -> None:
    def build():
        choice = ui.select(devices, label="选择未绑定的设备", with_input=True).props("outlined dense") \
            .classes("w-full").mark("bind-device")
        return lambda: {"device_id": choice.value}

    def save(db: Session, data: dict) -> str:
        binding = monitoring_service.bind_device(db_session=db, subject_id=subject_id,
                                                 binding_in=BindingCreate(device_id=data["device_id"]))
        return f"已绑定设备 {binding.device.ident}"

    forms.form("绑定定位设备", "绑定", "bind", build, save)


def unbind_dialog(subject_id: int, device_id: int, ident: str) -> None:
    def build():
        reason = ui.input("解除原因（必填，如：设备故障更换、解除电子定位）").props("outlined dense") \
            .classes("w-full").mark("unbind-reason")
        return lambda: {"reason": reason.value or ""}

    def save(db: Session, data: dict) -> str:
        monitoring_service.unbind_device(db_session=db, subject_id=subject_id, device_id=device_id,
                                         reason=data["reason"])
        return f"已解除设备 {ident} 的绑定"

    forms.form(f"解除设备 {ident} 的绑定", "解除绑定", "unbind", build, save)


def proposal_dialog(subject_id: int, extends: OrderRead | None = None) -> None:
    today = clock.today_local()
    start = extends.end_date + timedelta(days=1) if extends else today
    end = positioning.add_months(start, positioning.MAX_MONTHS) - timedelta(days=1)

    def build():
        trigger = ui.select({t.value: label for t, label in positioning.TRIGGER_LABELS.items()},
                            value=extends.trigger if extends else None,
                            label="适用情形（社区矫正法第二十九条第一款）").props("outlined dense").classes("w-full") \
            .mark("proposal-trigger")
        start_in = date_input("开始日期", value=start.isoformat()).mark("proposal-start")
        end_in = date_input("结束日期（每次不超过三个月）", value=end.isoformat()).mark("proposal-end")
        reason = ui.textarea("事实与理由").props("outlined dense autogrow").classes("w-full").mark("proposal-reason")
        return lambda: {"trigger": trigger.value, "start_date": start_in.value, "end_date": end_in.value,
                        "reason": reason.value or "", "extends_id": extends.id if extends else None}

    def save(db: Session, data: dict) -> str:
        monitoring_service.propose_order(db_session=db, subject_id=subject_id, proposal_in=ProposalCreate(**data))
        return "已提请，待区司法局负责人审批"

    title = "提请延长使用电子定位装置" if extends else "提请使用电子定位装置（社区矫正法第二十九条）"
    forms.form(title, "提请审批", "proposal", build, save)


def revoke_dialog(order_id: int) -> None:
    def build():
        reason = ui.input("解除原因（必填）").props("outlined dense").classes("w-full").mark("revoke-reason")
        return lambda: {"reason": reason.value or ""}

    def save(db: Session, data: dict) -> str:
        monitoring_service.revoke_order(db_session=db, order_id=order_id, reason=data["reason"])
        return "已解除电子定位"

    forms.form("解除电子定位", "解除", "revoke", build, save)


def _order_line(ctx: PageContext, o: OrderRead, *, with_subject: bool = False) -> None:
    with ui.row().classes("items-center gap-2 w-full").mark(f"order-{o.id}"):
        if with_subject:
            ui.link(o.subject_name or "—", f"/subjects/{o.subject_id}").classes("font-bold")
        ui.label(f"{'延长' if o.kind == 'extension' else '使用'} {o.start_date.isoformat()} 至 "
                 f"{o.end_date.isoformat()}").classes("text-sm")
        color = {"待审批": "orange", "已批准": "positive", "不予批准": "grey", "已解除": "grey"}.get(o.status_label)
        ui.badge(o.status_label, color=color).props("outline")
        if o.document_id:
            ui.link(f"决定书 {o.document_number}", f"/documents/{o.document_id}/pdf", new_tab=True) \
                .classes("text-sm").mark(f"order-document-{o.id}")
        today = clock.today_local()
        running = o.status == "approved" and o.revoked_at is None and o.end_date >= today
        if running and ctx.can(Perm.workflows_write):
            ui.button("提请延长", on_click=lambda o=o: proposal_dialog(o.subject_id, o)).props(
                "dense flat color=primary").mark(f"order-extend-{o.id}")
        if running and ctx.can(Perm.positioning_approve):
            ui.button("解除", on_click=lambda i=o.id: revoke_dialog(i)).props("dense flat color=negative").mark(
                f"order-revoke-{o.id}")
    if o.status == "refused" and o.decision_note:
        ui.label(f"不予批准理由：{o.decision_note}").classes("text-xs text-grey-7")


def subject_section(ctx: PageContext, subject, ended: bool) -> None:
    try:
        bindings = monitoring_service.list_bindings(db_session=ctx.db, subject_id=subject.id)
        orders = monitoring_service.orders_read(
            ctx.db, monitoring_service.list_orders(db_session=ctx.db, subject_id=subject.id))
    except DomainError as exc:
        error_notice(exc)
        return
    writer = ctx.can(Perm.subjects_write) and not ended
    with ui.row().classes("w-full gap-3 items-stretch no-wrap max-lg:flex-wrap"):
        with ui.card().classes("zj-card flex-1 min-w-[320px] p-4 gap-2").mark("subject-devices"):
            with ui.row().classes("items-center w-full"):
                section("定位设备")
                ui.space()
                if writer:
                    ui.button("绑定设备", icon="link", on_click=lambda: _open_bind(subject.id)).props(
                        "dense outline color=primary").mark("open-bind")
            current = [b for b in bindings if b.end_at is None]
            if not current:
                ui.label("当前未绑定定位设备").classes("text-grey-7 text-sm").mark("no-binding")
            for b in current:
                d = b.device
                with ui.row().classes("items-center gap-2"):
                    ui.icon("watch", size="20px").classes("text-primary")
                    ui.label(f"{d.ident}（{KIND_LABELS.get(d.kind, d.kind)}）").classes("font-bold").mark(
                        f"bound-{d.id}")
                    ui.label(f"自 {_time(b.start_at)} 起 · 最后定位 {_time(d.last_fix_at)}"
                             f"{' · 电量 ' + str(d.battery_pct) + '%' if d.battery_pct is not None else ''}") \
                        .classes("text-sm text-grey-8")
                    if writer:
                        ui.button("解除绑定", on_click=lambda d=d: unbind_dialog(subject.id, d.id, d.ident)).props(
                            "dense flat color=negative").mark(f"unbind-{d.id}")
            past = [b for b in bindings if b.end_at is not None]
            if past:
                ui.label("绑定记录").classes("text-xs text-grey-7 pt-2")
                with ui.column().classes("gap-0").mark("binding-history"):
                    for b in past[:10]:
                        ui.label(f"{b.device.ident}：{_time(b.start_at)} 至 {_time(b.end_at)}，"
                                 f"解除原因：{b.unbind_reason or '—'}（{b.unbound_by or '—'}）").classes("text-sm")
        with ui.card().classes("zj-card flex-1 min-w-[320px] p-4 gap-2").mark("subject-orders"):
            with ui.row().classes("items-center w-full"):
                section("电子定位（社区矫正法第二十九条）")
                ui.space()
                if (ctx.can(Perm.workflows_write) and not ended
                        and subject.status == SubjectStatus.under_correction):
                    ui.button("提请使用", icon="add_location", on_click=lambda: proposal_dialog(subject.id)).props(
                        "dense outline color=primary").mark("open-proposal")
            if not orders:
                ui.label("未使用电子定位").classes("text-grey-7 text-sm").mark("no-orders")
            for o in reversed(orders):
                _order_line(ctx, o)


@session.action
def _open_bind(db: Session, subject_id: int) -> None:
    devices = {d.id: f"{d.ident}（{KIND_LABELS.get(d.kind, d.kind)}）"
               for d in monitoring_service.unbound_devices(db_session=db)}
    if not devices:
        ui.notify("没有可绑定的设备，请先在“定位设备”中登记", type="warning", position="top")
        return
    bind_dialog(subject_id, devices)


# --- the orders page ---------------------------------------------------------------------------


@session.action
def _decide(db: Session, order_id: int, decision: str, note: str | None) -> None:
    try:
        decision_in = OrderDecisionIn(decision=decision, note=note or None)  # type: ignore[arg-type]
    except ValidationError as exc:
        forms.invalid(exc)
        return
    order = monitoring_service.decide_order(db_session=db, order_id=order_id, decision_in=decision_in)
    ui.notify("已批准，已生成《使用电子定位装置决定书》" if order.status == "approved" else "已不予批准",
              type="positive", position="top")
    ui.navigate.reload()


def _pending(ctx: PageContext) -> None:
    pending = monitoring_service.orders_read(
        ctx.db, monitoring_service.list_orders_by(db_session=ctx.db, status=monitoring_service.PROPOSED))
    section(f"待审批提请（{len(pending)}）")
    if not pending:
        ui.label("暂无待审批的电子定位提请").classes("text-grey-7").mark("orders-pending-empty")
    leader = ctx.can(Perm.positioning_approve)
    for o in pending:
        with ui.card().classes("zj-card w-full p-4 gap-2").mark(f"proposal-{o.id}"):
            with ui.row().classes("items-center gap-3 w-full"):
                ui.link(o.subject_name or "—", f"/subjects/{o.subject_id}").classes("text-lg font-bold")
                ui.label(o.office_name or "")
                ui.label(f"{'延长' if o.kind == 'extension' else '使用'}期限：{o.start_date.isoformat()} 至 "
                         f"{o.end_date.isoformat()}")
            ui.label(f"适用情形：{o.trigger_label}").classes("text-sm")
            ui.label(f"事实与理由：{o.reason}").classes("text-sm")
            ui.label(f"提请人：{o.proposed_by_name or '—'} · {_time(o.proposed_at)}").classes("text-xs text-grey-7")
            if leader:
                note = ui.input("审批意见（不予批准时必填理由）").props("outlined dense").classes("w-full").mark(
                    f"decision-note-{o.id}")
                with ui.row().classes("gap-2"):
                    ui.button("批准", on_click=lambda i=o.id, n=note: _decide(i, "approve", n.value)).props(
                        "unelevated color=positive").mark(f"approve-{o.id}")
                    ui.button("不予批准", on_click=lambda i=o.id, n=note: _decide(i, "refuse", n.value)).props(
                        "outline color=negative").mark(f"refuse-{o.id}")
            else:
                ui.label("由区司法局负责人审批").classes("text-xs text-grey-7")


def _expiring(ctx: PageContext) -> None:
    state = {"days": EXPIRY_WINDOWS[0],
             "rows": monitoring_service.expiring_orders(db_session=ctx.db, within_days=EXPIRY_WINDOWS[0])}

    def choose(days: int) -> None:
        rows = session.act(lambda db: monitoring_service.expiring_orders(db_session=db, within_days=days))
        if rows is not None:
            state.update(days=days, rows=rows)
            listing.refresh()

    @ui.refreshable
    def listing() -> None:
        rows = state["rows"]
        if not rows:
            ui.label(f"{state['days']} 日内没有到期的电子定位").classes("text-grey-7").mark("expiring-empty")
            return
        with ui.column().classes("gap-1").mark("expiring"):
            for e in rows:
                with ui.row().classes("items-center gap-3"):
                    ui.link(e.subject_name, f"/subjects/{e.subject_id}").classes("font-bold")
                    ui.label(e.office_name).classes("text-sm")
                    ui.label(f"{e.end_date.isoformat()} 到期（剩 {e.days_left} 日）").classes("text-sm")

    with ui.row().classes("items-center gap-3"):
        section("即将到期")
        ui.toggle({d: f"{d} 日内" for d in EXPIRY_WINDOWS}, value=EXPIRY_WINDOWS[0],
                  on_change=lambda e: choose(e.value)).props("dense").mark(
            "expiry-window")
    listing()


def register() -> None:
    menu.add_menu_item("定位设备", "/devices", "watch", menu.CASE, order=40)
    menu.add_menu_item("电子定位审批", "/positioning", "share_location", menu.CASE, order=41)
    sections.add_subject_section("monitoring", subject_section)

    @protected_page("/devices")
    def devices_page(ctx: PageContext) -> None:
        with frame("定位设备") as f:
            filters: dict = {}
            fetch = _devices(filters)
            try:
                first = fetch_page(fetch, ctx.db, 1, 20)
            except DomainError as exc:
                error_notice(exc)
                return
            if ctx.can(Perm.subjects_write):
                with f.actions:
                    ui.button("登记设备", icon="add", on_click=register_device_dialog).props(
                        "unelevated color=primary").mark("device-register")
            ui.label("在线：10 分钟内有数据。绑定与解除请在社区矫正对象页面办理；新登记设备的令牌仅显示一次。") \
                .classes("text-sm text-grey-7")

            def refilter(**changes) -> None:
                filters.update(changes)
                table.load(1, table.table.pagination.get("rowsPerPage") or 20)

            with ui.row().classes("items-center gap-3"):
                ui.input("按设备编号查找", on_change=lambda e: refilter(q=(e.value or "").strip())).props(
                    "outlined dense clearable debounce=400").classes("w-64").mark("devices-search")
                ui.toggle({0: "全部", 1: "已绑定", 2: "未绑定"}, value=0,
                          on_change=lambda e: refilter(bound={0: None, 1: True, 2: False}[e.value])).props(
                    "dense").mark("devices-bound")
            table = PagedTable(columns=DEVICE_COLUMNS, first=first, to_row=_device_row, fetch=fetch,
                               no_data="没有符合条件的定位设备",
                               on_open=lambda row: row.get("subject_id") and ui.navigate.to(
                                   f"/subjects/{row['subject_id']}"))
            table.table.mark("devices-table")

    @protected_page("/positioning")
    def positioning_page(ctx: PageContext) -> None:
        with frame("电子定位审批"):
            try:
                _pending(ctx)
                _expiring(ctx)
                in_force = monitoring_service.orders_read(
                    ctx.db, monitoring_service.list_orders_by(db_session=ctx.db, in_force=True))
            except DomainError as exc:
                error_notice(exc)
                return
            section(f"正在使用（{len(in_force)}）")
            if not in_force:
                ui.label("暂无正在使用的电子定位").classes("text-grey-7").mark("in-force-empty")
            with ui.column().classes("w-full gap-1").mark("in-force"):
                for o in in_force:
                    _order_line(ctx, o, with_subject=True)
