"""The alarm desk (告警处置台): one alarm with its subject, track, zone, history and actions.

Opening the desk reads the subject's track around the alarm through ``monitoring_service.track``,
which records the access in the audit trail (个人信息保护法). Every action goes through
``alarms.act``: the lifecycle, the audit row and the event that updates every other screen.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from nicegui import run, ui
from sqlalchemy import select
from sqlalchemy.orm import Session

from zhijiao.command import mapdata, replay
from zhijiao.command import service as command_service
from zhijiao.command.config import map_settings
from zhijiao.command.live import hub
from zhijiao.core import clock
from zhijiao.core.errors import DomainError, NotFound
from zhijiao.monitoring import alarms as alarm_service
from zhijiao.monitoring import lifecycle
from zhijiao.monitoring import service as monitoring_service
from zhijiao.monitoring.models import Alarm
from zhijiao.org import service as org_service
from zhijiao.security import scoping
from zhijiao.security.permissions import Perm, sees_every_office
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.models import Subject
from zhijiao.subjects.rules import CORRECTION_TYPE_LABELS, STATE_LABELS
from zhijiao.ui import session
from zhijiao.ui.command import (
    LEVEL_LABELS,
    NOTICE_CLOSE,
    STATUS_LABELS,
    _esc,
    background,
    command_page,
    escalation_limit_s,
    notice_page,
    office_scope,
    panel,
    screen_frame,
)
from zhijiao.ui.command_map import CommandMap
from zhijiao.ui.session import PageContext

TRACK_BEFORE = timedelta(hours=3)
TRACK_AFTER = timedelta(hours=1)
ACTION_ICONS = {"acknowledge": "how_to_reg", "dispatch": "send", "verify": "fact_check", "close": "task_alt",
                "escalate": "priority_high", "note": "edit_note"}
GENDER = {"male": "男", "female": "女"}
TIMELINE_LABELS = {str(k): v for k, v in lifecycle.ACTION_LABELS.items()} | {"escalate": "超时上报区局"}


def track_window(alarm: Alarm) -> tuple[Any, Any]:
    start = min(alarm.episode_start, alarm.opened_at) - TRACK_BEFORE
    end = min(clock.now(), max(alarm.last_at, alarm.episode_end or alarm.last_at) + TRACK_AFTER)
    return start, max(end, start + timedelta(minutes=1))


def track_payload(db: Session, *, subject_id: int, start: Any, end: Any, datum: str,
                  alarm: Alarm | None = None) -> dict[str, Any]:
    """The track (audited read), its stops and zone crossings, in the map's datum."""
    fixes = monitoring_service.track(db_session=db, subject_id=subject_id, start=start, end=end)
    points = [replay.TrackPoint(f.fix_time.timestamp(), f.lat, f.lon, f.flags) for f in fixes]
    zones = []
    for z in monitoring_service.list_zones(db_session=db, subject_id=subject_id):
        try:
            zones.append(monitoring_service.to_index_zone(z))
        except DomainError:
            continue
    stops = replay.find_stops(points)
    crossings = replay.find_crossings(points, zones)

    def pt(lat: float, lon: float) -> tuple[float, float]:
        return mapdata.point(lat, lon, datum)

    out: dict[str, Any] = {
        "points": [[*(round(v, 6) for v in pt(p.lat, p.lon)), p.t, p.flags] for p in points],
        "stops": [{"lat": pt(s.lat, s.lon)[0], "lon": pt(s.lat, s.lon)[1], "start": s.start, "end": s.end,
                   "minutes": s.minutes, "first": s.first, "last": s.last} for s in stops],
        "crossings": [{"lat": pt(c.lat, c.lon)[0], "lon": pt(c.lat, c.lon)[1], "t": c.t, "label": c.label,
                       "kind": c.zone_kind, "entered": c.entered, "index": c.index} for c in crossings],
        "alarm": None,
    }
    if alarm is not None and alarm.lat is not None and alarm.lon is not None:
        lat, lon = pt(alarm.lat, alarm.lon)
        out["alarm"] = {"lat": lat, "lon": lon, "label": alarm_service.label(alarm.type)}
    return out


def restricted_view(db: Session, alarm_id: int) -> dict[str, Any]:
    """A minor's alarm as the district's command center sees it: the alarm, where, and who is
    responsible; no identity, file or track (社区矫正法 第五十四条)."""
    alarm = alarm_service.get_restricted(db_session=db, alarm_id=alarm_id)
    with scoping.anonymised(db):
        subject = db.execute(select(Subject).where(Subject.id == alarm.subject_id)).unique().scalar_one()
        officer = subject.responsible_staff
        view = _alarm_part(db, alarm)
        view["subject"] = {
            "id": subject.id, "name": subjects_service.display_name(subject), "minor": True, "restricted": True,
            "gender": "—", "level": subject.supervision_level, "type": "—", "status": "—",
            "office": subject.office.name, "office_id": subject.office_id,
            "officer": officer.display_name if officer else "未指定", "phone": "保密", "crime": "保密",
        }
    view["earlier"] = []
    return view


def _alarm_part(db: Session, alarm: Alarm) -> dict[str, Any]:
    dispatched = None
    if alarm.dispatched_to_id:
        staff = org_service.find_staff(db_session=db, staff_id=alarm.dispatched_to_id)
        dispatched = staff.display_name if staff else str(alarm.dispatched_to_id)
    names = org_service.names_of(db_session=db, usernames=[a.actor_name for a in alarm.actions])  # people, not accounts
    return {
        "id": alarm.id, "type": alarm.type, "label": alarm_service.label(alarm.type), "severity": alarm.severity,
        "status": alarm.status, "verdict": alarm.verdict, "note": alarm.note, "retrospective": alarm.retrospective,
        "past_episode": alarm.past_episode, "opened_at": alarm.opened_at, "episode_start": alarm.episode_start,
        "last_at": alarm.last_at,
        "episode_end": alarm.episode_end, "occurrences": alarm.occurrences, "escalated_at": alarm.escalated_at,
        "acknowledged_at": alarm.acknowledged_at, "response_seconds": alarm.response_seconds,
        "dispatched_to": dispatched, "details": alarm.details or {}, "zone_id": alarm.zone_id,
        "actions": [(a.action, a.at, names.get(a.actor_name, a.actor_name), a.note) for a in alarm.actions],
    }


def alarm_view(db: Session, alarm_id: int) -> dict[str, Any]:
    """What the desk shows of an alarm and its subject, as plain data (refreshable)."""
    try:
        alarm = alarm_service.get(db_session=db, alarm_id=alarm_id)
    except NotFound:
        return restricted_view(db, alarm_id)
    subject = subjects_service.get(db_session=db, subject_id=alarm.subject_id)
    earlier = [a for a in alarm_service.search(db_session=db, subject_id=subject.id, size=20).items if a.id != alarm.id]
    officer = subject.responsible_staff
    return {
        **_alarm_part(db, alarm),
        "subject": {
            "id": subject.id, "name": subjects_service.display_name(subject), "minor": subject.is_minor,
            "gender": GENDER.get(subject.gender, subject.gender), "level": subject.supervision_level,
            "type": CORRECTION_TYPE_LABELS.get(subject.correction_type, subject.correction_type),  # type: ignore[call-overload]
            "status": STATE_LABELS.get(subject.status, subject.status),  # type: ignore[call-overload]
            "office": subject.office.name, "office_id": subject.office_id,
            "officer": officer.display_name if officer else "未指定", "phone": subject.phone_masked or "—",
            "crime": subject.crime,
        },
        "earlier": [(a.id, alarm_service.label(a.type), a.opened_at, a.status, a.verdict) for a in earlier],
    }


def _parts(db: Session, alarm_id: int, can_dispatch: bool, datum: str):
    """The track around the alarm (an audited read), the subject's zones, dispatch candidates."""
    alarm = alarm_service.get(db_session=db, alarm_id=alarm_id)
    start, end = track_window(alarm)
    track = track_payload(db, subject_id=alarm.subject_id, start=start, end=end, datum=datum, alarm=alarm)
    base = mapdata.base_layers(db_session=db, with_zones=False)
    zones = monitoring_service.list_zones(db_session=db, subject_id=alarm.subject_id)
    base["zones"] = mapdata.zones_geojson(zones, datum, highlight=alarm.zone_id)
    candidates = [(s.id, s.display_name) for s in command_service.dispatch_candidates(
        db_session=db, subject_id=alarm.subject_id)] if can_dispatch else []
    return track, base, candidates


def _restricted_parts(db: Session, alarm_id: int, can_dispatch: bool, datum: str):
    """No track and no personal zones for a minor's alarm; the officers it can be handed to."""
    alarm = alarm_service.get_restricted(db_session=db, alarm_id=alarm_id)
    track: dict[str, Any] = {"points": [], "stops": [], "crossings": [], "alarm": None}
    if alarm.lat is not None and alarm.lon is not None:
        lat, lon = mapdata.point(alarm.lat, alarm.lon, datum)
        track["alarm"] = {"lat": lat, "lon": lon, "label": alarm_service.label(alarm.type)}
    base = mapdata.base_layers(db_session=db, with_zones=False)
    candidates: list[tuple[int, str]] = []
    if can_dispatch:
        with scoping.anonymised(db):
            candidates = [(s.id, s.display_name) for s in command_service.dispatch_candidates(
                db_session=db, subject_id=alarm.subject_id)]
    return track, base, candidates


async def alarm_desk(ctx: PageContext, alarm_id: int) -> None:
    datum = map_settings().datum
    can_dispatch = sees_every_office(ctx.actor)  # the district hands an alarm to an office
    try:
        view = alarm_view(ctx.db, alarm_id)
        parts = _restricted_parts if view["subject"].get("restricted") else _parts
        track, base, candidates = parts(ctx.db, alarm_id, can_dispatch, datum)
    except DomainError as exc:
        notice_page(ctx, "", exc.message, marker="desk-error", back=True)
        return
    await screen_frame(ctx, "", live=True)
    Desk(ctx, view, track, base, candidates, datum)


def register() -> None:
    command_page("/command/alarms/{alarm_id}", "告警处置 · 智矫")(alarm_desk)


class Desk:
    def __init__(self, ctx: PageContext, view: dict[str, Any], track: dict[str, Any], base: dict[str, Any],
                 candidates: list[tuple[int, str]], datum: str) -> None:
        self.ctx, self.view, self.candidates, self.datum = ctx, view, candidates, datum
        self.can_dispatch = sees_every_office(ctx.actor)
        self.alarm_id = view["id"]
        self.subject_id = view["subject"]["id"]
        self.viewer = hub.connect(office_scope(ctx))
        ui.context.client.on_delete(lambda: hub.disconnect(self.viewer))
        live = hub.row(self.subject_id, datum) if self.viewer.sees(view["subject"]["office_id"]) else None
        with ui.element("div").classes("cc-grid").style("grid-template-columns: minmax(360px, 30%) minmax(0, 1fr)"):
            with ui.element("div").classes("cc-col cc-scroll"):
                body, _ = panel("告警信息", classes="flex-none")
                with body:
                    self.info = ui.refreshable(self._info)
                    self.info()
                body, _ = panel("社区矫正对象", classes="flex-none")
                with body:
                    self._card()
                body, _ = panel("核查处置", classes="flex-none")
                with body:
                    self.actions = ui.refreshable(self._actions)
                    self.actions()
                body, _ = panel("处置记录", classes="flex-none")
                with body:
                    self.timeline = ui.refreshable(self._timeline)
                    self.timeline()
            with ui.element("div").classes("cc-col"):
                with ui.element("div").classes("cc-panel cc-map-panel"):
                    self.map = CommandMap(base, rows=[live] if live else [], track=track, cluster_below=None)
                    self.map.classes("w-full h-full").mark("desk-map")
                    n = len(track["points"])
                    ui.html(f'<span style="--c:#7dd3fc">告警前后轨迹 {n} 个定位点</span>'
                            f'<span style="--c:#f59e0b">停留点 {len(track["stops"])}</span>'
                            f'<span style="--c:#e11d48">进出围栏 {len(track["crossings"])}</span>'
                            '<span style="--c:#ff3b5c">告警位置</span>', sanitize=False).classes("cc-legend")
                body, _ = panel("该对象的历史告警", classes="flex-none max-h-[30%]")
                with body:
                    self._earlier()
        ui.timer(1.0, self.flush)

    # --- panels ---------------------------------------------------------------------------------

    def _info(self) -> None:
        v = self.view
        with ui.row().classes("items-center gap-2"):
            ui.label(v["label"]).classes("text-2xl font-bold").style(
                f"color: {'#ff8da1' if v['severity'] == 1 else '#ffd27a'}").mark("desk-type")
            ui.html(f'<span class="cc-chip cc-chip-{v["status"]}">{STATUS_LABELS.get(v["status"], v["status"])}</span>',
                    sanitize=False).mark("desk-status")
            if v["retrospective"]:
                ui.html('<span class="cc-chip cc-chip-retro">补传数据发现（回溯告警）</span>', sanitize=False)
        if v.get("past_episode"):
            end = clock.format_local(v["episode_end"], "%H:%M") if v["episode_end"] else "—"
            ui.label(f"事后补报：补传数据显示该对象于 {clock.format_local(v['episode_start'], '%m-%d %H:%M')} 至 {end} "
                     "有一段违规经过；该类告警另有一条仍在处理，本条单独核查和关闭").classes("cc-banner my-2").mark(
                "desk-past-episode")
        if v["escalated_at"]:
            ui.label(f"已于 {clock.format_local(v['escalated_at'], '%m-%d %H:%M')} 超过 "
                     f"{int(escalation_limit_s() // 60)} 分钟未接警，已上报区局").classes("cc-banner my-2").mark(
                "desk-escalated")
        rows = [("告警时间", clock.format_local(v["opened_at"], "%Y-%m-%d %H:%M:%S")),
                ("违规开始", clock.format_local(v["episode_start"], "%m-%d %H:%M:%S")),
                ("最近一次", clock.format_local(v["last_at"], "%m-%d %H:%M:%S")),
                ("恢复正常", clock.format_local(v["episode_end"], "%m-%d %H:%M:%S") if v["episode_end"] else "尚未恢复"),
                ("触发次数", str(v["occurrences"]))]
        if v["response_seconds"] is not None:
            m, s = divmod(v["response_seconds"], 60)
            rows.append(("接警用时", f"{m} 分 {s:02d} 秒"))
        if v["dispatched_to"]:
            rows.append(("已派发给", v["dispatched_to"]))
        if v["verdict"]:
            rows.append(("核查结论", lifecycle.VERDICT_LABELS[lifecycle.Verdict(v["verdict"])] + f"：{v['note'] or ''}"))
        ui.html("<dl class='cc-kv'>" + "".join(f"<dt>{k}</dt><dd>{_esc(val)}</dd>" for k, val in rows) + "</dl>",
                sanitize=False)
        if v["status"] == "open":
            with ui.row().classes("items-center gap-2 mt-1"):
                ui.label("已等待").classes("text-sm").style("color: var(--cc-dim)")
                ui.label("").classes("cc-elapsed").props(
                    f"data-since={v['opened_at'].timestamp()} data-limit={escalation_limit_s()}")

    def _card(self) -> None:
        s = self.view["subject"]
        if s.get("restricted"):
            ui.html("<dl class='cc-kv'>"
                    f"<dt>对象</dt><dd><b>{_esc(s['name'])}</b>（未成年）</dd>"
                    f"<dt>管理等级</dt><dd class='cc-level-{s['level']}'>{LEVEL_LABELS.get(s['level'], s['level'])}</dd>"
                    f"<dt>司法所</dt><dd>{_esc(s['office'])}</dd>"
                    f"<dt>责任人</dt><dd>{_esc(s['officer'])}</dd></dl>", sanitize=False).mark("desk-subject")
            ui.label("未成年社区矫正对象：身份、档案和轨迹仅其责任矫正工作人员可见（社区矫正法第五十四条）。"
                     "请接警并派发给责任人核查、关闭。").classes("cc-banner mt-2").mark("desk-restricted")
            return
        with ui.row().classes("no-wrap gap-4 items-start"):
            with ui.element("div").classes("cc-card-photo"):
                ui.icon("person").classes("text-5xl")
            ui.html("<dl class='cc-kv'>"
                    f"<dt>姓名</dt><dd><b>{_esc(s['name'])}</b>{'（未成年）' if s['minor'] else ''}</dd>"
                    f"<dt>性别</dt><dd>{_esc(s['gender'])}</dd>"
                    f"<dt>矫正类别</dt><dd>{_esc(s['type'])} · {_esc(s['status'])}</dd>"
                    f"<dt>管理等级</dt><dd class='cc-level-{s['level']}'>{LEVEL_LABELS.get(s['level'], s['level'])}</dd>"
                    f"<dt>罪名</dt><dd>{_esc(s['crime'])}</dd>"
                    f"<dt>司法所</dt><dd>{_esc(s['office'])}</dd>"
                    f"<dt>责任人</dt><dd>{_esc(s['officer'])}</dd>"
                    f"<dt>联系电话</dt><dd>{_esc(s['phone'])}</dd></dl>", sanitize=False).mark("desk-subject")
        ui.button("轨迹回放", icon="route", on_click=lambda: ui.navigate.to(
            f"/command/replay?subject_id={s['id']}")).props("outline color=cyan dense").classes("mt-2")

    def _actions(self) -> None:
        status = self.view["status"]
        if status == "closed":
            ui.label("告警已关闭").classes("cc-empty")
            return
        if not self.ctx.can(Perm.alarms_handle):
            ui.label("您的角色只能查看告警").classes("cc-empty")
            return
        nxt = {"open": "acknowledge", "acknowledged": "verify", "verified": "close"}.get(status)

        def style(action: str) -> str:
            return "unelevated color=cyan text-color=black" if action == nxt else "outline color=grey-5"

        restricted = bool(self.view["subject"].get("restricted"))
        with ui.row().classes("gap-2"):
            ui.button("接警", icon="how_to_reg", on_click=lambda: self.do("acknowledge")).props(
                style("acknowledge")).mark("act-acknowledge")
            if not restricted:
                ui.button("关闭告警", icon="task_alt", on_click=self.close_dialog).props(style("close")).mark(
                    "act-close")
        if self.can_dispatch and self.candidates:
            with ui.row().classes("items-center gap-2 mt-3 no-wrap"):
                target = ui.select({sid: name for sid, name in self.candidates}, value=self.candidates[0][0],
                                   label="派发给司法所工作人员").props("dense outlined").classes("min-w-[160px]").mark(
                    "dispatch-to")
                ui.button("派发", icon="send", on_click=lambda: self.do(
                    "dispatch", dispatch_to=target.value,
                    note=f"派发给 {dict(self.candidates).get(target.value, '')}")).props("outline color=amber") \
                    .mark("act-dispatch")
        if restricted:
            return
        with ui.column().classes("gap-1 mt-3 w-full"):
            ui.label("核查结论").classes("cc-section")
            verdict = ui.radio({"confirmed": "属实", "false_alarm": "误报"}).props("inline dense").mark("verdict")
            note = ui.textarea(placeholder="核查情况说明（必填）：如电话联系本人、实地核查结果").props(
                "outlined dense autogrow").classes("w-full").mark("verify-note")
            ui.button("提交核查", icon="fact_check", on_click=lambda: self.do(
                "verify", verdict=verdict.value, note=note.value)).props(style("verify")).mark("act-verify")

    def close_dialog(self) -> None:
        with ui.dialog() as dialog, ui.card().classes("cc-panel min-w-[360px]"):
            ui.label("关闭告警").classes("cc-panel-title w-full")
            note = ui.input("办结说明（可选）").classes("w-full").mark("close-note")
            with ui.row().classes("justify-end w-full"):
                ui.button("取消", on_click=dialog.close).props("flat")

                def confirm() -> None:
                    dialog.close()
                    self.do("close", note=note.value or None)

                ui.button("确认关闭", on_click=confirm).props("unelevated color=cyan text-color=black").mark(
                    "close-confirm")
        dialog.open()

    def _timeline(self) -> None:
        actions = self.view["actions"]
        if not actions:
            ui.label("尚无处置记录").classes("cc-empty")
            return
        with ui.element("div").classes("cc-timeline"):
            for action, at, who, note in actions:
                label = TIMELINE_LABELS.get(action, action)
                with ui.element("div").classes("cc-step"):
                    ui.html(f"<time>{clock.format_local(at, '%m-%d %H:%M:%S')}</time>", sanitize=False)
                    with ui.row().classes("items-center gap-1 no-wrap"):
                        ui.icon(ACTION_ICONS.get(action, "circle")).classes("text-cyan-300")
                        ui.label(f"{label} · {who}" + (f"：{note}" if note else ""))

    def _earlier(self) -> None:
        rows = self.view["earlier"]
        if not rows:
            ui.label("无其他告警").classes("cc-empty")
            return
        for aid, label, at, status, verdict in rows:
            with ui.row().classes("items-center gap-3 cursor-pointer w-full py-1").on(
                    "click", lambda _e, a=aid: ui.navigate.to(f"/command/alarms/{a}")):
                ui.label(clock.format_local(at, "%Y-%m-%d %H:%M")).classes("font-mono text-sm").style(
                    "color: var(--cc-dim)")
                ui.label(label)
                ui.html(f'<span class="cc-chip cc-chip-{status}">{STATUS_LABELS.get(status, status)}</span>'
                        + (f'<span class="cc-chip">{lifecycle.VERDICT_LABELS[lifecycle.Verdict(verdict)]}</span>'
                           if verdict else ""), sanitize=False)

    # --- actions and live updates -------------------------------------------------------------------

    def do(self, action: str, *, verdict: str | None = None, note: str | None = None,
           dispatch_to: int | None = None) -> None:
        done = session.act(lambda db: (
            alarm_service.act(db_session=db, alarm_id=self.alarm_id, action=action, verdict=verdict or None,
                              note=note or None, dispatch_to=dispatch_to),
            alarm_view(db, self.alarm_id))[1], close_button=NOTICE_CLOSE)
        if done is None:
            return
        self.view = done
        label = TIMELINE_LABELS.get(action, action)
        ui.notify(f"已{label}", type="positive", position="top")
        self.refresh()

    def refresh(self) -> None:
        self.info.refresh()
        self.actions.refresh()
        self.timeline.refresh()

    async def flush(self) -> None:
        delta = hub.take(self.viewer, self.datum)
        rows = [r for r in delta.rows if r[0] == self.subject_id]
        if rows:
            self.map.apply(rows, clock.now().timestamp())
        if self.alarm_id in delta.alarm_ids:  # someone else acted, or the alarm escalated
            before = self.view["status"]
            try:
                self.view = await run.io_bound(background, self.ctx, lambda db: alarm_view(db, self.alarm_id))
            except DomainError:
                return
            self.info.refresh()
            self.timeline.refresh()
            if self.view["status"] != before:  # keep a verdict or note being typed unless the step changed
                self.actions.refresh()
