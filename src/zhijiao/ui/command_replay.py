"""Track replay (轨迹回放): a subject and a period, played on the map with a time slider.

Stops (停留 > 5 分钟 within 50 m) and zone crossings are marked and listed; clicking one moves
the cursor there. Reading the track is an audited access (``monitoring_service.track``).
"""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta
from typing import Any

from nicegui import ui
from sqlalchemy.orm import Session

from zhijiao.command import mapdata
from zhijiao.command import service as command_service
from zhijiao.command.config import map_settings
from zhijiao.core import clock, geo
from zhijiao.core.errors import InvalidInput
from zhijiao.ui import session
from zhijiao.ui.command import NOTICE_CLOSE, command_page, local_time, panel, screen_frame
from zhijiao.ui.command_desk import track_payload
from zhijiao.ui.command_map import CommandMap
from zhijiao.ui.components.date_input import datetime_input
from zhijiao.ui.session import PageContext

TICK_S = 0.25
SPEEDS = {60: "60 倍速", 300: "5 分钟/秒", 900: "15 分钟/秒", 3600: "1 小时/秒"}
INPUT_FMT = "%Y-%m-%d %H:%M"  # the Chinese field of components.date_input, not the browser's own


def parse_local(value: str | None) -> datetime:
    try:
        return datetime.strptime(value or "", INPUT_FMT).replace(tzinfo=clock.SHANGHAI).astimezone(UTC)
    except ValueError:
        raise InvalidInput("请填写完整的开始和结束时间", code="invalid_time") from None


def fmt_local(value: datetime) -> str:
    return clock.to_local(value).strftime(INPUT_FMT)


async def replay_page(ctx: PageContext, subject_id: int | None = None) -> None:
    subjects = command_service.replay_subjects(db_session=ctx.db)
    base = mapdata.base_layers(db_session=ctx.db, with_zones=False)
    await screen_frame(ctx, "/command/replay")
    Replay(subjects, base, subject_id)


def register() -> None:
    command_page("/command/replay", "轨迹回放 · 智矫")(replay_page)


class Replay:
    def __init__(self, subjects: list[tuple[int, str, str]], base: dict[str, Any], subject_id: int | None) -> None:
        self.datum = map_settings().datum
        self.track: dict[str, Any] = {"points": [], "stops": [], "crossings": []}
        self.times: list[float] = []
        self.vt = 0.0  # the replay's virtual clock (epoch seconds)
        now = clock.now()
        with ui.element("div").classes("cc-grid").style("grid-template-columns: minmax(340px, 26%) minmax(0, 1fr)"):
            with ui.element("div").classes("cc-col"):
                body, _ = panel("回放条件", classes="flex-none")
                with body.classes("flex flex-col gap-2"):
                    options = {sid: f"{name} · {office}" for sid, name, office in subjects}
                    self.subject = ui.select(options, label="社区矫正对象（佩戴定位装置）", with_input=True,
                                             value=subject_id if subject_id in options else None) \
                        .props("outlined dense options-dense").classes("w-full").mark("replay-subject")
                    self.start = datetime_input("开始时间", fmt_local(now - timedelta(hours=6))) \
                        .classes("w-full").mark("replay-start")
                    self.end = datetime_input("结束时间", fmt_local(now)).classes("w-full").mark("replay-end")
                    with ui.row().classes("gap-1"):
                        for text, hours in (("近 2 小时", 2), ("近 6 小时", 6), ("近 24 小时", 24), ("近 3 天", 72)):
                            ui.button(text, on_click=lambda _e, h=hours: self.quick(h)).props(
                                "dense flat color=cyan size=sm")
                    ui.button("查询轨迹", icon="search", on_click=self.load).props(
                        "unelevated color=cyan text-color=black").classes("w-full").mark("replay-load")
                body, _ = panel("回放", classes="flex-none")
                with body.classes("flex flex-col gap-2"):
                    with ui.row().classes("items-center gap-2 no-wrap w-full"):
                        self.play_button = ui.button(icon="play_arrow", on_click=self.toggle).props(
                            "round unelevated color=cyan text-color=black").mark("replay-play")
                        self.speed = ui.select(SPEEDS, value=300).props("dense outlined options-dense").classes(
                            "w-[130px]")
                        self.clock_label = ui.label("—").classes("font-mono text-lg").mark("replay-clock")
                    self.slider = ui.slider(min=0, max=1, step=1, value=0, on_change=self.seek).props(
                        "color=cyan label-always=false").mark("replay-slider")
                    self.summary = ui.label("请选择对象和时段").classes("text-sm").style("color: var(--cc-dim)") \
                        .mark("replay-summary")
                body, self.marks_extra = panel("停留点与进出围栏", classes="flex-1")
                with body:
                    self.marks = ui.refreshable(self._marks)
                    self.marks()
            with ui.element("div").classes("cc-col"):
                with ui.element("div").classes("cc-panel cc-map-panel"):
                    self.map = CommandMap(base, cluster_below=None).classes("w-full h-full").mark("replay-map")
                    ui.html('<span style="--c:#7dd3fc">轨迹</span><span style="--c:#fbbf24">已回放 / 当前位置</span>'
                            '<span style="--c:#f59e0b">停留点（≥5 分钟，50 米内）</span>'
                            '<span style="--c:#e11d48">越界/进入禁区</span><span style="--c:#059669">返回/离开禁区</span>',
                            sanitize=False).classes("cc-legend")
        self.timer = ui.timer(TICK_S, self.tick, active=False)
        if self.subject.value is not None:
            ui.timer(0.2, self.load, once=True)

    def quick(self, hours: int) -> None:
        now = clock.now()
        self.start.value, self.end.value = fmt_local(now - timedelta(hours=hours)), fmt_local(now)

    def load(self) -> None:
        if self.subject.value is None:
            ui.notify("请选择社区矫正对象", type="warning", position="top")
            return
        sid = int(self.subject.value)

        def read(db: Session) -> dict[str, Any]:
            start, end = parse_local(self.start.value), parse_local(self.end.value)
            return track_payload(db, subject_id=sid, start=start, end=end, datum=self.datum)

        track = session.act(read, close_button=NOTICE_CLOSE)
        if track is None:
            return
        self.pause()
        self.track = track
        self.times = [p[2] for p in track["points"]]
        n = len(self.times)
        self.map.set_track(track)
        self.slider.props["max"] = max(n - 1, 1)
        self.slider.value = 0
        self.slider.update()
        self.vt = self.times[0] if n else 0.0
        km = sum(geo.haversine_m(a[0], a[1], b[0], b[1]) for a, b in zip(track["points"], track["points"][1:])) / 1000
        if n:
            self.summary.set_text(f"{n} 个定位点 · 约 {km:.1f} 公里 · 停留 {len(track['stops'])} 处 · "
                                  f"进出围栏 {len(track['crossings'])} 次")
            self.map.set_cursor(0)
            self.show_time(0)
        else:
            self.summary.set_text("该时段没有定位数据")
            self.clock_label.set_text("—")
        self.marks.refresh()

    def _marks(self) -> None:
        items = [("stop", s["start"], s) for s in self.track["stops"]] + \
                [("cross", c["t"], c) for c in self.track["crossings"]]
        self.marks_extra.set_text(f"{len(items)} 项" if items else "")
        if not items:
            ui.label("无停留点或进出围栏记录").classes("cc-empty")
            return
        for kind, t, item in sorted(items, key=lambda x: x[1]):
            index = item["first"] if kind == "stop" else item["index"]
            text = f"停留 {item['minutes']} 分钟" if kind == "stop" else item["label"]
            bad = kind == "cross" and (item["kind"] == "exclusion") == item["entered"]
            with ui.row().classes("items-center gap-2 cursor-pointer py-1 w-full no-wrap").on(
                    "click", lambda _e, i=index: self.jump(i)).mark(f"mark-{kind}"):
                ui.icon("pause_circle" if kind == "stop" else ("warning" if bad else "verified")).style(
                    f"color: {'#f59e0b' if kind == 'stop' else ('#fb7185' if bad else '#34d399')}")
                ui.label(local_time(t, "%m-%d %H:%M")).classes("font-mono text-sm").style("color: var(--cc-dim)")
                ui.label(text)

    def show_time(self, index: int) -> None:
        if self.times:
            self.clock_label.set_text(local_time(self.times[index], "%m-%d %H:%M:%S"))

    def seek(self, e) -> None:
        index = int(e.value or 0)
        if self.times:
            if not self.timer.active:
                self.vt = self.times[min(index, len(self.times) - 1)]
            self.map.set_cursor(index)
            self.show_time(min(index, len(self.times) - 1))

    def jump(self, index: int) -> None:
        self.pause()
        self.slider.value = index

    def toggle(self) -> None:
        if self.timer.active:
            self.pause()
        elif self.times:
            if int(self.slider.value or 0) >= len(self.times) - 1:
                self.slider.value = 0
                self.vt = self.times[0]
            self.timer.activate()
            self.play_button.props("icon=pause")

    def pause(self) -> None:
        self.timer.deactivate()
        self.play_button.props("icon=play_arrow")

    def tick(self) -> None:
        if not self.times:
            self.pause()
            return
        self.vt += float(self.speed.value or 300) * TICK_S
        index = max(0, bisect.bisect_right(self.times, self.vt) - 1)
        if index >= len(self.times) - 1:
            index = len(self.times) - 1
            self.pause()
        if index != int(self.slider.value or 0):
            self.slider.value = index
