"""/subjects/{id}: the case file, its deadlines and lifecycle, and the legal next steps.

Opening the page reads the full identity through ``subjects_service.read_full``, which records
the view in the audit log. Domains add their parts below the file through
:mod:`zhijiao.ui.sections` (from their own ``register()``); this page imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui
from pydantic import ValidationError
from sqlalchemy.orm import Session

from zhijiao.api.errors import translate
from zhijiao.core import clock
from zhijiao.core.errors import DomainError
from zhijiao.org import service as org_service
from zhijiao.security.permissions import Perm
from zhijiao.subjects import rules
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.schemas import SubjectRead, TransitionIn, TransitionRead
from zhijiao.ui import labels, sections, session
from zhijiao.ui.layout import error_notice, frame, kv, section
from zhijiao.ui.session import PageContext, protected_page

ENDED = {s.value for s in rules.FINAL_STATES}

TRANSITION_ICON = {
    "reported": "how_to_reg",
    "under_correction": "gavel",
    "released": "task_alt",
    "terminated": "cancel",
}
TRANSITION_COLOR = {"reported": "primary", "under_correction": "positive", "released": "grey-8",
                    "terminated": "negative"}


def _date(value) -> str:
    return value.isoformat() if value else "—"


def _badges(s: SubjectRead) -> None:
    ui.badge(labels.label(labels.STATUS, s.status), color=labels.STATUS_COLOR.get(s.status, "grey-7")).mark("status")
    ui.badge(labels.label(labels.CORRECTION_TYPE, s.correction_type), color="blue-grey-6")
    ui.badge(labels.label(labels.SUPERVISION_LEVEL, s.supervision_level),
             color=labels.LEVEL_COLOR.get(s.supervision_level, "grey-7")).props("outline")
    if s.is_minor:
        ui.badge("未成年", color="purple-6")
    if s.report_overdue:
        ui.badge("报到逾期", color="negative")


def _deadlines(s: SubjectRead) -> None:
    d = s.derived
    with ui.element("div").classes("zj-kv"):
        ui.label("报到期限").classes("k")
        with ui.row().classes("v items-center gap-2"):
            ui.label(d.reporting_deadline.isoformat()).mark("reporting-deadline")
            if d.report_overdue:
                ui.badge("逾期", color="negative").mark("overdue-badge")
            elif s.reported_at:
                ui.badge("按期报到", color="positive").props("outline")
        ui.label("报到时间").classes("k")
        ui.label(clock.format_local(s.reported_at) or "未报到").classes("v")
        ui.label("矫正期限").classes("k")
        ui.label(f"{_date(s.correction_start_date)} 至 {_date(s.correction_end_date)}"
                 if s.correction_start_date else "尚未入矫").classes("v")
        ui.label("已矫正天数").classes("k")
        ui.label(f"{d.days_served} 天" if d.days_served is not None else "—").classes("v").mark("days-served")
        ui.label("剩余天数").classes("k")
        ui.label(f"{d.days_remaining} 天" if d.days_remaining is not None else "—").classes("v").mark(
            "days-remaining")
        if s.ended_at:
            ui.label("结束时间").classes("k")
            reason = labels.label(labels.REASON, s.termination_reason)
            ui.label(clock.format_local(s.ended_at) + (f"（{reason}）" if reason else "")).classes("v")


def _timeline(s: SubjectRead, names: dict[str, str]) -> None:
    """Lifecycle steps in time order, with the day the file was entered in this system."""
    created = clock.ensure_utc(s.created_at)
    steps = sorted(s.transitions, key=lambda t: rules.transition_order(
        clock.ensure_utc(t.at), t.from_status, t.to_status, t.id))
    with ui.timeline(side="right", layout="dense", color="primary").classes("w-full").mark("timeline"):
        shown = False
        for t in steps:
            if not shown and created <= clock.ensure_utc(t.at):
                _created(s)
                shown = True
            _entry(t, names)
        if not shown:
            _created(s)


def _created(s: SubjectRead) -> None:
    ui.timeline_entry(title="系统建档", subtitle=clock.format_local(s.created_at), icon="note_add",
                      color="blue-grey-5")


def _entry(t: TransitionRead, names: dict[str, str]) -> None:
    title = f"{labels.label(labels.STATUS, t.from_status)} → {labels.label(labels.STATUS, t.to_status)}"
    if t.reason:
        title += f"（{labels.label(labels.REASON, t.reason)}）"
    with ui.timeline_entry(title=title, subtitle=clock.format_local(t.at), icon=TRANSITION_ICON.get(t.to_status),
                           color=TRANSITION_COLOR.get(t.to_status, "primary")), ui.column().classes("gap-0.5"):
        ui.label(f"办理人：{names.get(t.actor_name, t.actor_name)}").classes("text-sm")
        ui.label(f"法律依据：{t.basis}").classes("text-xs text-grey-8")
        if t.note:
            ui.label(f"备注：{t.note}").classes("text-sm text-grey-8")


def _team(s: SubjectRead) -> None:
    if not s.team:
        ui.label("尚未组建矫正小组").classes("text-sm text-grey-7")
        return
    rows = [{"i": i, "name": m.name, "role": m.role, "gender": labels.label(labels.GENDER, m.gender, "—"),
             "phone": m.phone or "—"} for i, m in enumerate(s.team)]
    cols = [{"name": k, "label": lbl, "field": k, "align": "left"}
            for k, lbl in (("name", "姓名"), ("role", "身份"), ("gender", "性别"), ("phone", "联系电话"))]
    ui.table(rows=rows, columns=cols, row_key="i").props("dense flat bordered hide-bottom").classes(
        "zj-table w-full").mark("team-table")


def transition_dialog(s: SubjectRead, target: str, reason: str | None) -> None:
    """Confirm one lifecycle step; the service checks the law again when it is submitted."""
    name = labels.transition_label(target, reason)
    try:
        default_basis = rules.check_transition(s.status, target, correction_type=s.correction_type, reason=reason)
    except DomainError as exc:
        session.show_error(exc)
        return
    with ui.dialog() as dialog, ui.card().classes("w-[600px] max-w-full gap-3"):
        section(f"确认{name}")
        kv([("社区矫正对象", s.name),
            ("状态变更", f"{labels.label(labels.STATUS, s.status)} → {labels.label(labels.STATUS, target)}"),
            *([("原因", labels.label(labels.REASON, reason))] if reason else [])])
        basis = ui.textarea("法律依据", value=default_basis).props("outlined autogrow maxlength=256").classes(
            "w-full").mark("transition-basis")
        note = ui.textarea("备注（文书编号、情况说明等）").props("outlined autogrow maxlength=2000").classes(
            "w-full").mark("transition-note")
        if target in ENDED:
            ui.label("该操作将结束社区矫正，提交后不能撤销。").classes("text-sm text-negative")

        @session.action
        def confirm(db: Session) -> None:
            basis.error = note.error = None
            try:
                data = TransitionIn(to=target, reason=reason, basis=(basis.value or "").strip() or None,
                                    note=(note.value or "").strip() or None)
            except ValidationError as exc:
                fields, _ = translate(exc.errors())
                basis.error, note.error = fields.get("basis"), fields.get("note")
                return
            subjects_service.transition(db_session=db, subject_id=s.id, transition_in=data)
            dialog.close()
            ui.notify(f"已办理：{name}", type="positive", position="top")
            ui.navigate.to(f"/subjects/{s.id}")

        with ui.row().classes("w-full justify-end gap-2"):
            ui.button("取消", on_click=dialog.close).props("flat")
            ui.button(f"确认{name}", on_click=confirm).props(
                f"unelevated color={'negative' if target == 'terminated' else 'primary'}").mark("transition-confirm")
    dialog.open()


def _transition_buttons(s: SubjectRead) -> None:
    for target, reason in rules.allowed_transitions(s.status, correction_type=s.correction_type):
        target_value = target.value
        reason_value = reason.value if reason is not None else None
        handler: Callable[[], None] = lambda t=target_value, r=reason_value: transition_dialog(s, t, r)  # noqa: E731
        style = "outline" if target_value in ENDED else "unelevated"
        ui.button(labels.transition_label(target_value, reason_value), on_click=handler).props(
            f"{style} dense no-caps color={TRANSITION_COLOR.get(target_value, 'primary')}").classes("px-3").mark(
            f"transition-{target_value}-{reason_value or ''}")


def register() -> None:
    @protected_page("/subjects/{subject_id}")
    def subject_page(ctx: PageContext, subject_id: int) -> None:
        try:
            s = subjects_service.read_full(db_session=ctx.db, subject_id=subject_id)
        except DomainError as exc:
            with frame("社区矫正对象档案"):
                error_notice(exc)
            return
        with frame("社区矫正对象档案") as f:
            with f.actions:
                ui.button("返回列表", icon="arrow_back", on_click=lambda: ui.navigate.to("/subjects")).props(
                    "flat dense color=primary")
                if ctx.can(Perm.subjects_write) and s.status not in ENDED:
                    ui.button("编辑档案", icon="edit",
                              on_click=lambda: ui.navigate.to(f"/subjects/{s.id}/edit")).props(
                        "outline dense color=primary").mark("edit-subject")
            with ui.card().classes("zj-card w-full p-4"):
                with ui.row().classes("w-full items-center gap-3"):
                    ui.label(s.name).classes("text-2xl font-bold").style("color:#0f2f5a").mark("subject-name")
                    _badges(s)
                    ui.space()
                    if ctx.can(Perm.subjects_transition):
                        with ui.row().classes("gap-2"):
                            _transition_buttons(s)
                ui.label(f"{s.office_name} · 责任人 {s.responsible_staff_name or '未指定'} · 档案编号 {s.id}").classes(
                    "text-sm text-grey-7")
            with ui.row().classes("w-full gap-3 items-stretch no-wrap max-lg:flex-wrap"):
                with ui.card().classes("zj-card flex-1 min-w-[320px] p-4 gap-3"):
                    section("基本信息")
                    kv([
                        ("姓名", s.name), ("性别", labels.label(labels.GENDER, s.gender)), ("民族", s.ethnicity),
                        ("出生日期", _date(s.birth_date)), ("身份证号", s.id_number), ("联系电话", s.phone or "—"),
                        ("居住地", s.residence_address or "—"), ("户籍地", s.household_address or "—"),
                        ("所属司法所", s.office_name), ("责任人", s.responsible_staff_name or "未指定"),
                    ])
                with ui.card().classes("zj-card flex-1 min-w-[320px] p-4 gap-3"):
                    section("案件信息")
                    kv([
                        ("矫正类别", labels.label(labels.CORRECTION_TYPE, s.correction_type)),
                        ("罪名", s.crime), ("刑罚", s.sentence), ("决定机关", s.deciding_organ),
                        ("判决生效日期", _date(s.judgment_effective_date)),
                        ("管理等级", labels.label(labels.SUPERVISION_LEVEL, s.supervision_level)),
                        ("禁止令", s.prohibitions or "无"),
                    ])
                with ui.card().classes("zj-card flex-1 min-w-[300px] p-4 gap-3"):
                    section("期限")
                    _deadlines(s)
            with ui.row().classes("w-full gap-3 items-stretch no-wrap max-lg:flex-wrap"):
                with ui.card().classes("zj-card flex-1 min-w-[320px] p-4 gap-3"):
                    section("矫正小组")
                    _team(s)
                with ui.card().classes("zj-card flex-1 min-w-[320px] p-4 gap-3"):
                    section("矫正历程")
                    people = org_service.names_of(db_session=ctx.db, usernames=[t.actor_name for t in s.transitions])
                    _timeline(s, people)
            for render in sections.subject_sections():
                render(ctx, s, s.status in ENDED)
