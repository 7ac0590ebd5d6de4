"""Screens of leave (外出请假, 社区矫正法 第二十七条): the request, the approval list (请假审批),
the return (销假). The service decides who may approve what; its refusals come back as notices."""

from __future__ import annotations

from nicegui import ui
from pydantic import ValidationError
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import DomainError
from zhijiao.org import service as org_service
from zhijiao.security.permissions import Perm
from zhijiao.supervision import common, forms
from zhijiao.supervision.leave import flows, service
from zhijiao.supervision.leave.rules import LeaveStatus
from zhijiao.supervision.leave.schemas import LeaveCreate, LeaveDecisionIn
from zhijiao.ui import menu, session
from zhijiao.ui.components.date_input import date_input
from zhijiao.ui.layout import error_notice, frame, section
from zhijiao.ui.session import PageContext, protected_page


def leave_dialog(subject_id: int) -> None:
    def build():
        start = date_input("外出日期", value=clock.today_local().isoformat()).mark("leave-start")
        end = date_input("返回日期", value=clock.today_local().isoformat()).mark("leave-end")
        destination = ui.input("目的地").props("outlined dense").classes("w-full").mark("leave-destination")
        reason = ui.textarea("事由").props("outlined dense autogrow").classes("w-full").mark("leave-reason")
        return lambda: {"start": start.value, "end": end.value, "destination": destination.value or "",
                        "reason": reason.value or ""}

    def save(db: Session, data: dict) -> str:
        row = service.request_leave(db_session=db, subject_id=subject_id, leave_in=LeaveCreate(**data))
        who = "司法所" if row.approver_level == "office" else "区司法局"
        return f"已提交外出申请（{row.days} 日），待{who}审批"

    forms.form("外出请假申请（社区矫正法第二十七条）", "提交", "leave", build, save)


def leaves_card(ctx: PageContext, subject_id: int, ended: bool) -> None:
    rows = service.list_leaves(db_session=ctx.db, subject_id=subject_id)
    if not rows:
        return
    with ui.card().classes("zj-card min-w-[300px] p-4 gap-2").mark("leaves"):
        section("外出记录")
        for row in rows[-5:]:
            item = service.leave_read(ctx.db, row)
            with ui.row().classes("items-center gap-2"):
                ui.label(f"{item.start.isoformat()}–{item.end.isoformat()} {item.destination}").classes("text-sm")
                ui.badge(item.status_label).props("outline")
                away = item.status in (LeaveStatus.approved, LeaveStatus.overdue)
                if away and not ended and ctx.can(Perm.subjects_write):
                    ui.button("销假", on_click=lambda i=item.id: _return(i)).props("dense flat color=primary").mark(
                        f"leave-return-{item.id}")


def register() -> None:
    menu.add_menu_item("请假审批", "/leave", "event_available", menu.CASE, order=30)

    @protected_page("/leave")
    def leave_page(ctx: PageContext) -> None:
        with frame("请假审批"):
            try:
                rows = service.list_leaves(db_session=ctx.db, status=LeaveStatus.pending)
                items = [service.leave_read(ctx.db, r) for r in rows]
                names = {r.id: common.subject(ctx.db, r.subject_id) for r in rows}
                people = org_service.names_of(db_session=ctx.db, usernames=[i.requested_by for i in items])
            except DomainError as exc:
                error_notice(exc)
                return
            if not items:
                ui.label("暂无待审批的外出申请").classes("text-grey-7").mark("leave-empty")
                return
            for item in items:
                subject = names[item.id]
                with ui.card().classes("zj-card w-full p-4 gap-2").mark(f"leave-{item.id}"):
                    with ui.row().classes("items-center gap-3 w-full"):
                        ui.link(subject.name if not subject.is_minor else "未成年人（姓名保密）",
                                f"/subjects/{item.subject_id}").classes("text-lg font-bold")
                        ui.label(f"{item.start.isoformat()} 至 {item.end.isoformat()}，共 {item.days} 日")
                        ui.label(f"目的地：{item.destination}")
                        ui.space()
                        ui.badge("司法所审批" if item.approver_level == "office" else "区司法局审批")
                    ui.label(f"事由：{item.reason}").classes("text-sm")
                    requester = people.get(item.requested_by, item.requested_by)
                    ui.label(f"申请人：{requester} · {clock.format_local(item.created_at)}").classes(
                        "text-xs text-grey-7")
                    note = ui.input("审批意见").props("outlined dense").classes("w-full").mark(f"leave-note-{item.id}")
                    with ui.row().classes("gap-2"):
                        ui.button("批准", on_click=lambda i=item.id, n=note: _decide(i, "approve", n.value)).props(
                            "unelevated color=positive").mark(f"leave-approve-{item.id}")
                        ui.button("不批准", on_click=lambda i=item.id, n=note: _decide(i, "reject", n.value)).props(
                            "outline color=negative").mark(f"leave-reject-{item.id}")


@session.action
def _return(db: Session, leave_id: int) -> None:
    row = service.confirm_return(db_session=db, leave_id=leave_id, returned_on=None, note=None)
    ui.notify("已销假" + ("（逾期返回，已生成核实任务）" if row.returned_on and row.returned_on > row.end else ""),
              type="positive", position="top")
    ui.navigate.reload()


@session.action
def _decide(db: Session, leave_id: int, decision: str, note: str | None) -> None:
    try:
        decision_in = LeaveDecisionIn(decision=decision, note=note or None)  # type: ignore[arg-type]
    except ValidationError as exc:
        forms.invalid(exc)
        return
    row = flows.decide_leave(db_session=db, leave_id=leave_id, decision_in=decision_in)
    ui.notify(f"已{'批准' if row.status == LeaveStatus.approved else '不批准'}外出申请", type="positive", position="top")
    ui.navigate.reload()
