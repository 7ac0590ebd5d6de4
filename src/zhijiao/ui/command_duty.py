"""Duty supervision (工作督察): offices and officers ranked by what they have not done in time.

The metrics come from ``command.registry`` (alarms not acknowledged in time, open alarms,
positioning orders about to expire, overdue reports; supervision and check-ins add theirs when
they land). A leader opens an office to see its officers and clicks any number for the items.
"""

from __future__ import annotations

from typing import Any

from nicegui import ui

from zhijiao.command import service as command_service
from zhijiao.command.live import hub
from zhijiao.command.schemas import DutyBoard, DutyItem
from zhijiao.core import clock
from zhijiao.ui import session
from zhijiao.ui.command import NOTICE_CLOSE, background, command_page, panel, scope_key, screen_frame
from zhijiao.ui.session import PageContext

REFRESH_S = 60.0


async def duty_page(ctx: PageContext) -> None:
    board = command_service.duty_board(db_session=ctx.db)
    await screen_frame(ctx, "/command/duty")
    DutyView(ctx, board)


def register() -> None:
    command_page("/command/duty", "工作督察 · 智矫")(duty_page)


class DutyView:
    def __init__(self, ctx: PageContext, board: DutyBoard) -> None:
        self.ctx, self.board = ctx, board
        self.expanded: set[int] = set()
        with ui.element("div").classes("cc-page flex flex-col gap-3"):
            weights = "，".join(f"{m.label} ×{m.weight:g}" for m in board.metrics)
            body, self.extra = panel("工作督察排名", f"综合分 = 件数 × 权重（{weights}）", classes="flex-none")
            with body:
                self.table = ui.refreshable(self._table)
                self.table()
        ui.timer(REFRESH_S, self.reload)

    def _columns(self) -> str:
        return f"grid-template-columns: 56px minmax(160px, 1.4fr) 90px repeat({len(self.board.metrics)}, " \
               "minmax(90px, 1fr)) minmax(120px, 1fr)"

    def _table(self) -> None:
        b = self.board
        top = max((o.score for o in b.offices), default=0) or 1
        with ui.element("div").classes("cc-duty-row cc-duty-head").style(self._columns()):
            for text in ["排名", "司法所 / 工作人员", "综合分", *[m.label for m in b.metrics], ""]:
                ui.label(text).classes("text-center" if text not in ("司法所 / 工作人员",) else "")
        for office in b.offices:
            open_ = office.office_id in self.expanded
            with ui.element("div").classes("cc-duty-row cursor-pointer").style(self._columns()).on(
                    "click", lambda _e, oid=office.office_id: self.toggle(oid)).mark(f"duty-office-{office.office_id}"):
                ui.label(str(office.rank)).classes("cc-rank" + (" cc-top" if office.rank <= 3 and office.score else ""))
                with ui.row().classes("items-center gap-1 no-wrap"):
                    ui.icon("expand_more" if open_ else "chevron_right").classes("text-cyan-300")
                    ui.label(office.name).classes("font-bold")
                ui.label(f"{office.score:g}").classes("cc-num text-center").style("font-size: 20px")
                for m in b.metrics:
                    self._count(office.counts.get(m.key, 0), m.key, office.office_id, None)
                ui.element("div").classes("cc-bar").style(f"width: {office.score / top * 100:.0f}%")
            if open_:
                for officer in office.officers:
                    with ui.element("div").classes("cc-duty-row").style(
                            self._columns() + "; background: rgba(56,189,248,0.05)"):
                        ui.label("")
                        ui.label(f"　{officer.name}").mark(f"duty-officer-{officer.staff_id}")
                        ui.label(f"{officer.score:g}").classes("text-center font-mono")
                        for m in b.metrics:
                            self._count(officer.counts.get(m.key, 0), m.key, office.office_id, officer.staff_id,
                                        unassigned=officer.staff_id is None)
                        ui.label("")
        self.extra.set_text(f"{clock.format_local(b.generated_at, '%H:%M:%S')} 更新 · 综合分 = 件数 × 权重")

    def _count(self, n: int, metric: str, office_id: int, staff_id: int | None, *, unassigned: bool = False) -> None:
        label = ui.label(str(n)).classes("cc-count" + (" cc-zero" if not n else "")).mark(
            f"count-{metric}-{office_id}-{staff_id or 0}")
        if n:
            label.on("click.stop", lambda _e: self.drill(metric, office_id, staff_id, unassigned))

    def toggle(self, office_id: int) -> None:
        self.expanded ^= {office_id}
        self.table.refresh()

    async def reload(self) -> None:
        self.board = await hub.shared(("duty", scope_key(self.ctx)), 30.0, lambda: background(
            self.ctx, lambda db: command_service.duty_board(db_session=db)))
        self.table.refresh()

    def drill(self, metric: str, office_id: int, staff_id: int | None, unassigned: bool) -> None:
        items = session.act(lambda db: command_service.duty_items(
            db_session=db, metric=metric, office_id=office_id, staff_id=staff_id), close_button=NOTICE_CLOSE)
        if items is None:
            return
        if unassigned:
            items = [i for i in items if i.staff_id is None]
        label = next((m.label for m in self.board.metrics if m.key == metric), metric)
        with ui.dialog() as dialog, ui.card().classes("cc-panel min-w-[560px] max-w-[90vw]"):
            ui.label(f"{label}（{len(items)}）").classes("cc-panel-title w-full")
            with ui.element("div").classes("cc-panel-body cc-scroll max-h-[60vh] w-full").mark("duty-items"):
                for item in items:
                    self._item(item)
            with ui.row().classes("justify-end w-full"):
                ui.button("关闭", on_click=dialog.close).props("flat")
        dialog.open()

    def _item(self, item: DutyItem) -> None:
        at: Any = item.at
        when = clock.format_local(at, "%m-%d %H:%M") if hasattr(at, "tzinfo") and hasattr(at, "hour") else \
            (at.isoformat() if at else "")
        with ui.row().classes("items-center gap-3 py-1 w-full no-wrap"):
            ui.label(when).classes("font-mono text-sm").style("color: var(--cc-dim)")
            ui.label(item.subject_name or "").classes("font-bold")
            ui.label(item.title)
            if item.ref:
                ui.link("处置", item.ref).classes("text-cyan-300 ml-auto")
