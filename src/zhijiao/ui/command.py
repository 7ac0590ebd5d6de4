"""The command center's screens (指挥中心): big screen, alarm desk, replay, video wall, duty.

Each module's ``register()`` registers its page (never at import) with :func:`command_page`, the
dark variant of the shell's :func:`zhijiao.ui.session.protected_page`: the login token is
resolved on every load (the server enforces the session limits) and the actor is bound to the
page's database session, so every query is scoped and audited by the one mechanism. Positions and alarms reach an open screen from the process's one
:data:`zhijiao.command.live.hub`, about once a second, as deltas: no screen polls the database
for them. Numbers and charts are computed at most once per scope and interval for all screens.

A wall screen keeps showing live data without clicks; the idle limit still applies: once the
idle limit has passed since the screen last confirmed its session, the next check resolves the
token again, which fails when no action touched the session meanwhile, and the screen goes back
to the login.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from nicegui import app, ui
from sqlalchemy.orm import Session

from zhijiao.command import mapdata
from zhijiao.command import service as command_service
from zhijiao.command.config import map_settings
from zhijiao.command.live import AlarmItem, Viewer, hub
from zhijiao.command.schemas import AlarmBreakdown, CommandStats
from zhijiao.core import clock
from zhijiao.core.errors import DomainError
from zhijiao.db import session as dbsession
from zhijiao.monitoring import lifecycle
from zhijiao.security.permissions import Perm, sees_every_office
from zhijiao.settings import service as settings_service
from zhijiao.ui import menu, session
from zhijiao.ui.command_map import CommandMap
from zhijiao.ui.components.hidden_note import hidden_text
from zhijiao.ui.session import PageContext

T = TypeVar("T")

STATIC = Path(__file__).parent / "static" / "command"
NOTICE_CLOSE = "知道了"  # refusals on a wall screen carry a button to dismiss them
FLUSH_EVERY_S = 0.5  # p99 fix → screen stays under 1 s; an empty flush costs microseconds
STATS_EVERY_S = 15.0
CHARTS_EVERY_S = 120.0
QUEUE_SIZE = 40
GUARD_EVERY_S = 60.0

NAV = [("/command", "指挥大屏"), ("/command/replay", "轨迹回放"), ("/command/video", "视频监控"),
       ("/command/duty", "工作督察")]
LEVEL_LABELS = {"strict": "严管", "ordinary": "普管", "lenient": "宽管"}
LEVEL_COLORS = {"strict": "#ff9f43", "ordinary": "#38bdf8", "lenient": "#34d399"}
STATUS_LABELS = {str(k): v for k, v in lifecycle.STATUS_LABELS.items()}
SUBJECT_STATUS_LABELS = {"pending_reception": "待接收", "reported": "已报到", "under_correction": "在矫"}


# --- the dark variant of the protected page -----------------------------------------------------


def command_page(path: str, title: str, *, needs: Perm | None = Perm.subjects_read) -> Callable[
        [Callable[..., Awaitable[None]]], Callable[..., Any]]:
    """:func:`session.protected_page` in the big-screen look (``dark``, its own header).

    A role without ``needs`` sees the refusal page instead of the screen (the 三员 do not touch
    case files); the page function builds the screen after reading what it shows with ``ctx.db``
    and opening the frame with :func:`screen_frame`.
    """

    def decorator(func: Callable[..., Awaitable[None]]) -> Callable[..., Any]:
        @functools.wraps(func)
        async def page(ctx: PageContext, **kwargs: Any) -> None:
            if needs is not None and not ctx.can(needs):
                notice_page(ctx, "", "您的角色无权查看指挥中心（三员不接触个案数据）")
                return
            await func(ctx, **kwargs)

        return session.protected_page(path, title=title, dark=True)(page)

    return decorator


async def screen_frame(ctx: PageContext, active: str, *, live: bool = False) -> None:
    """The frame of a screen once its data is read: theme, header and the idle guard.

    The page's database connection goes back to the pool first, since a wall screen lives for
    hours; ``live`` screens wait for the process's fan-out to have loaded.
    """
    ctx.db.close()
    if live:
        await ensure_hub()
    theme()
    header(ctx, active)
    guard(ctx)


def notice_page(ctx: PageContext, active: str, message: str, *, marker: str | None = None,
                back: bool = False) -> None:
    """A screen that only says why it shows nothing (no right to it, no such alarm)."""
    theme()
    header(ctx, active)
    with ui.column().classes("cc-page items-center"):
        label = ui.label(message).classes("cc-empty text-lg")
        if marker:
            label.mark(marker)
        if back:
            ui.link("返回指挥大屏", "/command")


def office_scope(ctx: PageContext) -> int | None:
    """The office a screen is limited to; None for the whole district."""
    return None if sees_every_office(ctx.actor) else ctx.actor.office_id


def scope_key(ctx: PageContext) -> str:
    """Screens of the same scope share computed numbers and charts."""
    office_id = office_scope(ctx)
    return "all" if office_id is None else f"office:{office_id}"


def background(ctx: PageContext, fn: Callable[[Session], T]) -> T:
    """Run ``fn`` (blocking) with the screen's actor, for refreshes that are not user activity."""
    with dbsession.session_scope(ctx.actor) as db:
        return fn(db)


def guard(ctx: PageContext) -> None:
    """Send an idle screen back to the login once its session expired or was revoked."""
    last_confirmed = time.monotonic()

    def check() -> None:
        nonlocal last_confirmed
        idle_s = float(settings_service.value("security.session_idle_minutes")) * 60
        if time.monotonic() - last_confirmed < idle_s:
            return
        try:
            with session.unit_of_work() as db:
                ctx.actor = db.info["actor"]
        except DomainError as exc:
            session.show_error(exc)
            return
        last_confirmed = time.monotonic()

    ui.timer(GUARD_EVERY_S, check)


# --- look -------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _assets() -> str:
    css = (STATIC / "command.css").read_text(encoding="utf-8")
    js = (STATIC / "command.js").read_text(encoding="utf-8")
    return f"<style>{css}</style>\n<script>{js}</script>"


def theme() -> None:
    ui.add_head_html(_assets())
    ui.query("body").classes("cc-body")
    ui.dark_mode(True)


def header(ctx: PageContext, active: str) -> None:
    with ui.element("div").classes("cc-header"):
        ui.label("矫").classes("cc-logo")
        with ui.column().classes("gap-0"):
            ui.label("临淄区社区矫正指挥中心").classes("cc-title")
            ui.label("智矫 · 智慧矫正中心 · 电子定位 · 视频点名 · 指挥调度").classes("cc-subtitle")
        with ui.element("nav").classes("cc-nav"):
            for path, text in NAV:
                ui.link(text, path).classes("cc-active" if path == active else "")
        ui.label("").classes("cc-clock").props("id=cc-clock")
        with ui.element("div").classes("cc-user"):
            ui.html(f"<b>{_esc(ctx.display_name)}</b><br>{_esc(ctx.office_name or '区局')} · "
                    f"{_esc(ctx.role_label)}", sanitize=False)


def panel(title: str, extra: str | None = None, *, classes: str = "") -> tuple[ui.element, ui.label | None]:
    """A framed panel; returns its body and the label at the right of its title."""
    with ui.element("div").classes(f"cc-panel {classes}") as outer:
        with ui.element("div").classes("cc-panel-title"):
            ui.label(title)
            extra_label = ui.label(extra or "").classes("cc-extra")
    with outer:
        body = ui.element("div").classes("cc-panel-body cc-scroll")
    return body, extra_label


def _esc(text: object) -> str:
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def local_time(epoch: float | None, fmt: str = "%m-%d %H:%M") -> str:
    if epoch is None:
        return ""
    return clock.format_local(datetime.fromtimestamp(epoch, UTC), fmt)


def escalation_limit_s() -> float:
    return float(settings_service.value("rules.alarm_escalation_minutes")) * 60


async def ensure_hub() -> None:
    """The fan-out runs once per process; the first screen starts it if the app did not."""
    if not hub.running:
        await hub.start()
    assert hub.ready is not None
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(hub.ready.wait(), timeout=10)


# --- big screen panels --------------------------------------------------------------------------


class StatsPanel:
    """Today's numbers (今日概况); computed once per scope and interval for every screen."""

    def __init__(self) -> None:
        self.values: dict[str, ui.label] = {}
        body, self.extra = panel("今日概况", classes="flex-none")
        with body:
            self._tiles("在册人员", [("subjects_total", "在册"), ("under_correction", "在矫"),
                                  ("pending", "待接收/报到")])
            self.hidden = ui.label("").classes("cc-note").mark("hidden-note")
            self.hidden.set_visibility(False)
            self._tiles("电子定位", [("devices_online", "设备在线"), ("checkins", "今日签到"),
                                  ("rollcalls", "点名应答")])
            self._tiles("告警处置", [("alarms_opened_today", "今日告警"), ("alarms_closed_today", "今日办结"),
                                  ("mean_response", "平均响应")])

    def _tiles(self, section: str, tiles: list[tuple[str, str]]) -> None:
        ui.label(section).classes("cc-section")
        with ui.element("div").classes("cc-tiles"):
            for key, text in tiles:
                with ui.element("div").classes("cc-tile"):
                    ui.label(text).classes("cc-tile-label")
                    self.values[key] = ui.html("—", sanitize=False).classes("cc-num").mark(f"stat-{key}")

    def update(self, s: CommandStats) -> None:
        def put(key: str, html: str, tone: str = "") -> None:
            label = self.values[key]
            label.set_content(html)
            label.classes(remove="cc-red cc-amber cc-green cc-muted", add=tone)

        put("subjects_total", str(s.subjects_total))
        note = hidden_text(s.subjects_hidden_active, s.subjects_hidden_sealed, what="在册人数")
        self.hidden.set_text(note)
        self.hidden.set_visibility(bool(note))
        put("under_correction", str(s.subjects_by_status.get("under_correction", 0)))
        put("pending", f"{s.subjects_by_status.get('pending_reception', 0)}"
                       f"<small>/ {s.subjects_by_status.get('reported', 0)}</small>")
        put("devices_online", f"{s.devices_online}<small>/ {s.devices_bound}</small>",
            "cc-green" if s.devices_bound and s.devices_online == s.devices_bound else "")
        for p in s.plugged:
            if p.key in self.values:
                if p.available:
                    put(p.key, f"{p.done}<small>/ {p.due}</small>")
                else:
                    put(p.key, "0<small>/ 0 待接入</small>", "cc-muted")
        put("alarms_opened_today", str(s.alarms_opened_today), "cc-red" if s.alarms_opened_today else "")
        put("alarms_closed_today", str(s.alarms_closed_today), "cc-green" if s.alarms_closed_today else "")
        if s.mean_response_s is None:
            put("mean_response", "—", "cc-muted")
        else:
            m, sec = divmod(int(s.mean_response_s), 60)
            put("mean_response", f"{m}<small>分</small>{sec:02d}<small>秒</small>",
                "cc-amber" if s.mean_response_s > escalation_limit_s() else "")
        self.extra.set_text(clock.format_local(clock.now(), "%H:%M:%S") + " 更新")


class AlarmQueue:
    """Open alarms in scope, most severe then newest, with elapsed time ticking in the browser."""

    def __init__(self, viewer: Viewer, on_locate: Callable[[AlarmItem], None]) -> None:
        self.viewer = viewer
        self.on_locate = on_locate
        self.flash: set[int] = set()
        body, self.extra = panel("待处置告警", classes="flex-[1.7]")
        with body:
            self.view = ui.refreshable(self._render)
            self.view()

    def _render(self) -> None:
        items = hub.open_alarms(self.viewer)
        self.extra.set_text(f"共 {len(items)} 条")
        if not items:
            ui.label("暂无未处置告警").classes("cc-empty")
            return
        limit = escalation_limit_s()
        for a in items[:QUEUE_SIZE]:
            meta = hub.meta.get(a.subject_id)
            who = meta.label if meta else f"对象 {a.subject_id}"
            office = hub.offices.get(meta.office_id, "") if meta else ""
            classes = f"cc-alarm cc-s{a.severity}" + (" cc-new" if a.id in self.flash else "")
            with ui.element("div").classes(classes).mark(f"alarm-{a.id}") as row:
                ui.element("div").classes("cc-alarm-bar")
                with ui.element("div"):
                    with ui.row().classes("items-center gap-1 no-wrap"):
                        ui.label(a.label).classes("cc-alarm-type")
                        ui.html(f'<span class="cc-chip cc-chip-{a.status}">{STATUS_LABELS.get(a.status, a.status)}'
                                "</span>" + ('<span class="cc-chip cc-chip-esc">已上报</span>' if a.escalated else "")
                                + ('<span class="cc-chip cc-chip-retro">补传</span>' if a.retrospective else ""),
                                sanitize=False)
                    ui.label(f"{who} · {office} · {local_time(a.opened_at)}").classes("cc-alarm-who")
                with ui.element("div").classes("cc-alarm-side"):
                    ui.label(local_time(a.opened_at, "%H:%M:%S")).classes("cc-elapsed").props(
                        f"data-since={a.opened_at} data-limit={limit if a.status == 'open' else 1e12}")
                    ui.button("处置", on_click=lambda _e, aid=a.id: ui.navigate.to(f"/command/alarms/{aid}")) \
                        .props("dense flat size=sm color=cyan").mark(f"desk-{a.id}")
            row.on("click", lambda _e, item=a: self.on_locate(item))
        self.flash.clear()

    def refresh(self, fresh: list[AlarmItem]) -> None:
        self.flash.update(a.id for a in fresh)
        self.view.refresh()


def _chart_base() -> dict[str, Any]:
    return {
        "backgroundColor": "transparent",
        "textStyle": {"color": "#cfe3ff", "fontFamily": "Noto Sans CJK SC, Noto Sans SC, sans-serif"},
        "grid": {"left": 8, "right": 16, "top": 10, "bottom": 6, "containLabel": True},
        "tooltip": {"trigger": "axis", "backgroundColor": "rgba(4,16,38,0.95)", "borderColor": "#38e1ff",
                    "textStyle": {"color": "#d8e9ff"}},
    }


def level_chart() -> ui.echart:
    options = {**_chart_base(), "tooltip": {"trigger": "item"},
               "legend": {"orient": "vertical", "right": 4, "top": "middle", "textStyle": {"color": "#cfe3ff"}},
               "series": [{"type": "pie", "radius": ["48%", "74%"], "center": ["36%", "50%"],
                           "label": {"show": False}, "itemStyle": {"borderColor": "#061330", "borderWidth": 2},
                           "data": [{"name": LEVEL_LABELS[k], "value": 0, "itemStyle": {"color": c}}
                                    for k, c in LEVEL_COLORS.items()]}]}
    return ui.echart(options).classes("w-full h-full").mark("chart-levels")


def type_chart() -> ui.echart:
    # A fixed label column: containLabel measures the labels before the web font has loaded and
    # cut 未按时应答点名 to 答点名.
    options = {**_chart_base(), "grid": {"left": 98, "right": 28, "top": 10, "bottom": 24, "containLabel": False},
               "xAxis": {"type": "value", "splitLine": {"lineStyle": {"color": "#17304f"}},
                         "axisLabel": {"color": "#7f9cc2"}, "minInterval": 1},
               "yAxis": {"type": "category", "data": [],
                         "axisLabel": {"color": "#cfe3ff", "width": 90, "overflow": "truncate", "fontSize": 11,
                                       "interval": 0},
                         "axisLine": {"lineStyle": {"color": "#1e3a5f"}}, "inverse": True},
               "series": [{"type": "bar", "data": [], "barWidth": "55%",
                           "itemStyle": {"borderRadius": [0, 3, 3, 0], "color": {
                               "type": "linear", "x": 0, "y": 0, "x2": 1, "y2": 0,
                               "colorStops": [{"offset": 0, "color": "#0e7490"}, {"offset": 1, "color": "#38e1ff"}]}},
                           "label": {"show": True, "position": "right", "color": "#e0f2fe"}}]}
    return ui.echart(options).classes("w-full h-full").mark("chart-types")


def office_chart() -> ui.echart:
    options = {**_chart_base(), "xAxis": {"type": "category", "data": [],
                                          "axisLabel": {"color": "#cfe3ff", "rotate": 40, "fontSize": 11},
                                          "axisLine": {"lineStyle": {"color": "#1e3a5f"}}},
               "yAxis": {"type": "value", "minInterval": 1, "splitLine": {"lineStyle": {"color": "#17304f"}},
                         "axisLabel": {"color": "#7f9cc2"}},
               "series": [{"type": "bar", "data": [], "barWidth": "50%",
                           "itemStyle": {"borderRadius": [3, 3, 0, 0], "color": {
                               "type": "linear", "x": 0, "y": 1, "x2": 0, "y2": 0,
                               "colorStops": [{"offset": 0, "color": "#9a3412"}, {"offset": 1, "color": "#ffb020"}]}}}]}
    return ui.echart(options).classes("w-full h-full").mark("chart-offices")


def trend_chart() -> ui.echart:
    options = {**_chart_base(), "grid": {"left": 30, "right": 8, "top": 22, "bottom": 18},
               "title": {"text": "近 30 日告警趋势", "left": 6, "top": 0,
                         "textStyle": {"color": "#9cc3ea", "fontSize": 12, "fontWeight": "normal"}},
               "xAxis": {"type": "category", "data": [], "axisLabel": {"color": "#7f9cc2", "fontSize": 10},
                         "axisLine": {"lineStyle": {"color": "#1e3a5f"}}},
               "yAxis": {"type": "value", "minInterval": 1, "splitLine": {"lineStyle": {"color": "#12263f"}},
                         "axisLabel": {"color": "#7f9cc2", "fontSize": 10}},
               "series": [{"type": "line", "data": [], "smooth": True, "symbol": "none",
                           "lineStyle": {"color": "#38e1ff", "width": 2},
                           "areaStyle": {"color": {"type": "linear", "x": 0, "y": 0, "x2": 0, "y2": 1,
                                                   "colorStops": [{"offset": 0, "color": "rgba(56,225,255,0.45)"},
                                                                  {"offset": 1, "color": "rgba(56,225,255,0)"}]}}}]}
    return ui.echart(options).classes("w-full h-full").mark("chart-trend")


def fill_charts(b: AlarmBreakdown, types: ui.echart, offices: ui.echart, trend: ui.echart | None) -> None:
    top = b.by_type[:6]  # six rows fit the panel with every label shown
    types.options["yAxis"]["data"] = [c.label for c in top]
    types.options["series"][0]["data"] = [c.count for c in top]
    types.update()
    offices.options["xAxis"]["data"] = [c.label.replace("司法所", "") for c in b.by_office]
    offices.options["series"][0]["data"] = [c.count for c in b.by_office]
    offices.update()
    if trend is not None:
        trend.options["xAxis"]["data"] = [c.label for c in b.by_day]
        trend.options["series"][0]["data"] = [c.count for c in b.by_day]
        trend.update()


def fill_levels(s: CommandStats, chart: ui.echart) -> None:
    chart.options["series"][0]["data"] = [
        {"name": f"{LEVEL_LABELS[k]} {s.subjects_by_level.get(k, 0)}", "value": s.subjects_by_level.get(k, 0),
         "itemStyle": {"color": c}} for k, c in LEVEL_COLORS.items()]
    chart.update()


# --- the big screen -------------------------------------------------------------------------------


async def big_screen(ctx: PageContext) -> None:
    base = mapdata.base_layers(db_session=ctx.db)
    await screen_frame(ctx, "/command", live=True)
    datum = map_settings().datum
    viewer = hub.connect(office_scope(ctx))
    ui.context.client.on_delete(lambda: hub.disconnect(viewer))

    def locate(item: AlarmItem) -> None:
        pos = hub.latest.get(item.subject_id)
        lat, lon = (pos.lat, pos.lon) if pos else (item.lat, item.lon)
        if lat is not None and lon is not None:
            cmap.focus(*mapdata.point(lat, lon, datum), 15, item.subject_id)

    with ui.element("div").classes("cc-grid"):
        with ui.element("div").classes("cc-col"):
            stats_panel = StatsPanel()
            body, _ = panel("管理等级分布", classes="flex-[0.8] min-h-[150px]")
            with body.classes("h-full overflow-hidden"):
                levels = level_chart()
            body, _ = panel("近 30 日告警类型", classes="flex-1 min-h-[180px]")
            with body.classes("h-full overflow-hidden"):
                types = type_chart()
        with ui.element("div").classes("cc-col"):
            with ui.element("div").classes("cc-panel cc-map-panel"):
                cmap = CommandMap(base, rows=hub.snapshot(viewer, datum),
                                  on_subject_click=lambda e: subject_card(viewer, e.args["sid"]))
                cmap.classes("w-full h-full").mark("command-map")
                cmap.on("ready", lambda _e: cmap._props.__setitem__("rows", []))  # the snapshot was used
                with ui.element("div").classes("cc-map-counters"):
                    with ui.element("div"):
                        ui.html("定位在线", sanitize=False)
                        online_label = ui.html("0", sanitize=False, tag="b").mark("map-online")
                    with ui.element("div"):
                        ui.html("告警对象", sanitize=False)
                        alarmed_label = ui.html("0", sanitize=False, tag="b").mark("map-alarmed")
                ui.html('<span style="--c:#ff9f43">严管</span><span style="--c:#38bdf8">普管</span>'
                        '<span style="--c:#34d399">宽管</span><span style="--c:#5b6b82">离线 (10 分钟无定位)</span>'
                        '<span style="--c:#ff3b5c">告警</span>', sanitize=False).classes("cc-legend")
                with ui.element("div").classes("cc-trend"):
                    trend = trend_chart()
        with ui.element("div").classes("cc-col"):
            queue = AlarmQueue(viewer, locate)
            body, _ = panel("近 30 日告警（按司法所）", classes="flex-1 min-h-[200px]")
            with body.classes("h-full overflow-hidden"):
                offices = office_chart()

    def counters() -> None:
        fresh, _total = hub.online(viewer)
        online_label.set_content(str(fresh))
        alarmed_label.set_content(str(len({a.subject_id for a in hub.open_alarms(viewer)})))

    async def refresh_stats() -> None:
        # per person: the subjects counted are the files this person can open (subjects/counts.py)
        s = await hub.shared(("stats", scope_key(ctx), ctx.actor.staff_id), 10.0,
                             lambda: background(ctx, lambda d: command_service.stats(db_session=d)))
        stats_panel.update(s)
        fill_levels(s, levels)

    async def refresh_charts() -> None:
        b = await hub.shared(("breakdown", scope_key(ctx)), 60.0, lambda: background(
            ctx, lambda d: command_service.alarm_breakdown(db_session=d, days=30)))
        fill_charts(b, types, offices, trend)

    pending_stats = False

    async def flush() -> None:
        nonlocal pending_stats
        delta = hub.take(viewer, datum)
        if delta.rows:
            cmap.apply(delta.rows, clock.now().timestamp())
        if delta.alarms_changed:
            queue.refresh(delta.fresh_alarms)
            counters()
            hub.invalidate("stats")
            pending_stats = True
        for a in delta.fresh_alarms[:3]:
            meta = hub.meta.get(a.subject_id)
            ui.notify(f"新告警：{a.label} · {meta.label if meta else ''} · {hub.offices.get(meta.office_id, '') if meta else ''}",
                      type="negative", position="top-right", timeout=8000, icon="notification_important")
        if pending_stats and delta.empty:  # after a burst, once things are quiet for a second
            pending_stats = False
            await refresh_stats()

    ui.timer(FLUSH_EVERY_S, flush)
    ui.timer(5.0, counters)
    ui.timer(STATS_EVERY_S, refresh_stats)
    ui.timer(CHARTS_EVERY_S, refresh_charts)
    ui.timer(0.05, refresh_stats, once=True)
    ui.timer(0.1, refresh_charts, once=True)
    counters()


def subject_card(viewer: Viewer, subject_id: int) -> None:
    """A click on a dot: who it is (from the fan-out's memory, no database), with the next steps."""
    meta = hub.meta.get(subject_id)
    if meta is None or not viewer.sees(meta.office_id):
        return
    pos = hub.latest.get(subject_id)
    alarms = [a for a in hub.open_alarms(viewer) if a.subject_id == subject_id]
    with ui.dialog() as dialog, ui.card().classes("cc-panel min-w-[340px]"):
        with ui.element("div").classes("cc-panel-title w-full"):
            ui.label(meta.label)
            ui.label(LEVEL_LABELS.get(meta.level, "")).classes(f"cc-extra cc-level-{meta.level}")
        with ui.element("div").classes("cc-panel-body"):
            ui.html(f"<dl class='cc-kv'><dt>司法所</dt><dd>{_esc(hub.offices.get(meta.office_id, ''))}</dd>"
                    f"<dt>最新定位</dt><dd>{local_time(pos.t, '%m-%d %H:%M:%S') if pos else '无'}</dd>"
                    f"<dt>电量</dt><dd>{pos.battery if pos and pos.battery is not None else '—'}%</dd></dl>",
                    sanitize=False)
            for a in alarms:
                ui.button(f"处置告警：{a.label}", on_click=lambda _e, aid=a.id: ui.navigate.to(
                    f"/command/alarms/{aid}")).props("color=negative dense unelevated").classes("w-full mt-2")
            with ui.row().classes("mt-3 gap-2"):
                ui.button("轨迹回放", on_click=lambda: ui.navigate.to(
                    f"/command/replay?subject_id={subject_id}")).props("outline color=cyan dense")
                ui.button("关闭", on_click=dialog.close).props("flat dense")
    dialog.open()


# --- registration ------------------------------------------------------------------------------------


def register() -> None:
    """Register the big screen, start/stop the fan-out with the app, and link it from the shell's menu.

    The other screens of the command center register from their modules (``ui.app.UI_MODULES``).
    """
    app.on_startup(hub.start)
    app.on_shutdown(hub.stop)
    command_page("/command", "指挥中心 · 智矫")(big_screen)
    menu.add_menu_item("指挥中心大屏", "/command", "monitor", menu.CASE, order=15)
