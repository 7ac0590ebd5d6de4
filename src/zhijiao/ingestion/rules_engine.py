"""The rules' state of every subject, as the fix pipeline keeps it (the rules stage's engine).

One :class:`~zhijiao.monitoring.rules.SubjectRuleState` per subject, fed in fix-time order;
late data replayed from checkpoints and the stored fixes; silence judged on the pipeline's
clock; after a restart, state rebuilt from the stored fixes of the last ``rebuild_window``.
The zones and the subjects' contexts come from ``monitoring.context`` and are reloaded when a
``devices.changed`` notice says they changed.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from zhijiao.core import clock, events, topics
from zhijiao.core.fix import Fix, FixSource
from zhijiao.ingestion.protocols.jt808.profiles import DEFAULT_BRACELET, DeviceProfile, alarm_types
from zhijiao.monitoring import context as context_service
from zhijiao.monitoring.models import FLAG_BACKFILL, FLAG_NOISY, FixRecord
from zhijiao.monitoring.rule_types import RuleEvent, RuleSettings, SubjectContext
from zhijiao.monitoring.rules import SubjectRuleState, coalesce, evaluate_window
from zhijiao.monitoring.zone_index import FixZones, ZoneClassification, ZoneIndex
from zhijiao.settings import service as settings_service

log = logging.getLogger(__name__)

# A fix the store flagged noisy (unpositioned, or less accurate than it accepts) is kept and shown
# but must never trigger a rule; the rules' own test is accuracy, so it gets one they reject.
UNUSABLE_ACCURACY_M = 1e6
REBUILD_CHUNK = 1_000  # subjects whose recent fixes a restart reads back in one query
SETTINGS_EVERY_S = 5.0  # how often the rules look for thresholds the bureau changed
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
        self.index = ZoneIndex([])
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
        self._off = events.on(topics.DIRECTORY, self._changed)

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
        context = context_service.rule_context(db_session=db)
        self.load(context.index, context.subjects, changes)

    def load(self, index: ZoneIndex, contexts: dict[int, SubjectContext], changes: int | None = None) -> None:
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
        """Evaluate a batch of fixes the filter stage passed (each with its subject)."""
        self.refresh(db)
        out = self.retry_deferred(db)
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
        subjects this process judges) go to ``monitoring.alarms.apply_rule_events`` as
        ``recovered``, which raises only what no alarm tells of yet.
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
    value = settings_service.value
    return RuleSettings(
        dwell_s=value("rules.dwell_s"), lost_contact_s=value("rules.lost_contact_s"),
        night_start=time_of_day.fromisoformat(value("rules.night_start")),
        night_end=time_of_day.fromisoformat(value("rules.night_end")),
        night_radius_m=value("rules.night_radius_m"),
    )
class _ZonesView:
    """What the fences say about one fix, as the rules read it (duck-typed ``FixZones``).

    The two numbers the rules test on every fix are plain floats; the zone-id tuples, which only
    an alarm's details need, are looked up on first use. Building a full ``FixZones`` per fix
    costs a few numpy calls each, more than the rest of the rules together.
    """

    __slots__ = ("_classification", "_full", "_i", "exclusion_depth_m", "permitted_margin_m")

    def __init__(self, classification: ZoneClassification, i: int, margin: float, depth: float) -> None:
        self._classification, self._i, self._full = classification, i, None
        self.permitted_margin_m, self.exclusion_depth_m = margin, depth

    def _resolved(self) -> FixZones:
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


def zone_views(index: ZoneIndex, fixes: list[Fix]) -> list[_ZonesView] | None:
    """One vectorised classification of the batch, as one view per fix (None: no zones at all)."""
    if not fixes or not len(index):
        return None
    c = index.classify(fixes)
    margins, depths = c.permitted_margin_m.tolist(), c.exclusion_depth_m.tolist()
    return [_ZonesView(c, i, margins[i], depths[i]) for i in range(len(fixes))]


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
