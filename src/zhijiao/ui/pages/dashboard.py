"""/: counts of the subjects in the actor's jurisdiction and the overdue reports."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy.orm import Session

from zhijiao.core.errors import DomainError
from zhijiao.subjects import counts as subject_counts
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.schemas import SubjectCounts, SubjectListItem, SubjectStatus, SupervisionLevel
from zhijiao.ui import labels, menu
from zhijiao.ui.components.hidden_note import hidden_note
from zhijiao.ui.layout import error_notice, frame, section, stat
from zhijiao.ui.session import PageContext, protected_page

OVERDUE_PAGE = 200
OVERDUE_SHOWN = 50


@dataclass
class Stats:
    counts: SubjectCounts  # the one definition (subjects/counts.py), shared with the list and /command
    overdue: list[SubjectListItem]


def _overdue(db: Session) -> list[SubjectListItem]:
    """Pending subjects past their reporting deadline (the flag is derived, so read them all)."""
    found: list[SubjectListItem] = []
    page = 1
    while True:
        chunk = subjects_service.search(db_session=db, status=SubjectStatus.pending_reception.value,
                                        page=page, size=OVERDUE_PAGE)
        found += [s for s in chunk.items if s.report_overdue]
        if page * OVERDUE_PAGE >= chunk.total:
            return found
        page += 1


def load_stats(db: Session) -> Stats:
    return Stats(counts=subject_counts.counts(db_session=db), overdue=_overdue(db))


def _list_link(**filters: str) -> str:
    return "/subjects?" + urlencode(filters)


def register() -> None:
    menu.add_menu_item("首页", "/", "home", menu.CASE, order=10)

    @protected_page("/")
    def dashboard(ctx: PageContext) -> RedirectResponse | None:
        if not ctx.actor.role:  # activated, not yet granted a role (三员: the security administrator grants)
            with frame("首页"):
                ui.label("您的账号尚未授予角色，请联系安全管理员授予角色后再使用。").classes(
                    "text-base text-grey-8").mark("no-role")
            return None
        if not ctx.can(menu.CASE):
            home = menu.home_for(ctx.actor)
            if home and home != "/":
                return RedirectResponse(home, status_code=303)
        with frame("首页"):
            try:
                stats = load_stats(ctx.db)
            except DomainError as exc:
                error_notice(exc)
                return None
            scope = ctx.office_name or "全区"
            c = stats.counts
            section(f"在册概况（{scope}）")
            with ui.row().classes("gap-3"):
                stat(c.registered, "在册社区矫正对象", mark="count-registered")
                for s in SubjectStatus:
                    stat(c.by_status[s.value], labels.STATUS[s.value], link=_list_link(status=s.value),
                         mark=f"count-{s.value}")
            section("在矫对象分类管理")
            with ui.row().classes("gap-3"):
                for lv in SupervisionLevel:
                    stat(c.by_level[lv.value], labels.SUPERVISION_LEVEL[lv.value],
                         link=_list_link(status=SubjectStatus.under_correction.value, supervision_level=lv.value),
                         color={"strict": "#b91c1c", "ordinary": "#1a5aa8", "lenient": "#0f766e"}[lv.value],
                         mark=f"count-level-{lv.value}")
            hidden_note(c.hidden_active, c.hidden_sealed)
            with ui.row().classes("items-center gap-2"):
                section("报到逾期")
                ui.badge(str(c.report_overdue), color="negative" if c.report_overdue else "grey-6").mark(
                    "overdue-count")
            ui.label("判决、裁定生效之日起十日内未报到（《社区矫正法》第二十一条）").classes("text-xs text-grey-7")
            if not stats.overdue:
                ui.label("暂无报到逾期人员").classes("text-sm text-grey-7")
            else:
                rows = [{
                    "id": s.id, "name": s.name, "office": s.office_name,
                    "type": labels.label(labels.CORRECTION_TYPE, s.correction_type),
                    "staff": s.responsible_staff_name or "—", "id_number": s.id_number_masked,
                } for s in stats.overdue[:OVERDUE_SHOWN]]
                columns = [
                    {"name": "name", "label": "姓名", "field": "name", "align": "left"},
                    {"name": "id_number", "label": "身份证号", "field": "id_number", "align": "left"},
                    {"name": "office", "label": "司法所", "field": "office", "align": "left"},
                    {"name": "type", "label": "矫正类别", "field": "type", "align": "left"},
                    {"name": "staff", "label": "责任人", "field": "staff", "align": "left"},
                ]
                table = ui.table(rows=rows, columns=columns, row_key="id").props("dense flat bordered")
                table.classes("zj-table w-full max-w-4xl").mark("overdue-table")
                table.on("rowClick", lambda e: ui.navigate.to(f"/subjects/{e.args[1]['id']}"))
        return None
