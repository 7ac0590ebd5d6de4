"""The fix pipeline, as an ordered list of small stages (after Traccar's handler chain).

decode (the protocol codecs) → resolve + dedupe + flag + store (:class:`FixStore`, one batched
commit; the device is acknowledged after it) → rules (:class:`RulesEngine`, per-subject state
machines in fix-time order, late data replayed) → alarms (``monitoring.alarms``) → notify
(the event stream: ``positions`` and ``alarms``).

Everything after the commit runs on one worker thread fed by a queue, so each subject's
fixes are evaluated in order and the device never waits for rules. After a crash the rules'
state is rebuilt from the stored fixes of the last ``rebuild_window``.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from zhijiao.core import clock, events
from zhijiao.db import session as dbsession
from zhijiao.ingestion.directory import DIRECTORY_TOPIC, Directory
from zhijiao.ingestion.fix import Fix, FixSource
from zhijiao.ingestion.protocols.jt808.profiles import DEFAULT_BRACELET, DeviceProfile, alarm_types, get_profile
from zhijiao.ingestion.store import FixStore
from zhijiao.monitoring import alarms as alarm_service
from zhijiao.monitoring import geofence, positioning
from zhijiao.monitoring import service as monitoring_service
from zhijiao.monitoring.models import (
    FLAG_BACKFILL,
    FLAG_NOISY,
    Alarm,
    DeviceBinding,
    FixRecord,
    PositioningOrder,
    Zone,
)
from zhijiao.monitoring.rules import (
    EventKind,
    Leave,
    RuleEvent,
    RuleSettings,
    SubjectContext,
    SubjectRuleState,
    coalesce,
    evaluate_window,
)
from zhijiao.security.actor import Actor
from zhijiao.subjects.models import Subject

log = logging.getLogger(__name__)

POSITIONS_TOPIC = "positions"
# Rule events kept while the database cannot take them (a subject-day makes a handful).
MAX_UNAPPLIED = 100_000
REBUILD_CHUNK = 1_000  # subjects whose recent fixes a restart reads back in one query
SETTINGS_EVERY_S = 5.0  # how often the rules look for thresholds the bureau changed
# A fix the store flagged noisy (unpositioned, or less accurate than it accepts) is kept and shown
# but must never trigger a rule; the rules' own test is accuracy, so it gets one they reject.
UNUSABLE_ACCURACY_M = 1e6
# A subject's state is kept as it was before the first fix of each half hour of fix time, to
# replay late data from. Kept copies thin out with age: (younger than, one per so many half
# hours), so that there is always one from six hours back or more. Late data hours old then
# replays up to two hours more than it needs (milliseconds), and a subject holds seven copies
# (at most eight) instead of twelve, frozen to bytes (``SubjectRuleState.freeze``) so that the
# cyclic collector never walks them (bench/rules_memory.py).
CHECKPOINT_EVERY = timedelta(minutes=30)
CHECKPOINT_TIERS = ((timedelta(hours=1), 1), (timedelta(hours=3), 2), (timedelta(hours=8), 4))


def checkpoint_slot(at: datetime) -> int:
    """The half hour of fix time ``at`` falls in (counted from the epoch, so the same for every
    subject and stable as checkpoints age)."""
    return int(at.timestamp() // CHECKPOINT_EVERY.total_seconds())


def thin_checkpoints(checkpoints: list[tuple[datetime, bytes]]) -> list[tuple[datetime, bytes]]:
    """The checkpoints still kept once the newest (the last) was added, oldest first."""
    newest = checkpoints[-1][0]

    def kept(at: datetime) -> bool:
        for younger_than, every in CHECKPOINT_TIERS:
            if newest - at < younger_than:
                return checkpoint_slot(at) % every == 0
        return False

    return [c for c in checkpoints if kept(c[0])]


@dataclass
class _Subject:
    state: SubjectRuleState
    # (fix time, the state before it, frozen) to replay late data from
    checkpoints: list[tuple[datetime, bytes]] = field(default_factory=list)
    # the next checkpoint is due at the first fix from here (one comparison on every fix)
    next_checkpoint_at: datetime = datetime.min.replace(tzinfo=UTC)

    def set_checkpoints(self, checkpoints: list[tuple[datetime, bytes]]) -> None:
        self.checkpoints = checkpoints
        self.next_checkpoint_at = (
            datetime.fromtimestamp((checkpoint_slot(checkpoints[-1][0]) + 1) * CHECKPOINT_EVERY.total_seconds(), UTC)
            if checkpoints else datetime.min.replace(tzinfo=UTC))


class RulesEngine:
    """All subjects' rule state; not thread-safe: one worker thread owns it."""

    def __init__(self, settings: RuleSettings | None = None) -> None:
        self.settings = settings or rule_settings()
        self._follows_registry = settings is None  # else a benchmark's or a test's, kept
        self._settings_read = time.monotonic()
        self.subjects: dict[int, _Subject] = {}
        self.contexts: dict[int, SubjectContext] = {}
        self.index = geofence.ZoneIndex([])
        self.counters: collections.Counter[str] = collections.Counter()
        # Which subjects this process judges silence for (a worker owning some shards); None: all.
        self.subject_filter: Callable[[int], bool] | None = None
        # The alarm-bit profile of a device, to read stored fixes back with their alarm types.
        self.profile_of: Callable[[int], DeviceProfile] = lambda _device_id: DEFAULT_BRACELET
        self._changes = 1  # change notices seen; _loaded: the one the last reload started after
        self._loaded = 0
        # Subjects whose replay of stored fixes the database could not serve: owed, and tried
        # again with the next pass or tick. Their fixes meanwhile are stored; the replay reads them.
        self.deferred: set[int] = set()
        self._off = events.on(DIRECTORY_TOPIC, self._changed)

    def _changed(self, _payload: dict) -> None:
        self._changes += 1

    @property
    def _dirty(self) -> bool:
        return self._loaded != self._changes

    def close(self) -> None:
        self._off()

    # --- context from the database -------------------------------------------------------------

    def reload(self, db: Session) -> None:
        """Zones and subjects' contexts as the database has them now."""
        changes = self._changes
        zones = []
        for z in db.execute(select(Zone).where(Zone.active.is_(True))).scalars():
            try:
                zones.append(monitoring_service.to_index_zone(z))
            except Exception:  # noqa: BLE001 - a bad stored zone must not stop the pipeline
                log.exception("zone %s cannot be indexed", z.id)
        today = clock.today_local()
        orders: dict[int, list[positioning.OrderPeriod]] = collections.defaultdict(list)
        for o in db.execute(select(PositioningOrder).where(PositioningOrder.end_date >= today)).scalars():
            revoked = clock.to_local(o.revoked_at).date() if o.revoked_at else None
            orders[o.subject_id].append(positioning.OrderPeriod(o.start_date, o.end_date, revoked))
        bound = {b.subject_id: b.start_at for b in db.execute(
            select(DeviceBinding).where(DeviceBinding.end_at.is_(None))).scalars()}
        homes = dict(((sid, (lat, lon)) for sid, lat, lon in db.execute(
            select(Subject.id, Subject.home_lat, Subject.home_lon).where(Subject.id.in_(list(bound)))
        ) if lat is not None))
        leaves = approved_leaves(db, today - timedelta(days=LEAVE_LOOKBACK_DAYS))
        contexts = {}
        for sid, since in bound.items():
            contexts[sid] = SubjectContext(
                subject_id=sid, positioning_order_in_force=positioning.in_force(orders.get(sid, ()), today),
                device_active=True, home=homes.get(sid), leaves=leaves.get(sid, ()), monitoring_since=since,
            )
        self.load(geofence.ZoneIndex(zones), contexts, changes)

    def load(self, index: geofence.ZoneIndex, contexts: dict[int, SubjectContext], changes: int | None = None) -> None:
        """Take zones and contexts as given (``reload`` reads them; a benchmark builds them)."""
        self.index, self.contexts = index, contexts
        for sid, entry in self.subjects.items():
            entry.state.context = contexts.get(sid, SubjectContext(subject_id=sid, device_active=False))
        self._loaded = self._changes if changes is None else changes

    def _state(self, subject_id: int) -> _Subject:
        entry = self.subjects.get(subject_id)
        if entry is None:
            ctx = self.contexts.get(subject_id) or SubjectContext(subject_id=subject_id)
            entry = self.subjects[subject_id] = _Subject(SubjectRuleState(ctx, self.settings))
        return entry

    # --- evaluation ----------------------------------------------------------------------------

    def process(self, db: Session, fixes: list[Fix]) -> list[RuleEvent]:
        self.refresh(db)
        out = self.retry_deferred(db)
        fixes = [_for_rules(f) for f in fixes if f.subject_id is not None]
        if not fixes:
            return out
        fixes.sort(key=lambda f: (f.subject_id, f.fix_time))
        zones = zone_views(self.index, fixes)
        i, n = 0, len(fixes)
        while i < n:
            sid = fixes[i].subject_id
            j = i
            while j < n and fixes[j].subject_id == sid:
                j += 1
            entry = self._state(sid)  # type: ignore[arg-type]
            high_water = entry.state.high_water
            if sid in self.deferred or (high_water is not None and fixes[i].fix_time < high_water):
                # Late data, or a replay still owed: the whole group is already stored, so one
                # replay covers all of it.
                entry.state.owe_replay(fixes[i].fix_time)
                if sid not in self.deferred:
                    out.extend(self._replay_or_defer(db, entry))
            else:
                for k in range(i, j):
                    fix, state = fixes[k], entry.state
                    if fix.fix_time >= entry.next_checkpoint_at:
                        entry.checkpoints.append((fix.fix_time, state.freeze()))
                        entry.set_checkpoints(thin_checkpoints(entry.checkpoints))
                    out.extend(state.feed(fix, None if zones is None else zones[k]))
                    if state.replay_from is not None:  # an older fix inside the group itself
                        out.extend(self._replay_or_defer(db, entry))
                        if sid in self.deferred:
                            break  # the owed replay will read the rest of the group too
            i = j
        self.counters["evaluated"] += n
        return out

    def refresh(self, db: Session) -> None:
        """Take changed thresholds; reload zones and contexts if they changed. If the database
        cannot, go on with the ones loaded (they stay marked stale, so the next pass tries
        again) rather than lose the pass."""
        # (the registry's values are cached for seconds; building thresholds on every pass of a
        # few fixes was a measurable share of the rules' time)
        if self._follows_registry and time.monotonic() - self._settings_read >= SETTINGS_EVERY_S:
            self._settings_read = time.monotonic()
            self.retune(rule_settings())
        if not self._dirty:
            return
        try:
            self.reload(db)
        except SQLAlchemyError:
            db.rollback()
            self.counters["reloads_failed"] += 1
            log.exception("rules: zones and contexts not reloaded; the ones loaded stay in use")

    def retune(self, settings: RuleSettings) -> None:
        """Apply the bureau's thresholds (the settings registry; read a few seconds stale) to
        every subject's state, if they changed."""
        if settings.model_dump() == self.settings.model_dump():
            return
        log.info("rules: thresholds changed: %s", {k: v for k, v in settings.model_dump().items()
                                                   if getattr(self.settings, k) != v})
        self.settings = settings
        for entry in self.subjects.values():
            entry.state.retune(settings)
        self.counters["settings_applied"] += 1

    def retry_deferred(self, db: Session) -> list[RuleEvent]:
        """The replays the database could not serve before; stops at the first that fails again."""
        out: list[RuleEvent] = []
        for sid in sorted(self.deferred):
            out.extend(self._replay_or_defer(db, self._state(sid)))
            if sid in self.deferred:
                break
        return out

    def _replay_or_defer(self, db: Session, entry: _Subject) -> list[RuleEvent]:
        """Replay; if the database cannot serve it, owe it (the state stays where it was, with
        ``replay_from`` kept) instead of losing the evaluation of what was stored."""
        sid = entry.state.subject_id
        try:
            found = self._replay(db, entry)
        except SQLAlchemyError:
            db.rollback()
            self.deferred.add(sid)
            self.counters["replays_deferred"] += 1
            log.exception("rules: replay of subject %s deferred; the database could not serve it", sid)
            return []
        self.deferred.discard(sid)
        return found

    def _replay(self, db: Session, entry: _Subject) -> list[RuleEvent]:
        """Late data: rerun the subject's stored fixes from the last checkpoint before it."""
        state = entry.state
        since = state.replay_from
        assert since is not None
        base = next(((t, s) for t, s in reversed(entry.checkpoints) if t <= since), None)
        if base is None:
            base_time, base_state = since - timedelta(hours=1), SubjectRuleState(state.context, self.settings)
        else:
            base_time, base_state = base[0], SubjectRuleState.thaw(base[1], state.context, state.settings)
        rows = db.execute(
            select(FixRecord).where(FixRecord.subject_id == state.subject_id, FixRecord.fix_time >= base_time)
            .order_by(FixRecord.fix_time)
        ).scalars().all()
        fixes = [_fix_from_row(r, self.profile_of) for r in rows]
        zones = zone_views(self.index, fixes)
        result = evaluate_window(state.context, fixes, base_state, zones)
        result.state.last_contact_at = max(filter(None, [result.state.last_contact_at, state.last_contact_at]))
        entry.state = result.state
        entry.set_checkpoints([c for c in entry.checkpoints if c[0] <= base_time])
        self.counters["replays"] += 1
        return result.events

    def tick(self, now: datetime) -> list[RuleEvent]:
        out: list[RuleEvent] = []
        owns = self.subject_filter
        for sid in self.contexts:
            if sid in self.deferred:
                continue  # its state waits for the replay: silence is judged after it
            if owns is None or owns(sid):
                out.extend(self._state(sid).state.tick(now))
        return out

    def rebuild(self, db: Session, window: timedelta) -> list[RuleEvent]:
        """Restore state after a restart from the recent stored fixes; return what they show.

        The last fixes before a crash were stored, and so acknowledged, but maybe never
        evaluated: an SOS among them would be lost. Their events (one per episode, for the
        subjects this process judges) go to ``apply_events(..., recovered=True)``, which raises
        only what no alarm tells of yet.
        """
        self.reload(db)
        since = clock.now() - window
        owns = self.subject_filter
        # Only the subjects with a device bound now, and of those only the ones this process
        # judges; a chunk at a time, so that a province's half hour (some 20 M fixes) is never
        # in memory at once.
        subject_ids = sorted(sid for sid in self.contexts if owns is None or owns(sid))
        found: list[RuleEvent] = []
        for first in range(0, len(subject_ids), REBUILD_CHUNK):
            chunk = subject_ids[first:first + REBUILD_CHUNK]
            rows = db.execute(
                select(FixRecord).where(FixRecord.subject_id.in_(chunk), FixRecord.fix_time >= since)
                .order_by(FixRecord.subject_id, FixRecord.fix_time)
            ).scalars().all()
            fixes = [_fix_from_row(r, self.profile_of) for r in rows]
            zones = zone_views(self.index, fixes)
            for i, fix in enumerate(fixes):
                state = self._state(fix.subject_id).state  # type: ignore[arg-type]
                found.extend(state.feed(fix, None if zones is None else zones[i]))
        return coalesce(found)


def rule_settings() -> RuleSettings:
    """The bureau's current thresholds (settings table; audited when changed)."""
    from datetime import time as _time

    from zhijiao.settings.service import value

    return RuleSettings(
        dwell_s=value("rules.dwell_s"), lost_contact_s=value("rules.lost_contact_s"),
        night_start=_time.fromisoformat(value("rules.night_start")),
        night_end=_time.fromisoformat(value("rules.night_end")),
        night_radius_m=value("rules.night_radius_m"),
    )
class _ZonesView:
    """What the fences say about one fix, as the rules read it (duck-typed ``FixZones``).

    The two numbers the rules test on every fix are plain floats; the zone-id tuples, which only
    an alarm's details need, are looked up on first use. Building a full ``FixZones`` per fix
    costs a few numpy calls each, more than the rest of the rules together.
    """

    __slots__ = ("_classification", "_full", "_i", "exclusion_depth_m", "permitted_margin_m")

    def __init__(self, classification: geofence.ZoneClassification, i: int, margin: float, depth: float) -> None:
        self._classification, self._i, self._full = classification, i, None
        self.permitted_margin_m, self.exclusion_depth_m = margin, depth

    def _resolved(self) -> geofence.FixZones:
        if self._full is None:
            self._full = self._classification[self._i]
        return self._full

    @property
    def permitted_inside(self) -> tuple:
        return self._resolved().permitted_inside

    @property
    def permitted_outside(self) -> tuple:
        return self._resolved().permitted_outside

    @property
    def exclusion_inside(self) -> tuple:
        return self._resolved().exclusion_inside


def zone_views(index: geofence.ZoneIndex, fixes: list[Fix]) -> list[_ZonesView] | None:
    """One vectorised classification of the batch, as one view per fix (None: no zones at all)."""
    if not fixes or not len(index):
        return None
    c = index.classify(fixes)
    margins, depths = c.permitted_margin_m.tolist(), c.exclusion_depth_m.tolist()
    return [_ZonesView(c, i, margins[i], depths[i]) for i in range(len(fixes))]


def _for_rules(fix: Fix) -> Fix:
    if fix.extras.get("flags", 0) & FLAG_NOISY and fix.effective_accuracy_m < UNUSABLE_ACCURACY_M:
        return dataclasses.replace(fix, accuracy_m=UNUSABLE_ACCURACY_M)
    return fix


def _fix_from_row(r: FixRecord, profile_of: Callable[[int], DeviceProfile]) -> Fix:
    extras: dict = {"flags": r.flags}
    if r.alarm_bits:
        types = alarm_types(r.alarm_bits, profile_of(r.device_id))
        if types:
            extras["alarm_types"] = sorted(types)
    accuracy = UNUSABLE_ACCURACY_M if r.flags & FLAG_NOISY else r.accuracy_m
    return Fix(device_ident=str(r.device_id), fix_time=r.fix_time, lat=r.lat, lon=r.lon,
               source=FixSource(r.source), accuracy_m=accuracy, speed_kmh=r.speed_kmh, battery_pct=r.battery_pct,
               alarm_bits=r.alarm_bits, backfill=bool(r.flags & FLAG_BACKFILL), received_at=r.received_at,
               device_id=r.device_id, subject_id=r.subject_id, extras=extras)


# Set by the supervision module: (db, subject_id) -> iterable of rules.Leave
LEAVE_LOOKBACK_DAYS = 2  # leaves that ended lately still matter to backfilled fixes


def approved_leaves(db: Session, since) -> dict[int, tuple[Leave, ...]]:
    """Approved leaves ending on or after ``since``, per subject (社区矫正法 第二十七条).

    The destination is free text in the request, so a leave covers any place for its days; an
    overdue leave (status ``overdue``) covers nothing: the subject should be back.
    """
    from zhijiao.supervision.leave import service as supervision_service

    out: dict[int, list[Leave]] = collections.defaultdict(list)
    for window in supervision_service.leave_windows(db, since):
        out[window.subject_id].append(Leave(start=window.start_at, end=window.end_at))
    return {sid: tuple(v) for sid, v in out.items()}


def apply_events(db: Session, rule_events: list[RuleEvent], *, recovered: bool = False) -> list:
    """Turn rule events into alarm rows (one open alarm per subject and type), then publish.

    The batch's open alarms are read in one query and written in one flush: a query per event
    costs a round trip each, and on a busy gateway each round trip also waits for the GIL, which
    made 20 alarms take 150 ms. Another writer may open one of them meanwhile (the unique index
    refuses the second): then the batch is applied again over what is open by then."""
    for attempt in (1, 2):
        open_now = alarm_service.open_alarms(
            db_session=db, keys=((ev.subject_id, str(ev.alarm_type)) for ev in rule_events))
        touched = [done for ev in rule_events
                   if (not recovered or _unheard(db, ev, open_now)) and (done := _apply(db, ev, open_now)) is not None]
        try:
            db.commit()
            break
        except IntegrityError:
            db.rollback()
            if attempt == 2:
                raise
    for alarm, change in touched:
        events.publish(alarm_service.TOPIC, alarm_service._event(alarm, change))
    return touched


def _unheard(db: Session, ev: RuleEvent, open_now: dict[tuple[int, str], Alarm]) -> bool:
    """Whether a recovered event (``RulesEngine.rebuild``) tells something no alarm does yet."""
    earlier = open_now.get((ev.subject_id, str(ev.alarm_type)))
    if earlier is not None:  # the end of its episode, or a new episode on it
        return ev.kind is EventKind.close or (
            earlier.episode_end is not None and ev.started_at >= earlier.episode_end)
    if ev.kind is EventKind.close:
        return True  # _apply asks whether an alarm knew of the episode, as for live data
    return not alarm_service.known_episode(db_session=db, subject_id=ev.subject_id, type=str(ev.alarm_type),
                                           start=ev.started_at, end=ev.ended_at or ev.last_at)


def _apply(db: Session, ev: RuleEvent, open_now: dict[tuple[int, str], Alarm]) -> tuple[Alarm, str] | None:
    """The alarm an event opens, updates or ends, and the change to publish."""
    alarm_type = str(ev.alarm_type)
    if ev.kind is EventKind.close:
        ended_at = ev.ended_at or ev.last_at
        alarm = alarm_service.end_episode(db_session=db, subject_id=ev.subject_id, type=alarm_type, at=ended_at,
                                          open_now=open_now)
        if alarm is not None:
            return alarm, str(ev.kind)
        if alarm_service.known_episode(db_session=db, subject_id=ev.subject_id, type=alarm_type,
                                       start=ev.started_at, end=ended_at):
            return None  # its alarm was handled and closed before the subject came back
        # An episode that began and ended within late data (a backfill after a dropout): a replay
        # reports it by its close alone, and nobody has heard of it yet.
        alarm, change = _raise(db, ev, open_now, retrospective=True)
        alarm.episode_end = ended_at
        return alarm, change
    return _raise(db, ev, open_now, retrospective=ev.retrospective)


def _raise(db: Session, ev: RuleEvent, open_now: dict[tuple[int, str], Alarm], *,
           retrospective: bool) -> tuple[Alarm, str]:
    """Open or update the subject's alarm of this type; the change a screen should hear of:
    ``opened`` for a new row or a new episode on a row still open (it alerts the operators
    again), else the rule's own kind (a replay repeats the opening of an episode it already
    told of: that is an update)."""
    earlier = open_now.get((ev.subject_id, str(ev.alarm_type)))
    new_episode = (earlier is not None and ev.kind is EventKind.open and earlier.episode_end is not None
                   and ev.started_at >= earlier.episode_end)
    alarm = alarm_service.raise_alarm(
        db_session=db, subject_id=ev.subject_id, type=str(ev.alarm_type), at=ev.started_at,
        details={k: v for k, v in ev.details.items() if isinstance(v, (str, int, float, bool, type(None)))},
        retrospective=retrospective, lat=ev.details.get("lat"), lon=ev.details.get("lon"), commit=False,
        publish=False,  # published by the caller with the change below
        open_now=open_now,
    )
    alarm.last_at = max(alarm.last_at, ev.last_at)
    if new_episode:
        alarm.episode_end = None  # in breach again: its end is the new episode's
    if earlier is None or new_episode:
        return alarm, "opened"
    return alarm, "update" if ev.kind is EventKind.open else str(ev.kind)


class Pipeline:
    """The FixSink of every input: ``await submit(fixes)`` returns once they are committed."""

    def __init__(self, directory: Directory | None = None, *, rules: RulesEngine | None = None,
                 tick_every: float = 30.0, escalate_every: float = 60.0) -> None:
        self.directory = directory or Directory()
        self.store = FixStore(self.directory)
        self.rules = rules or RulesEngine()
        self.rules.profile_of = self._profile_of
        self.tick_every, self.escalate_every = tick_every, escalate_every
        self._queue: asyncio.Queue[list[Fix] | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        self.latency_s: collections.deque[float] = collections.deque(maxlen=100_000)  # receipt → rules done
        self.processed = 0
        self._rules_lock = threading.Lock()  # the rules state has one owner at a time
        self._unapplied: list[RuleEvent] = []  # rule events a failed write left (see _apply_events)
        self._rebuilt = False

    def _profile_of(self, device_id: int) -> DeviceProfile:
        entry = self.directory.by_device_id(device_id)
        try:
            return get_profile(entry.profile) if entry is not None else DEFAULT_BRACELET
        except KeyError:
            return DEFAULT_BRACELET

    async def submit(self, fixes: list[Fix]) -> list[Fix]:
        """Commit; returns the fixes that were new (they go on to the rules, after this returns)."""
        new = await asyncio.to_thread(self.store.store, fixes)
        if new:
            self._queue.put_nowait(new)
        return new

    def process_now(self, fixes: list[Fix], *, rebuild_window: timedelta = timedelta(minutes=30)) -> list[Fix]:
        """Commit and evaluate in the caller's thread, for a process where :meth:`start` never ran
        (the HTTP input of an API process without device gateways). Blocking; returns the new fixes."""
        with self._rules_lock:
            if not self._rebuilt:
                self._rebuild(rebuild_window)
        new = self.store.store(fixes)
        if new:
            self._process(new)
        return new

    async def start(self, *, rebuild_window: timedelta = timedelta(minutes=30)) -> None:
        def _rebuild() -> None:
            with self._rules_lock:
                self._rebuild(rebuild_window)

        await asyncio.to_thread(_rebuild)
        self._tasks = [asyncio.create_task(self._work(), name="pipeline-rules"),
                       asyncio.create_task(self._clock(), name="pipeline-clock")]

    def _apply_events(self, db: Session, rule_events: list[RuleEvent]) -> None:
        """Apply the events, after any a failed attempt left. The rules' state has moved on
        already (an episode the database never heard of stays open in it), so an event that
        could not be written, the database being down, is kept and tried again with the next
        batch or tick rather than lost."""
        pending = self._unapplied + rule_events
        if not pending:
            return
        self._unapplied = []
        try:
            apply_events(db, pending)
        except SQLAlchemyError:
            db.rollback()
            dropped = max(0, len(pending) - MAX_UNAPPLIED)
            self._unapplied = pending[dropped:]
            self.rules.counters["events_retried"] += len(self._unapplied)
            self.rules.counters["events_dropped"] += dropped
            log.exception("%d rule events not applied; kept to try again (%d dropped)", len(pending), dropped)

    def _rebuild(self, window: timedelta) -> None:
        with dbsession.session_scope(Actor.system("pipeline-rebuild")) as db:
            found = self.rules.rebuild(db, window)
            if found:
                apply_events(db, found, recovered=True)
        self._rebuilt = True

    async def stop(self) -> None:
        await self._queue.put(None)
        for task in self._tasks[1:]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.rules.close()
        self.store.close()
        self.directory.close()

    async def drain(self) -> None:
        """Wait until every stored fix went through the rules (tests, benchmarks)."""
        while not self._queue.empty() or self._busy:
            await asyncio.sleep(0.005)

    _busy = False

    async def _work(self) -> None:
        while True:
            batch = await self._queue.get()
            if batch is None:
                return
            # Merge what queued up meanwhile: one rules pass and one commit for all of it.
            while not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    self._queue.put_nowait(None)
                    break
                batch.extend(more)
            self._busy = True
            try:
                await asyncio.to_thread(self._process, batch)
            except Exception:  # noqa: BLE001 - keep the pipeline alive; the fixes are stored
                log.exception("rules stage failed for %d fixes", len(batch))
            finally:
                self._busy = False

    def _process(self, batch: list[Fix]) -> None:
        with self._rules_lock, dbsession.session_scope(Actor.system("pipeline")) as db:
            self._apply_events(db, self.rules.process(db, batch))
        done = time.time()
        for f in batch:
            if f.received_at is not None:
                self.latency_s.append(done - f.received_at.timestamp())
        self.processed += len(batch)
        if not events.listened(POSITIONS_TOPIC):
            return  # no live map in this process (a gateway or worker alone): nothing to build
        # "t" as epoch seconds: a sixth of an ISO string's cost, for every fix
        events.publish(POSITIONS_TOPIC, {"fixes": [
            {"subject_id": f.subject_id, "device_id": f.device_id, "t": f.fix_time.timestamp(), "lat": f.lat,
             "lon": f.lon, "acc": f.effective_accuracy_m, "flags": f.extras.get("flags", 0),
             "battery": f.battery_pct} for f in batch if f.subject_id is not None]})

    async def _clock(self) -> None:
        last_escalation = 0.0
        while True:
            await asyncio.sleep(self.tick_every)
            try:
                await asyncio.to_thread(self._tick)
                if time.monotonic() - last_escalation >= self.escalate_every:
                    last_escalation = time.monotonic()
                    await asyncio.to_thread(self._escalate)
            except Exception:  # noqa: BLE001
                log.exception("pipeline clock failed")

    def _tick(self) -> None:
        with self._rules_lock, dbsession.session_scope(Actor.system("pipeline-tick")) as db:
            self.rules.refresh(db)
            found = self.rules.retry_deferred(db)
            self._apply_events(db, found + self.rules.tick(clock.now()))

    def _escalate(self) -> None:
        with dbsession.session_scope(Actor.system("alarm-escalation")) as db:
            alarm_service.escalate_overdue(db_session=db)
