"""The live fan-out of the command center: ONE subscriber per server process.

The pipeline publishes ``positions`` after each rules pass and the alarm service publishes
``alarms``; roll calls will publish ``rollcalls``. :class:`LiveHub` is the only subscriber of
those topics in a process. It keeps the latest position of every subject, the open alarms and
the live roll calls in memory, and records, for every open screen (a :class:`Viewer`), which
subjects changed since that screen's last flush. A screen's timer then sends only those rows:
per screen the work is O(changed subjects in its scope), and no screen ever polls the database
for positions or alarms.

Scoping: a viewer is "the district" (bureau, operator, leader) or one office. The hub knows
each subject's office from a map loaded once with a system actor (and reloaded when an unknown
subject shows up, and every few minutes); an office viewer is only ever handed rows of its
own office's subjects.

Everything here runs on the event loop of the web server; loading from the database runs in
a worker thread. Nothing is thread-shared except through the event bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select

from zhijiao.core import clock, events, geo, topics
from zhijiao.db import session as dbsession
from zhijiao.monitoring import alarms as alarm_service
from zhijiao.monitoring.lifecycle import AlarmStatus
from zhijiao.monitoring.models import FLAG_NOISY, Alarm, DeviceBinding, FixRecord
from zhijiao.org.models import Office
from zhijiao.security.actor import Actor
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.models import Subject

log = logging.getLogger(__name__)

ACTIVE_STATUSES = ("pending_reception", "reported", "under_correction")
LEVEL_CODES = {"strict": 0, "ordinary": 1, "lenient": 2}
META_REFRESH_S = 300.0
ROLLCALL_KEEP_S = 600.0
ROLLCALL_ENDED = {"ended", "closed", "completed", "answered", "missed", "cancelled", "failed"}


class SubjectMeta(NamedTuple):
    office_id: int
    level: str
    label: str  # display name: a minor's is masked (社区矫正法 第五十四条)
    status: str
    officer_id: int | None


class Position(NamedTuple):
    lat: float  # WGS-84
    lon: float
    t: float  # fix time, epoch seconds
    battery: int | None
    flags: int


@dataclass(slots=True)
class AlarmItem:
    id: int
    subject_id: int
    type: str
    label: str
    severity: int
    status: str
    opened_at: float  # epoch seconds
    last_at: float
    escalated: bool = False
    retrospective: bool = False
    lat: float | None = None
    lon: float | None = None


@dataclass(eq=False)
class Viewer:
    """One open screen: what changed for it since its last flush."""

    office_id: int | None  # None: the whole district
    pending: set[int] = field(default_factory=set)  # subjects whose row changed
    alarms_dirty: bool = False
    fresh_alarms: list[int] = field(default_factory=list)  # newly opened, for a notification
    alarm_ids: set[int] = field(default_factory=set)  # alarms that changed (desks watch theirs)
    rollcalls_dirty: bool = False

    def sees(self, office_id: int | None) -> bool:
        return self.office_id is None or self.office_id == office_id


@dataclass
class Delta:
    rows: list[list[Any]]
    alarms_changed: bool
    fresh_alarms: list[AlarmItem]
    alarm_ids: set[int]
    rollcalls_changed: bool

    @property
    def empty(self) -> bool:
        return not (self.rows or self.alarms_changed or self.fresh_alarms or self.rollcalls_changed)


def _epoch(value: str | float | datetime) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return clock.ensure_utc(value).timestamp()


class LiveHub:
    def __init__(self) -> None:
        self.meta: dict[int, SubjectMeta] = {}
        self.offices: dict[int, str] = {}
        self.latest: dict[int, Position] = {}
        self.alarms: dict[int, AlarmItem] = {}
        self.rollcalls: dict[str, dict[str, Any]] = {}
        self.counters: Counter[str] = Counter()
        self._alarms_of: dict[int, set[int]] = defaultdict(set)
        self._viewers: set[Viewer] = set()
        self._subs: list[events.Subscription] = []
        self._tasks: list[asyncio.Task] = []
        self._unknown: set[int] = set()
        self._reload_task: asyncio.Task | None = None
        self._cache: dict[Any, tuple[float, Any]] = {}
        self._inflight: dict[Any, asyncio.Future] = {}
        self.ready: asyncio.Event | None = None  # created on start (needs a loop)
        self.loaded_at = 0.0

    # --- lifecycle ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    async def start(self) -> None:
        """Subscribe first, then load: events arriving meanwhile queue up and apply after."""
        if self._tasks:
            return
        self.ready = asyncio.Event()
        self._subs = [events.subscribe(topics.POSITIONS, maxsize=50_000), events.subscribe(topics.ALARMS),
                      events.subscribe(topics.ROLLCALLS)]
        handlers = (self.apply_positions, self.apply_alarm, self.apply_rollcall)
        self._tasks = [asyncio.create_task(self._consume(sub, fn), name=f"command-live-{sub.topic}")
                       for sub, fn in zip(self._subs, handlers, strict=True)]
        self._tasks.append(asyncio.create_task(self._refresher(), name="command-live-refresh"))

    async def stop(self) -> None:
        for sub in self._subs:
            sub.close()
        for task in self._tasks:
            task.cancel()
        if self._reload_task is not None:
            self._reload_task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._subs, self._tasks, self._reload_task = [], [], None
        self._cache.clear()
        self._inflight.clear()
        self.meta, self.latest, self.alarms, self.rollcalls = {}, {}, {}, {}
        self._alarms_of.clear()
        self.ready = None

    async def _consume(self, sub: events.Subscription, handler: Callable[[dict], None]) -> None:
        assert self.ready is not None
        await self.ready.wait()
        async for payload in sub:
            try:
                handler(payload)
            except Exception:  # noqa: BLE001 - one bad event must not stop the screens
                log.exception("command center: cannot apply %s event", sub.topic)

    async def _refresher(self) -> None:
        try:
            await self.reload(full=True)
        except Exception:  # noqa: BLE001
            log.exception("command center: initial load failed")
        finally:
            assert self.ready is not None
            self.ready.set()
        while True:
            await asyncio.sleep(META_REFRESH_S)
            with contextlib.suppress(Exception):
                await self.reload(full=False)

    async def reload(self, *, full: bool) -> None:
        """Subject map (and, on a full load, latest positions and open alarms) from the database."""
        meta, offices, latest, alarms = await asyncio.to_thread(_load, full)
        self.meta, self.offices = meta, offices
        if full:
            for sid, pos in latest.items():
                cur = self.latest.get(sid)
                if cur is None or cur.t < pos.t:
                    self.latest[sid] = pos
            for item in alarms:
                self._put_alarm(item)
        self.loaded_at = time.monotonic()
        known = {s for s in self._unknown if s in self.meta}
        self._unknown -= known
        self._fan_out(list(known) if not full else list(self.latest), alarms=True)

    def _schedule_reload(self) -> None:
        if not self._tasks:
            return  # not started: the first load will know them
        if self._reload_task is None or self._reload_task.done():
            async def later() -> None:
                await asyncio.sleep(1.0)  # debounce: one reload for a burst of new subjects
                await self.reload(full=False)

            self._reload_task = asyncio.create_task(later(), name="command-live-meta")

    # --- viewers --------------------------------------------------------------------------------

    def connect(self, office_id: int | None) -> Viewer:
        viewer = Viewer(office_id)
        self._viewers.add(viewer)
        return viewer

    def disconnect(self, viewer: Viewer) -> None:
        self._viewers.discard(viewer)

    @property
    def viewer_count(self) -> int:
        return len(self._viewers)

    # --- events ---------------------------------------------------------------------------------

    def apply_positions(self, payload: dict[str, Any]) -> None:
        changed: list[int] = []
        latest = self.latest
        for f in payload.get("fixes", ()):
            sid = f.get("subject_id")
            if sid is None:
                continue
            t = _epoch(f["t"])
            cur = latest.get(sid)
            if cur is not None and (cur.t >= t or f.get("flags", 0) & FLAG_NOISY):
                continue  # older (补传) or untrusted: the screen keeps the better position
            latest[sid] = Position(f["lat"], f["lon"], t, f.get("battery"), f.get("flags") or 0)
            changed.append(sid)
        self.counters["fixes"] += len(payload.get("fixes", ()))
        if changed:
            self._fan_out(changed)

    def apply_alarm(self, payload: dict[str, Any]) -> None:
        aid, sid = int(payload["id"]), int(payload["subject_id"])
        if payload.get("status") == "closed":
            item = self.alarms.pop(aid, None)
            self._alarms_of[sid].discard(aid)
        else:
            item = self.alarms.get(aid)
            if item is None:
                item = AlarmItem(id=aid, subject_id=sid, type=payload["type"], label=payload.get("label") or "",
                                 severity=int(payload.get("severity") or 2), status=payload["status"],
                                 opened_at=_epoch(payload["opened_at"]), last_at=_epoch(payload["last_at"]),
                                 retrospective=bool(payload.get("retrospective")))
                self._put_alarm(item)
            item.status = payload["status"]
            item.last_at = _epoch(payload["last_at"])
            if payload.get("lat") is not None:
                item.lat, item.lon = payload["lat"], payload["lon"]
            if payload.get("change") == topics.AlarmChange.escalated:
                item.escalated = True
        self.counters["alarm_events"] += 1
        meta = self.meta.get(sid)
        if meta is None:
            self._unknown.add(sid)
            self._schedule_reload()
            return
        fresh = payload.get("change") == topics.AlarmChange.opened
        for v in self._viewers:
            if v.sees(meta.office_id):
                v.alarms_dirty = True
                v.alarm_ids.add(aid)
                if fresh:
                    v.fresh_alarms.append(aid)
                if sid in self.latest:
                    v.pending.add(sid)  # its colour changes

    def apply_rollcall(self, payload: dict[str, Any]) -> None:
        key = str(payload.get("id") or payload.get("session_id") or "")
        if not key:
            return
        now = clock.now().timestamp()
        self.rollcalls[key] = {**payload, "_at": now}
        for k in [k for k, v in self.rollcalls.items()
                  if v.get("status") in ROLLCALL_ENDED and now - v["_at"] > ROLLCALL_KEEP_S]:
            del self.rollcalls[k]
        meta = self.meta.get(int(payload["subject_id"])) if payload.get("subject_id") is not None else None
        for v in self._viewers:
            if v.office_id is None or (meta is not None and v.sees(meta.office_id)):
                v.rollcalls_dirty = True

    def _put_alarm(self, item: AlarmItem) -> None:
        old = self.alarms.get(item.id)
        if old is not None and old.escalated:
            item.escalated = True
        self.alarms[item.id] = item
        self._alarms_of[item.subject_id].add(item.id)

    def _fan_out(self, changed: list[int], *, alarms: bool = False) -> None:
        meta = self.meta
        by_office: dict[int, list[int]] = defaultdict(list)
        known: list[int] = []
        for sid in changed:
            m = meta.get(sid)
            if m is None:
                self._unknown.add(sid)
                continue
            by_office[m.office_id].append(sid)
            known.append(sid)
        if len(known) < len(changed):
            self._schedule_reload()
        for v in self._viewers:
            if v.office_id is None:
                v.pending.update(known)
            elif v.office_id in by_office:
                v.pending.update(by_office[v.office_id])
            if alarms:
                v.alarms_dirty = True

    # --- what a screen reads ----------------------------------------------------------------------

    def severity_of(self, subject_id: int) -> int:
        """The most urgent open alarm of a subject (1 high … 3 low), 0 when none."""
        ids = self._alarms_of.get(subject_id)
        if not ids:
            return 0
        return min((self.alarms[a].severity for a in ids if a in self.alarms), default=0)

    def row(self, sid: int, datum: str = "wgs84") -> list[Any] | None:
        pos, m = self.latest.get(sid), self.meta.get(sid)
        if pos is None or m is None:
            return None
        lat, lon = pos.lat, pos.lon
        if datum == "gcj02":
            lat, lon = geo.wgs84_to_gcj02(lat, lon)
        return [sid, round(lat, 6), round(lon, 6), LEVEL_CODES.get(m.level, 3), self.severity_of(sid),
                round(pos.t), m.label]

    def snapshot(self, viewer: Viewer, datum: str = "wgs84") -> list[list[Any]]:
        """Every position in the viewer's scope (a screen's first paint); clears its pending set."""
        viewer.pending.clear()
        sids: Iterable[int] = self.latest if viewer.office_id is None else (
            s for s in self.latest if (m := self.meta.get(s)) is not None and m.office_id == viewer.office_id)
        return [r for s in sids if (r := self.row(s, datum)) is not None]

    def take(self, viewer: Viewer, datum: str = "wgs84") -> Delta:
        """What changed for a screen since its last flush, and reset it."""
        pending, viewer.pending = viewer.pending, set()
        rows = [r for s in pending if (r := self.row(s, datum)) is not None]
        fresh = [self.alarms[a] for a in viewer.fresh_alarms if a in self.alarms]
        delta = Delta(rows=rows, alarms_changed=viewer.alarms_dirty, fresh_alarms=fresh,
                      alarm_ids=viewer.alarm_ids, rollcalls_changed=viewer.rollcalls_dirty)
        viewer.alarms_dirty, viewer.fresh_alarms, viewer.alarm_ids, viewer.rollcalls_dirty = False, [], set(), False
        return delta

    def open_alarms(self, viewer: Viewer, limit: int | None = None) -> list[AlarmItem]:
        """Most severe first, then newest."""
        items = [a for a in self.alarms.values()
                 if (m := self.meta.get(a.subject_id)) is not None and viewer.sees(m.office_id)]
        items.sort(key=lambda a: (a.severity, -a.opened_at))
        return items[:limit] if limit else items

    def live_rollcalls(self, viewer: Viewer) -> list[dict[str, Any]]:
        out = []
        for rc in self.rollcalls.values():
            sid = rc.get("subject_id")
            m = self.meta.get(int(sid)) if sid is not None else None
            if viewer.office_id is None or (m is not None and viewer.sees(m.office_id)):
                out.append({**rc, "subject_label": m.label if m else "", "office": self.offices.get(
                    m.office_id, "") if m else ""})
        return sorted(out, key=lambda r: -r["_at"])

    def online(self, viewer: Viewer, within_s: float = 600.0) -> tuple[int, int]:
        """(positions newer than ``within_s``, positions) in a viewer's scope."""
        cutoff = clock.now().timestamp() - within_s
        total = fresh = 0
        for sid, pos in self.latest.items():
            m = self.meta.get(sid)
            if m is None or not viewer.sees(m.office_id):
                continue
            total += 1
            fresh += pos.t >= cutoff
        return fresh, total

    # --- a cache shared by every screen of the same scope -------------------------------------------

    async def shared(self, key: Any, ttl: float, compute: Callable[[], Any]) -> Any:
        """``compute`` (blocking; run in a thread) at most once per ``ttl`` for all screens asking ``key``."""
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await asyncio.to_thread(compute)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved
            raise
        finally:
            self._inflight.pop(key, None)
        self._cache[key] = (time.monotonic() + ttl, value)
        if not future.done():
            future.set_result(value)
        return value

    def invalidate(self, prefix: Any = None) -> None:
        for key in [k for k in self._cache if prefix is None or (isinstance(k, tuple) and k[0] == prefix)]:
            del self._cache[key]


def _load(full: bool) -> tuple[dict[int, SubjectMeta], dict[int, str], dict[int, Position], list[AlarmItem]]:
    """The subject map, offices and (full) latest positions and open alarms; a system job."""
    with dbsession.session_scope(Actor.system("command-center-live")) as db:
        meta: dict[int, SubjectMeta] = {}
        for sid, office_id, level, name, minor, status, officer in db.execute(
            select(Subject.id, Subject.office_id, Subject.supervision_level, Subject.name, Subject.is_minor,
                   Subject.status, Subject.responsible_staff_id).where(Subject.status.in_(ACTIVE_STATUSES))
        ):
            meta[sid] = SubjectMeta(office_id, level, subjects_service.display_name(_Named(name, minor)), status,
                                    officer)
        offices = dict(db.execute(select(Office.id, Office.name)).all())
        latest: dict[int, Position] = {}
        alarms: list[AlarmItem] = []
        if full:
            newest = (select(FixRecord.id).where(FixRecord.subject_id == DeviceBinding.subject_id,
                                                  FixRecord.flags.op("&")(FLAG_NOISY) == 0)
                      .order_by(FixRecord.fix_time.desc()).limit(1).correlate(DeviceBinding).scalar_subquery())
            ids = [i for (i,) in db.execute(select(newest).where(DeviceBinding.end_at.is_(None))) if i is not None]
            for chunk in range(0, len(ids), 900):
                for r in db.execute(select(FixRecord.subject_id, FixRecord.lat, FixRecord.lon, FixRecord.fix_time,
                                           FixRecord.battery_pct, FixRecord.flags)
                                    .where(FixRecord.id.in_(ids[chunk:chunk + 900]))):
                    latest[r[0]] = Position(r[1], r[2], clock.ensure_utc(r[3]).timestamp(), r[4], r[5])
            for a in db.execute(select(Alarm).where(Alarm.status != AlarmStatus.closed)).scalars():
                alarms.append(AlarmItem(
                    id=a.id, subject_id=a.subject_id, type=a.type, label=alarm_service.label(a.type),
                    severity=a.severity, status=a.status, opened_at=a.opened_at.timestamp(),
                    last_at=a.last_at.timestamp(), escalated=a.escalated_at is not None,
                    retrospective=a.retrospective, lat=a.lat, lon=a.lon))
        return meta, offices, latest, alarms


class _Named(NamedTuple):
    """What ``subjects_service.display_name`` reads, without loading the whole case file."""

    name: str
    is_minor: bool


hub = LiveHub()
