"""Screens of the correction plan (矫正方案) and the correction team (矫正小组)."""

from __future__ import annotations

from nicegui import ui
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.security.permissions import Perm
from zhijiao.supervision import forms
from zhijiao.supervision.plans import service
from zhijiao.supervision.plans.schemas import PlanCreate, PlanReviewCreate, TeamIn
from zhijiao.ui.layout import section
from zhijiao.ui.session import PageContext


def plans_card(ctx: PageContext, subject_id: int, ended: bool) -> None:
    plans = service.list_plans(db_session=ctx.db, subject_id=subject_id)
    if not plans:
        return
    current = plans[-1]
    with ui.card().classes("zj-card min-w-[300px] p-4 gap-2").mark("plan"):
        section(f"矫正方案（第 {current.version} 版）")
        ui.label(f"目标：{current.goals}").classes("text-sm")
        ui.label(f"措施：{current.measures}").classes("text-sm")
        due = current.next_review_on
        ui.label(f"下次复查：{due.isoformat()}" + ("（已到期）" if due <= clock.today_local() else "")).classes(
            "text-xs text-grey-7")
        if not ended and ctx.can(Perm.subjects_write):
            ui.button("复查方案", on_click=lambda: plan_review_dialog(current.id)).props(
                "dense outline color=primary").mark(f"plan-review-{current.id}")


def plan_review_dialog(plan_id: int) -> None:
    def build():
        findings = ui.textarea("复查情况").props("outlined dense autogrow").classes("w-full").mark("review-findings")
        adjustments = ui.textarea("调整内容（无则留空）").props("outlined dense autogrow").classes("w-full")
        return lambda: {"findings": findings.value or "", "adjustments": adjustments.value or None}

    def save(db: Session, data: dict) -> str:
        plan = service.review_plan(db_session=db, plan_id=plan_id, review_in=PlanReviewCreate(**data))
        return f"已复查，下次复查 {plan.next_review_on.isoformat()}"

    forms.form("复查矫正方案（社区矫正法第二十四条）", "保存", "review", build, save)


def plan_dialog(subject_id: int) -> None:
    def build():
        fields = {key: ui.textarea(label).props("outlined dense autogrow").classes("w-full").mark(f"plan-{key}")
                  for key, label in (("circumstances", "基本情况（心理特点、犯罪原因、悔罪表现等）"),
                                     ("goals", "矫正目标"), ("measures", "矫正措施"))}
        return lambda: {k: f.value or "" for k, f in fields.items()}

    def save(db: Session, data: dict) -> str:
        service.create_plan(db_session=db, subject_id=subject_id, plan_in=PlanCreate(**data))
        return "已保存矫正方案"

    forms.form("矫正方案（社区矫正法第二十四条）", "保存", "plan", build, save)


GENDERS = {"男": "male", "女": "female"}


def team_dialog(subject_id: int) -> None:
    def build():
        ui.label("每行一人：姓名，身份，性别（男/女）。女性社区矫正对象的矫正小组应有女性成员。").classes(
            "text-sm text-grey-8")
        members = ui.textarea("成员").props("outlined dense autogrow").classes("w-full").mark("team-members")

        def read() -> dict:
            out = []
            for line in forms.lines(members.value):
                parts = [x.strip() for x in line.replace(",", "，").split("，")]
                out.append({"name": parts[0], "role": parts[1] if len(parts) > 1 else "",
                            "gender": GENDERS.get(parts[2]) if len(parts) > 2 else None})
            return {"members": out}
        return read

    def save(db: Session, data: dict) -> str:
        members = service.set_team(db_session=db, subject_id=subject_id, team_in=TeamIn(**data))
        return f"已确定矫正小组（{len(members)} 人）"

    forms.form("矫正小组（社区矫正法第二十五条）", "保存", "team", build, save)
