"""The command center's screens (指挥中心): big screen, alarm desk, replay, video wall, duty.

``register_command_pages()`` registers the pages (never at import). Each page resolves the
login token kept in ``app.storage.user['token']`` with ``auth.resolve`` (the server enforces the
session limits) and binds the actor to its database session, so every query is scoped and
audited by the one mechanism. Positions and alarms reach an open screen from the process's one
:data:`zhijiao.command.live.hub`, about once a second, as deltas: no screen polls the database
for them. Numbers and charts are computed at most once per scope and interval for all screens.

A wall screen keeps showing live data without clicks; the idle limit still applies: when no
action has confirmed the session for longer than the idle limit, the next check resolves the
token again, which fails once the session went idle, and the screen goes back to the login.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui
from sqlalchemy.orm import Session
from starlette.responses import Response

from zhijiao.command import mapdata
from zhijiao.command import service as command_service
from zhijiao.command.config import map_settings
from zhijiao.command.live import AlarmItem, Viewer, hub
from zhijiao.command.schemas import AlarmBreakdown, CommandStats
from zhijiao.core import clock
from zhijiao.core.errors import DomainError, Forbidden, Unauthorized
from zhijiao.db import session as dbsession
from zhijiao.monitoring import lifecycle
from zhijiao.org import service as org_service
from zhijiao.security import auth
from zhijiao.security.actor import Actor
from zhijiao.security.permissions import ALL_OFFICE_ROLES, ROLE_LABELS, Perm, Role, has_perm
from zhijiao.settings import service as settings_service
from zhijiao.ui.command_map import CommandMap

T = TypeVar("T")

STATIC = Path(__file__).parent / "static" / "command"
TOKEN_KEY = "token"
LOGIN_PATH = "/login"
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


# --- who is looking ------------------------------------------------------------------------------


@dataclass
class Screen:
    """The logged-in staff member behind one open screen."""

    actor: Actor
    staff_name: str
    office_name: str | None
    client_ip: str | None
    last_confirmed: float = field(default_factory=time.monotonic)

    @property
    def office_id(self) -> int | None:
        """The office the screen is limited to; None for the whole district."""
        return None if self.actor.role in ALL_OFFICE_ROLES else self.actor.office_id

    @property
    def scope(self) -> str:
        return "all" if self.office_id is None else f"office:{self.office_id}"

    @property
    def can_handle(self) -> bool:
        return has_perm(self.actor, Perm.alarms_handle)

    @property
    def can_dispatch(self) -> bool:
        return self.actor.role in ALL_OFFICE_ROLES


def _client_ip(request: Request | None) -> str | None:
    return request.client.host if request is not None and request.client is not None else None


def _login_redirect(path: str) -> RedirectResponse:
    return RedirectResponse(f"{LOGIN_PATH}?next={quote(path, safe='/')}", status_code=303)


def open_screen(request: Request) -> tuple[Session, Screen] | Response:
    """The page's database session with the actor bound, or a redirect to the login."""
    db = dbsession.SessionLocal()
    ip = _client_ip(request)
    try:
        actor = auth.resolve(db, app.storage.user.get(TOKEN_KEY), request_id=uuid.uuid4().hex, client_ip=ip)
    except (Unauthorized, Forbidden):  # no session, timed out, revoked, or restricted (TOTP, password)
        db.close()
        app.storage.user.pop(TOKEN_KEY, None)
        return _login_redirect(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    db.info["actor"] = actor
    staff = org_service.find_staff(db_session=db, staff_id=actor.staff_id) if actor.staff_id else None
    screen = Screen(actor=actor, staff_name=staff.display_name if staff else actor.username,
                    office_name=staff.office.name if staff is not None and staff.office is not None else None,
                    client_ip=ip)
    return db, screen


class _Abort(Exception):
    """The session ended while acting: the user was sent to the login."""


@contextlib.contextmanager
def unit_of_work(screen: Screen) -> Iterator[Session]:
    """A session for one action, after resolving the token again (timeouts, revocation)."""
    db = dbsession.SessionLocal()
    try:
        try:
            actor = auth.resolve(db, app.storage.user.get(TOKEN_KEY), request_id=uuid.uuid4().hex,
                                 client_ip=screen.client_ip)
        except (Unauthorized, Forbidden) as exc:
            app.storage.user.pop(TOKEN_KEY, None)
            ui.notify(exc.message, type="warning", position="top")
            ui.navigate.to(LOGIN_PATH)
            raise _Abort from exc
        db.info["actor"] = actor
        screen.actor = actor
        screen.last_confirmed = time.monotonic()
        yield db
    finally:
        db.close()


def notify_error(exc: DomainError) -> None:
    """A refusal of a service as a Chinese notification (409/422 are warnings)."""
    kind = "warning" if exc.status in (409, 422) else "negative"
    ui.notify(exc.message, type=kind, position="top", multi_line=True, close_button="知道了")


def act(screen: Screen, fn: Callable[[Session], T]) -> T | None:
    """Run one action; errors become notifications, a lost session goes to the login."""
    try:
        with unit_of_work(screen) as db:
            return fn(db)
    except _Abort:
        return None
    except DomainError as exc:
        notify_error(exc)
        return None


def background(screen: Screen, fn: Callable[[Session], T]) -> T:
    """Run ``fn`` (blocking) with the screen's actor, for refreshes that are not user activity."""
    with dbsession.session_scope(screen.actor) as db:
        return fn(db)


def guard(screen: Screen) -> None:
    """Send an idle screen back to the login once its session expired or was revoked."""

    def check() -> None:
        idle_s = float(settings_service.value("security.session_idle_minutes")) * 60
        if time.monotonic() - screen.last_confirmed < idle_s:
            return
        db = dbsession.SessionLocal()
        try:
            screen.actor = auth.resolve(db, app.storage.user.get(TOKEN_KEY), client_ip=screen.client_ip)
            screen.last_confirmed = time.monotonic()
        except (Unauthorized, Forbidden):
            app.storage.user.pop(TOKEN_KEY, None)
            ui.navigate.to(LOGIN_PATH)
        finally:
            db.close()

    ui.timer(GUARD_EVERY_S, check)


# --- look -------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _assets() -> str:
    css = (STATIC / "command.css").read_text(encoding="utf-8")
    js = (STATIC / "command.js").read_text(encoding="utf-8")
    return f"<style>{css}</style>\n<script>{js}</script>"


def theme() -> None:
    ui.add_head_html(_assets())
    ui.query("body").classes("cc-body")
    ui.dark_mode(True)


def header(screen: Screen, active: str) -> None:
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
            role = ROLE_LABELS.get(Role(screen.actor.role), "") if screen.actor.role else ""
            ui.html(f"<b>{_esc(screen.staff_name)}</b><br>{_esc(screen.office_name or '区局')} · {_esc(role)}",
                    sanitize=False)


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
    from datetime import UTC, datetime

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


def forbidden_page(screen: Screen) -> None:
    theme()
    header(screen, "")
    with ui.column().classes("cc-page items-center"):
        ui.label("您的角色无权查看指挥中心（三员不接触个案数据）").classes("cc-empty text-lg")


# --- big screen panels --------------------------------------------------------------------------


class StatsPanel:
    """Today's numbers (今日概况); computed once per scope and interval for every screen."""

    def __init__(self) -> None:
        self.values: dict[str, ui.label] = {}
        body, self.extra = panel("今日概况", classes="flex-none")
        with body:
            self._tiles("在册人员", [("subjects_total", "在册"), ("under_correction", "在矫"),
                                  ("pending", "待接收/报到")])
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
        "textStyle": {"color": "#cfe3ff", "fontFamily": "Noto Sans CJK SC, sans-serif"},
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
    options = {**_chart_base(), "xAxis": {"type": "value", "splitLine": {"lineStyle": {"color": "#17304f"}},
                                          "axisLabel": {"color": "#7f9cc2"}, "minInterval": 1},
               "yAxis": {"type": "category", "data": [], "axisLabel": {"color": "#cfe3ff"},
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
    top = b.by_type[:8]
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


async def big_screen(request: Request) -> Response | None:
    opened = open_screen(request)
    if isinstance(opened, Response):
        return opened
    db, screen = opened
    try:
        if not has_perm(screen.actor, Perm.subjects_read):
            forbidden_page(screen)
            return None
        base = mapdata.base_layers(db_session=db)
    finally:
        db.close()
    await ensure_hub()
    datum = map_settings().datum
    viewer = hub.connect(screen.office_id)
    ui.context.client.on_delete(lambda: hub.disconnect(viewer))
    theme()
    header(screen, "/command")
    guard(screen)

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
                                  on_subject_click=lambda e: subject_card(screen, viewer, e.args["sid"]))
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
        s = await hub.shared(("stats", screen.scope), 10.0, lambda: background(screen, lambda d: command_service.stats(
            db_session=d)))
        stats_panel.update(s)
        fill_levels(s, levels)

    async def refresh_charts() -> None:
        b = await hub.shared(("breakdown", screen.scope), 60.0, lambda: background(
            screen, lambda d: command_service.alarm_breakdown(db_session=d, days=30)))
        fill_charts(b, types, offices, trend)

    pending_stats = False

    async def flush() -> None:
        nonlocal pending_stats
        delta = hub.take(viewer, datum)
        if delta.rows:
            cmap.apply(delta.rows, time.time())
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
    return None


def subject_card(screen: Screen, viewer: Viewer, subject_id: int) -> None:
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


def register_command_pages() -> None:
    """Register the command center's pages and start/stop the fan-out with the app."""
    from zhijiao.ui import command_desk, command_duty, command_replay, command_video

    app.on_startup(hub.start)
    app.on_shutdown(hub.stop)
    ui.page("/command", title="指挥中心 · 智矫", dark=True)(big_screen)
    ui.page("/command/alarms/{alarm_id}", title="告警处置 · 智矫", dark=True)(command_desk.alarm_desk)
    ui.page("/command/replay", title="轨迹回放 · 智矫", dark=True)(command_replay.replay_page)
    ui.page("/command/video", title="视频监控 · 智矫", dark=True)(command_video.video_page)
    ui.page("/command/duty", title="工作督察 · 智矫", dark=True)(command_duty.duty_page)
