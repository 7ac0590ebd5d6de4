"""Screens of the pre-sentence assessment (调查评估, 社区矫正法 第十八条)."""

from __future__ import annotations

from nicegui import ui
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import DomainError
from zhijiao.security.permissions import Perm
from zhijiao.supervision import forms
from zhijiao.supervision.assessments import service
from zhijiao.supervision.assessments.models import AssessmentStatus
from zhijiao.supervision.assessments.schemas import AssessmentCreate, AssessmentFindings
from zhijiao.ui import labels, menu
from zhijiao.ui.components.date_input import date_input
from zhijiao.ui.layout import error_notice, frame
from zhijiao.ui.session import PageContext, protected_page


def assessment_dialog() -> None:
    def build():
        name = ui.input("被评估人姓名").props("outlined dense").classes("w-full").mark("assessment-name")
        number = ui.input("身份证号码").props("outlined dense maxlength=18").classes("w-full").mark("assessment-id")
        organ = ui.input("委托机关", value="淄博市临淄区人民法院").props("outlined dense").classes("w-full").mark(
            "assessment-organ")
        on = date_input("收到委托日期", value=clock.today_local().isoformat()).mark("assessment-on")
        kind = ui.select(labels.CORRECTION_TYPE, value="probation", label="拟适用").props("outlined dense").classes(
            "w-full").mark("assessment-type")
        crime = ui.input("罪名").props("outlined dense").classes("w-full").mark("assessment-crime")
        fast = ui.checkbox("速裁程序（五个工作日）").mark("assessment-fast")
        return lambda: {"person_name": name.value or "", "id_number": (number.value or "").strip() or None,
                        "entrusting_organ": organ.value or "", "entrusted_on": on.value, "expedited": fast.value,
                        "proposed_correction_type": kind.value, "crime": crime.value or ""}

    def save(db: Session, data: dict) -> str:
        row = service.create_assessment(db_session=db, assessment_in=AssessmentCreate(**data))
        return f"已登记，须于 {row.deadline.isoformat()} 前完成（社区矫正法第十八条）"

    forms.form("调查评估委托（社区矫正法第十八条）", "登记", "assessment", build, save)


def findings_dialog(assessment_id: int) -> None:
    def build():
        findings = ui.textarea("调查情况").props("outlined dense autogrow").classes("w-full").mark("findings-text")
        opinion = ui.select({"suitable": "适用社区矫正", "unsuitable": "不适用社区矫正"}, value="suitable",
                            label="评估意见").props("outlined dense").classes("w-full").mark("findings-opinion")
        return lambda: {"findings": findings.value or "", "opinion": opinion.value}

    def save(db: Session, data: dict) -> str:
        service.complete_assessment(db_session=db, assessment_id=assessment_id,
                                    findings_in=AssessmentFindings(**data))
        return "已提交评估意见"

    forms.form("调查评估意见", "提交", "findings", build, save)


def register() -> None:
    menu.add_menu_item("调查评估", "/assessments", "assignment_ind", menu.CASE, order=34)

    @protected_page("/assessments")
    def assessments_page(ctx: PageContext) -> None:
        with frame("调查评估") as f:
            if ctx.can(Perm.subjects_write):
                with f.actions:
                    ui.button("登记委托", icon="add", on_click=assessment_dialog).props(
                        "unelevated dense color=primary").mark("open-assessment")
            try:
                items = [service.assessment_read(a, in_list=True)
                         for a in service.list_assessments(db_session=ctx.db, status=None, limit=200)]
            except DomainError as exc:
                error_notice(exc)
                return
            if not items:
                ui.label("暂无调查评估委托").classes("text-grey-7").mark("assessments-empty")
            for a in items:
                done = a.status == AssessmentStatus.completed
                with ui.card().classes("zj-card w-full p-4 gap-1").mark(f"assessment-{a.id}"):
                    with ui.row().classes("items-center gap-3"):
                        ui.label(a.person_name).classes("text-lg font-bold")
                        ui.label(f"{a.entrusting_organ} 委托 · {a.crime}")
                        ui.badge("已完成" if done else
                                 ("已逾期" if a.overdue else f"{a.deadline.isoformat()} 前完成")).props(
                            f"color={'grey' if done else ('negative' if a.overdue else 'primary')}")
                    if not done and ctx.can(Perm.subjects_write):
                        ui.button("提交评估意见", on_click=lambda i=a.id: findings_dialog(i)).props(
                            "dense outline color=primary").mark(f"assessment-findings-{a.id}")

