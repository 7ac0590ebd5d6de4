"""Screens of daily supervision: the record (日常监管记录), the monthly assessment (月度考核) and
the task list (待办任务) the deadlines and the level's duties fill."""

from __future__ import annotations

from datetime import timedelta

from nicegui import ui
from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import DomainError
from zhijiao.supervision import forms
from zhijiao.supervision.daily import service
from zhijiao.supervision.daily.schemas import MonthlyAssessmentCreate, RecordIn
from zhijiao.tasks import service as tasks_service
from zhijiao.ui import menu
from zhijiao.ui.components.date_input import date_input
from zhijiao.ui.layout import error_notice, frame
from zhijiao.ui.session import PageContext, protected_page

RECORD_KINDS = {"report": "报告（当面）", "home_visit": "走访", "talk": "谈话", "education": "教育学习",
                "community_service": "公益活动"}


def record_dialog(subject_id: int) -> None:
    def build():
        kind = ui.select(RECORD_KINDS, value="report", label="类别").props("outlined dense").classes("w-full").mark(
            "record-kind")
        on = date_input("发生日期", value=clock.today_local().isoformat()).mark("record-date")
        hours = ui.number("时长（小时，教育学习、公益活动）", value=2, min=0.5, max=24, step=0.5).props(
            "outlined dense").classes("w-full").mark("record-hours")
        summary = ui.textarea("情况").props("outlined dense autogrow").classes("w-full").mark("record-summary")

        def read() -> dict:
            data = {"kind": kind.value, "occurred_on": on.value, "summary": summary.value or ""}
            if kind.value == "report":
                data["channel"] = "in_person"
            if kind.value in ("education", "community_service"):
                data["hours"] = hours.value
            return data
        return read

    def save(db: Session, data: dict) -> str:
        service.add_record(db_session=db, subject_id=subject_id, record_in=TypeAdapter(RecordIn).validate_python(data))
        return f"已记录{RECORD_KINDS[data['kind']]}"

    forms.form("日常监管记录", "保存", "record", build, save)


def month_dialog(subject_id: int) -> None:
    last = clock.today_local().replace(day=1) - timedelta(days=1)

    def build():
        month = ui.input("考核月份（YYYY-MM）", value=last.strftime("%Y-%m")).props("outlined dense").classes(
            "w-full").mark("month-month")
        score = ui.number("考核分数", min=0, max=100).props(
            'outlined dense hint="留空则按日常记录的建议分数" stack-label').classes("w-full").mark("month-score")
        note = ui.input("说明").props("outlined dense").classes("w-full").mark("month-note")
        return lambda: {"month": month.value, "score": int(score.value) if score.value is not None else None,
                        "note": note.value or None}

    def save(db: Session, data: dict) -> str:
        row = service.assess_month(db_session=db, subject_id=subject_id,
                                   assessment_in=MonthlyAssessmentCreate(**data))
        return f"已考核：{row.score} 分（按记录建议 {row.computed_score} 分）"

    forms.form("月度考核", "保存", "month", build, save)


def register() -> None:
    menu.add_menu_item("待办任务", "/tasks", "task", menu.CASE, order=32)

    @protected_page("/tasks")
    def tasks_page(ctx: PageContext, overdue: str = "", mine: str = "") -> None:
        with frame("待办任务"):
            try:
                page = tasks_service.search(db_session=ctx.db, overdue=True if overdue == "1" else None,
                                            assignee="me" if mine == "1" else None, size=200)
            except DomainError as exc:
                error_notice(exc)
                return
            with ui.row().classes("items-center gap-4"):
                ui.label(f"未完成 {page.counts.open} 项").classes("text-lg")
                ui.label(f"已逾期 {page.counts.overdue} 项").classes("text-lg text-negative").mark("tasks-overdue")
                ui.link("只看逾期", "/tasks?overdue=1")
                ui.link("我的任务", "/tasks?mine=1")
                ui.link("全部", "/tasks")
            rows = [{"id": t.id, "due": t.due_on.isoformat(), "title": t.title, "kind": t.kind_label,
                     "subject": t.subject_name or "—", "office": t.office_name or "—",
                     "overdue": f"逾期 {t.days_overdue} 日" if t.overdue else "", "subject_id": t.subject_id}
                    for t in page.items]
            cols = [{"name": "due", "label": "期限", "field": "due", "align": "left"},
                    {"name": "overdue", "label": "", "field": "overdue", "align": "left"},
                    {"name": "kind", "label": "类别", "field": "kind", "align": "left"},
                    {"name": "title", "label": "事项", "field": "title", "align": "left"},
                    {"name": "subject", "label": "对象", "field": "subject", "align": "left"},
                    {"name": "office", "label": "司法所", "field": "office", "align": "left"}]
            table = ui.table(rows=rows, columns=cols, row_key="id").props("dense flat bordered").classes(
                "zj-table w-full").mark("tasks-table")
            table.on("rowClick", lambda e: e.args[1].get("subject_id") and ui.navigate.to(
                f"/subjects/{e.args[1]['subject_id']}"))

