"""Alarm rules of electronic positioning: one pure state machine per subject, no I/O.

Law Art. 29 allows electronic positioning (电子定位) only while a positioning order is in force
and the data may be used only for corrections; Art. 27 makes leaving the city or county, and
staying away, subject to an approved leave (外出请假).  The rules below turn a subject's fixes,
in fix-time order, into alarm episodes (告警): each episode opens once, may be updated, and
closes once, so an officer sees one alarm per real event, not one per fix.

Alarm types (glossary names):

- ``left_permitted_area`` 越界: outside every applicable permitted zone by more than the fix's
  accuracy radius for ``dwell_s``; suspended while an approved leave covers the time and the
  destination (Art. 27).
- ``entered_exclusion_zone`` 进入禁区: deeper than the accuracy radius inside an exclusion zone
  (a court's 禁止令) for ``dwell_s``.
- ``night_absence`` 夜不归宿 (Art. 27: staying away needs an approved leave): farther than
  ``night_radius_m`` (plus accuracy) from home during the night window, for ``dwell_s``;
  suspended while a leave covers the time and the place.
- ``lost_contact`` 失联: no data for ``lost_contact_s`` from an active device; only
  :meth:`SubjectRuleState.tick` can notice silence (Art. 30: search at once).
- ``power_off`` 关机, ``tamper`` 防拆, ``sos``, ``low_battery`` 低电量: from the device's alarm
  types (``Fix.extras["alarm_types"]``, decoded from the JT/T 808 alarm bits), and low battery
  also from ``battery_pct``.
- ``compliance``: a fix arrived while no positioning order is in force (Art. 29).  Then only
  this fires; the supervision rules do not look at data the bureau may not use.

Noise: a fix less accurate than ``max_accuracy_m``, or one that would need more than
``max_speed_kmh`` from the last accepted fix, is kept (the caller stores every fix) but neither
starts nor ends a position-based episode.  A fix proves a side of a line only when it is more
than its accuracy radius past it.  A run of violating fixes must be *proven* before its dwell
can open an episode: a multipath jump (a GNSS fix kilometres off that still reports 10-30 m)
is the usual false alarm, so one violating fix needs corroboration (the subject's course, the
same place seen again, a cell fix there) and a fix far off neighbours that agree (a spike,
``spike_m``) is taken back.  The dwell is measured between crossings estimated from the fixes
either side of the line, as early as their accuracy allows (see :class:`_Machine`).
Hysteresis: an episode closes only after the subject has been back in order for
``hysteresis_s``.

Late data: a fix is *late* when it was backfilled (JT/T 808 0x0704 补传) or received more than
``late_after_s`` after its fix time.  An episode opened by a late fix is ``retrospective``.  A
batch of late fixes goes through :func:`evaluate_window`, which replays the subject's window in
fix-time order from the state before it and returns one event per episode, never one per fix.
Events are idempotent upserts: the alarm service keys an episode by subject, alarm type and
``started_at`` and merges an event into an overlapping episode of the same subject and type
(a replay may find that a known excursion started earlier than the live fixes showed).
"""

from __future__ import annotations

import copy
import enum
import math
import pickle
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import cached_property, partial
from typing import Any, NamedTuple

import shapely
from pydantic import BaseModel, ConfigDict, Field

from zhijiao.core import clock, geo
from zhijiao.ingestion.fix import Fix, FixSource
from zhijiao.monitoring.geofence import FixZones


class AlarmType(enum.StrEnum):
    left_permitted_area = "left_permitted_area"
    entered_exclusion_zone = "entered_exclusion_zone"
    night_absence = "night_absence"
    lost_contact = "lost_contact"
    power_off = "power_off"
    tamper = "tamper"
    low_battery = "low_battery"
    sos = "sos"
    compliance = "compliance"


# Alarm types a device can report; other decoded types (e.g. GNSS antenna faults) are not alarms
# about the subject and are left to the device screens.
DEVICE_ALARMS = (AlarmType.sos, AlarmType.tamper, AlarmType.power_off, AlarmType.low_battery)


class EventKind(enum.StrEnum):
    open = "open"
    update = "update"
    close = "close"


class RuleSettings(BaseModel):
    """Every threshold of the rules; a bureau may change them (settings table, audited)."""

    model_config = ConfigDict(frozen=True)

    dwell_s: float = Field(120.0, ge=0, description="how long a violation must last before it alarms")
    hysteresis_s: float = Field(60.0, ge=0, description="how long back in order before it closes")
    night_start: time = time(22, 0)  # Asia/Shanghai; the window may cross midnight
    night_end: time = time(6, 0)
    night_radius_m: float = Field(500.0, gt=0, description="distance from home that counts as away")
    lost_contact_s: float = Field(1800.0, gt=0, description="silence of an active device")
    low_battery_pct: int = Field(15, ge=0, le=100)
    low_battery_clear_pct: int = Field(20, ge=0, le=100, description="battery that ends the alarm")
    max_accuracy_m: float = Field(1000.0, gt=0, description="less accurate fixes do not trigger")
    max_speed_kmh: float = Field(200.0, gt=0, description="faster implied jumps do not trigger")
    late_after_s: float = Field(300.0, ge=0, description="received this late: retrospective")
    update_every_s: float = Field(600.0, gt=0, description="at most one update per episode per this")
    compliance_quiet_s: float = Field(3600.0, gt=0, description="silence that ends a compliance alarm")
    crossing_window_s: float = Field(
        120.0, ge=0, description="a run starts at the crossing estimated from the fix before it, if that is this recent")
    spike_m: float = Field(
        500.0, gt=0, description="a fix this far off its neighbours, which agree, is a multipath spike")

    @cached_property
    def dwell(self) -> timedelta:
        return timedelta(seconds=self.dwell_s)

    @cached_property
    def crossing_window(self) -> timedelta:
        # At most the dwell: with the crossing strictly after the fix before, one violating fix
        # can never complete the dwell by itself.
        return timedelta(seconds=min(self.crossing_window_s, self.dwell_s))

    @cached_property
    def hysteresis(self) -> timedelta:
        return timedelta(seconds=self.hysteresis_s)

    @cached_property
    def lost_contact(self) -> timedelta:
        return timedelta(seconds=self.lost_contact_s)

    @cached_property
    def late_after(self) -> timedelta:
        return timedelta(seconds=self.late_after_s)

    @cached_property
    def update_every(self) -> timedelta:
        return timedelta(seconds=self.update_every_s)

    @cached_property
    def compliance_quiet(self) -> timedelta:
        return timedelta(seconds=self.compliance_quiet_s)

    @cached_property
    def night_minutes(self) -> tuple[int, int]:
        start, end = self.night_start, self.night_end
        return start.hour * 60 + start.minute, end.hour * 60 + end.minute


DEFAULT_SETTINGS = RuleSettings()


# --- subject context ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Leave:
    """An approved leave (外出请假, Art. 27): from ``start`` to ``end`` (aware), to ``destination``.

    ``destination`` None covers any place; otherwise a fix must lie in it, or within its
    accuracy radius of it, to be covered.
    """

    start: datetime
    end: datetime
    destination: shapely.Polygon | shapely.MultiPolygon | None = None
    _frame: geo.LocalProjection | None = field(default=None, init=False, repr=False, compare=False)
    _destination_m: shapely.Geometry | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.destination is not None:
            shapely.prepare(self.destination)
            frame = geo.LocalProjection.around(self.destination)
            object.__setattr__(self, "_frame", frame)
            object.__setattr__(self, "_destination_m", frame.project(self.destination))

    def covers(self, fix: Fix, accuracy_m: float) -> bool:
        if not self.start <= fix.fix_time <= self.end:
            return False
        if self.destination is None or shapely.contains_xy(self.destination, fix.lon, fix.lat):
            return True
        # Only fixes that already break a rule get here, so one shapely call each is cheap.
        assert self._frame is not None
        x, y = self._frame.to_xy(fix.lat, fix.lon)
        return bool(shapely.distance(self._destination_m, shapely.Point(float(x), float(y))) <= accuracy_m)


@dataclass(frozen=True, slots=True)
class SubjectContext:
    """What the rules need to know about a subject besides the fixes; replaced when it changes."""

    subject_id: int
    positioning_order_in_force: bool = True  # Art. 29: no order, no supervision by position
    device_active: bool = True  # a device bound and expected to report
    home: tuple[float, float] | None = None  # (lat, lon) WGS-84, for night absence
    leaves: tuple[Leave, ...] = ()
    monitoring_since: datetime | None = None  # counts silence before the first fix

    def leave_covers(self, fix: Fix, accuracy_m: float) -> bool:
        return any(leave.covers(fix, accuracy_m) for leave in self.leaves)


# --- events and episodes ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleEvent:
    kind: EventKind
    alarm_type: AlarmType
    subject_id: int
    started_at: datetime
    last_at: datetime  # the last time the violation was seen
    confirmed_at: datetime  # when the rule was satisfied: fix time (tick time for lost contact)
    fix_time: datetime | None  # the fix that caused this event; None for tick
    details: Mapping[str, Any]
    retrospective: bool = False
    ended_at: datetime | None = None  # when it was over (close only)

    @property
    def key(self) -> tuple[int, AlarmType, datetime]:
        return self.subject_id, self.alarm_type, self.started_at


@dataclass(slots=True)
class Episode:
    alarm_type: AlarmType
    started_at: datetime  # first fix that showed it (or last contact, for lost contact)
    last_at: datetime  # last fix that showed it
    confirmed_at: datetime  # when the rule was satisfied (dwell complete), in fix time
    retrospective: bool
    details: dict[str, Any]
    peak_m: float = -math.inf  # the worst distance seen (outside, depth, from home)
    emitted_at: datetime = field(init=False)  # for throttling updates

    def __post_init__(self) -> None:
        self.emitted_at = self.confirmed_at

    def copy(self) -> Episode:
        twin = copy.copy(self)
        twin.details = copy.deepcopy(self.details)  # small; closing adds to it
        return twin


class _Verdict(enum.IntEnum):
    violating = 1
    clear = 2
    unsure = 3  # noise, or within the accuracy radius of the line: changes nothing
    leaning = 5  # unsure, with the position itself on the wrong side (dates a run's start)
    off = 4  # the rule does not apply now (no zone, day time, covered by leave): closes


_PEAK_KEY = {
    AlarmType.left_permitted_area: "max_outside_m",
    AlarmType.entered_exclusion_zone: "max_depth_m",
    AlarmType.night_absence: "max_from_home_m",
}


@dataclass(slots=True)
class _Machine:
    """Dwell before opening, hysteresis before closing: shared by every fix-driven rule.

    A run of violating fixes opens an episode once it has lasted the dwell time.  Fixes that
    prove nothing (within their accuracy of the line) neither break the run nor extend the
    evidence, except that once the run is *proven* they may complete the dwell: otherwise an
    indoor cell fix at the wrong moment would delay the alarm by a whole reporting interval.
    A run is *proven* by a violating fix that something corroborates: it continues the
    subject's course (it lies where the precise fixes before it, moving, put the subject next,
    or on the way there: people arrive and stop), or the violating fix before it was at the
    same place, or a cell or Wi-Fi fix leaning past the line, just before or after it, holds it
    (a GNSS fix) within its accuracy radius; or by three violating fixes.  A multipath jump
    lands anywhere else, and two in a row seldom together.  With a dwell, a single violating
    fix can never open an episode.

    A clear fix ends a run, unless the next fix shows it was a multipath spike (far from both
    neighbours, which agree with each other): then the run resumes as if it had not come.  A
    violating spike is taken back the same way.

    The dwell counts from the estimated crossing, not from the first violating fix: with the
    fix before it (``prev``, at most ``crossing_window`` older) surely on the right side of the
    line, the crossing is interpolated between the two by their distances from it, as early as
    their accuracy allows; with that fix within its accuracy of the line (unsure or leaning),
    the subject may have been across already, and the run starts there.  Otherwise an alarm
    would wait up to a whole reporting interval more than the dwell.  The way back is estimated
    alike: a proven run whose crossing back, interpolated between its last violating fix and
    the clear one after, makes it last the dwell opens its episode with that clear fix (and the
    episode closes after the hysteresis as usual).  Otherwise a stay of two and a half minutes,
    seen by two fixes a minute apart, would raise nothing.

    A fix within its accuracy of the line is no evidence by itself: it never starts a run, nor
    counts as one of the two.
    """

    alarm_type: AlarmType
    dwell: timedelta
    since: datetime | None = None  # start of the current run (the estimated crossing)
    last_bad: datetime | None = None
    prev_at: datetime | None = None  # the last fix with a distance from the line, and that distance
    prev_beyond: float = math.nan  # (metres beyond the line; negative: on the right side)
    prev_accuracy: float = math.inf
    prev2_at: datetime | None = None  # the one before: prev again if prev turns out a spike
    prev2_beyond: float = math.nan
    prev2_accuracy: float = math.inf
    vague_at: datetime | None = None  # a coarse fix near the line after ``prev`` (which, being
    # more accurate, stayed the reference): it dates a crossing once ``prev`` is too old to date one
    last_beyond: float = math.nan  # how far past the line the last violating fix was
    last_details: Mapping[str, Any] = field(default_factory=dict)  # what an episode opened by it would say
    first_bad: datetime | None = None  # the first violating fix of the run
    last_bad_at: tuple[float, float, float, bool] = (math.nan, math.nan, math.nan, False)  # where the
    # last violating fix was, its accuracy, and whether it was GNSS
    bad_fixes: int = 0  # violating fixes in the current run
    lean: tuple[datetime, float, float, float] | None = None  # the last cell or Wi-Fi fix leaning
    # past the line since the last clear fix: when, where, and its accuracy
    corroborated: bool = False  # a violating fix of the run was corroborated (see the class)
    peak_m: float = -math.inf  # worst distance of the current run
    clear_since: datetime | None = None
    episode: Episode | None = None
    ended: _EndedRun | None = None  # the run the last clear fix ended, in case it was a spike

    def copy(self) -> _Machine:
        twin = copy.copy(self)
        if self.episode is not None:
            twin.episode = self.episode.copy()
        return twin

    @property
    def proven(self) -> bool:
        """Whether the run is more than multipath jumps (see the class)."""
        return self.corroborated or self.bad_fixes >= 3

    def step(
        self,
        state: SubjectRuleState,
        verdict: _Verdict,
        fix: Fix,
        late: bool,
        measure: float,
        details: Callable[[], dict[str, Any]],
        beyond: float = math.nan,
        on_course: Callable[[], bool] | None = None,
    ) -> RuleEvent | None:
        """Advance by one fix; ``details`` is called only if an episode opens. ``beyond``: the
        fix's distance past the line (negative on the right side; NaN where there is none);
        ``on_course()``: whether the fix continues the subject's course (see the class)."""
        t = fix.fix_time
        ep = self.episode
        self.ended = None
        if verdict is _Verdict.violating:
            self.clear_since = None
            if ep is not None:
                ep.last_at, ep.peak_m = t, max(ep.peak_m, measure)
                if t - ep.emitted_at >= state.settings.update_every:
                    ep.emitted_at = t
                    return state._event(EventKind.update, ep, t)
                return None
            # A long silence between two bad fixes does not make one long violation.
            silence = t - self.last_bad if self.last_bad is not None else None
            accuracy = fix.effective_accuracy_m
            if self.since is None or silence is None or silence > state.settings.lost_contact:
                self.since, self.bad_fixes, self.peak_m = self._crossing(state, t, beyond, accuracy), 0, measure
                self.corroborated, self.first_bad = False, t
            agrees = self.corroborated or (on_course is not None and on_course())
            if not agrees and self.lean is not None and fix.source is FixSource.gnss:
                lean_at, lat, lon, radius = self.lean  # (the tower saw it first)
                agrees = t - lean_at <= state.settings.crossing_window and _metres(lat, lon, fix.lat, fix.lon) <= radius
            if self.bad_fixes == 1 and not agrees:
                lat, lon, before, _ = self.last_bad_at
                agrees = _metres(lat, lon, fix.lat, fix.lon) - before - accuracy <= _COURSE_SLACK_M
            # taken now (a few fixes before an episode opens): holding the callable would keep
            # the whole batch's zone classification alive in every machine that ever saw a run
            self.last_bad, self.last_beyond, self.last_details = t, beyond, details()
            self.last_bad_at = (fix.lat, fix.lon, accuracy, fix.source is FixSource.gnss)
            self.bad_fixes += 1
            self.corroborated = self.corroborated or agrees
            self.peak_m = max(self.peak_m, measure)
            # (a device's own alarm has no dwell: the device has decided, nothing to prove)
            return self._open_if_due(state, t, late, details) if self.proven or not self.dwell else None
        if verdict is _Verdict.unsure or verdict is _Verdict.leaning:
            # Not evidence either way, even leaning: a cell fix a few metres past the line is a
            # coin toss, and with one multipath jump it would make a false alarm.
            if ep is None and self.since is not None:
                lat, lon, _, gnss = self.last_bad_at
                if verdict is _Verdict.leaning and gnss and fix.source is not FixSource.gnss and not self.proven:
                    # another way of measuring (two cell fixes share the tower's error)
                    self.corroborated = _metres(lat, lon, fix.lat, fix.lon) <= fix.effective_accuracy_m
                if self.proven:
                    return self._open_if_due(state, t, late, details)
            return None
        if verdict is _Verdict.clear:
            if self.since is not None and ep is None:
                back = self._crossing_back(state, t, beyond, fix.effective_accuracy_m)
                if back is not None and back - self.since >= self.dwell:
                    # the zones are those the subject was in, not those of the fix back
                    event = self._open_if_due(state, t, late, partial(dict, self.last_details))
                    self.clear_since = back
                    return event
                self.ended = _EndedRun(t, self.since, self.first_bad, self.last_bad, self.last_beyond,
                                       self.bad_fixes, self.corroborated, self.peak_m)
            self.since = None
            if ep is None:
                return None
            if self.clear_since is None:
                self.clear_since = t
            if t - self.clear_since >= state.settings.hysteresis:
                return self.close(state, t, ended_at=self.clear_since)
            return None
        # off: the rule does not apply now
        self.since = self.clear_since = None
        return self.close(state, t, ended_at=t) if ep is not None else None

    def take_back(self, spikes: tuple[datetime, ...]) -> None:
        """The fixes at ``spikes`` were multipath spikes: undo what they did to the run."""
        ended = self.ended
        if self.episode is None:
            if self.since is not None and self.first_bad in spikes:
                self.since = None  # the spikes started it (a later good fix would be the run's last)
            if ended is not None and ended.at in spikes and self.since is None:
                self.since, self.last_bad, self.last_beyond = ended.since, ended.last_bad, ended.last_beyond
                self.first_bad, self.bad_fixes, self.corroborated = ended.first_bad, ended.bad_fixes, ended.corroborated
                self.peak_m = ended.peak_m
            elif self.since is not None and self.last_bad in spikes:
                self.bad_fixes -= 1  # a violating spike at the end of a longer run: no evidence
        self.ended = None
        if self.lean is not None and self.lean[0] in spikes:
            self.lean = None
        if self.vague_at in spikes:
            self.vague_at = None
        if self.prev_at in spikes:  # nor does a spike place a crossing
            self.prev_at, self.prev_beyond, self.prev_accuracy = self.prev2_at, self.prev2_beyond, self.prev2_accuracy
            if self.prev_at in spikes:
                self.prev_at = None

    def note(self, verdict: _Verdict, fix: Fix, beyond: float, accuracy: float, window: timedelta) -> None:
        """Keep the fix as ``prev``, the reference for the next crossing, if it is a better one.

        A fix within its accuracy of the line (unsure, leaning) places the crossing no better
        than "around here": a cell fix after a GNSS one, hundreds of metres.  It replaces only
        a reference that is no more accurate, or too old to be used.  A fix that proves a side
        always does.  A cell or Wi-Fi fix leaning past the line is kept as ``lean`` until a
        clear fix.
        """
        t = fix.fix_time
        if verdict is _Verdict.leaning and fix.source is not FixSource.gnss:
            self.lean = (t, fix.lat, fix.lon, accuracy)
        elif verdict is _Verdict.clear:
            self.lean = None
        prev_at = self.prev_at
        if (verdict is _Verdict.unsure or verdict is _Verdict.leaning) and prev_at is not None:
            if accuracy > self.prev_accuracy and t - prev_at <= window:
                self.vague_at = t
                return
        self.vague_at = None
        self.prev2_at, self.prev2_beyond, self.prev2_accuracy = prev_at, self.prev_beyond, self.prev_accuracy
        self.prev_at, self.prev_beyond, self.prev_accuracy = t, beyond, accuracy

    def _crossing(self, state: SubjectRuleState, t: datetime, beyond: float, accuracy: float) -> datetime:
        """Where a new run starts: the crossing, estimated from the fix before when it is recent.

        As early as the two fixes allow: the one before may have been two accuracy radii nearer
        the line (``_DATING_RADII``), the violating one its accuracy deeper.  The run still has
        to be proven, so this holds back no noise; dating it by the likeliest crossing instead
        made half the crossings a second or two late, and each such second cost a whole
        reporting interval.
        """
        prev_at, prev_beyond = self.prev_at, self.prev_beyond
        if not beyond > 0:
            return t
        window = state.settings.crossing_window
        if prev_at is None or t - prev_at > window:
            # A coarse fix (indoors, the tower's) after the precise one: it proves no side, so
            # the subject may have been across already, as if it had been the only fix before.
            vague_at = self.vague_at
            if vague_at is not None and t - vague_at <= window and t - vague_at < state.settings.dwell:
                return vague_at
            return t
        near = prev_beyond + _DATING_RADII * self.prev_accuracy
        if near >= 0:
            # within its dating band of the line (unsure, leaning, or clear by less than the
            # band): the subject may have been across already.  Not evidence, so it may date
            # the run but never make up the whole dwell for one violating fix: then the
            # crossing is strictly after it, where an unsure fix places it and a leaning one
            # cannot.
            if t - prev_at < state.settings.dwell:
                return prev_at
            if prev_beyond >= 0:
                return t
            near = prev_beyond
        if not (math.isfinite(near) and math.isfinite(beyond)):
            return t  # far from the line (where no distance is kept)
        crossing = prev_at + (t - prev_at) * (-near / (beyond + accuracy - near))
        # Interpolating assumes an even pace; people arrive and stop (at a bar, a victim's
        # door), which dates the crossing late.  The pace at which the two fixes before came
        # towards the line, when they show one, dates it from the other side: take the earlier.
        prev2_at, prev2_beyond = self.prev2_at, self.prev2_beyond
        if prev2_at is not None and math.isfinite(prev2_beyond) and prev_at - prev2_at <= state.settings.crossing_window:
            approach = prev_beyond - prev2_beyond
            if approach > self.prev_accuracy + self.prev2_accuracy:
                reach = prev_at + (prev_at - prev2_at) * (-near / approach)
                crossing = max(prev_at, min(crossing, reach))
        return crossing

    def _crossing_back(self, state: SubjectRuleState, t: datetime, beyond: float, accuracy: float) -> datetime | None:
        """Where a proven run ended, interpolated like its start, as late as the fixes allow
        (None: not known well enough)."""
        last_bad, last_beyond = self.last_bad, self.last_beyond
        if (not self.proven or last_bad is None or t - last_bad > state.settings.crossing_window
                or not (last_beyond > 0 and math.isfinite(last_beyond) and beyond < 0 and math.isfinite(beyond))):
            return None
        deep = last_beyond + self.last_bad_at[2]  # the clear fix is at least its accuracy inside
        return last_bad + (t - last_bad) * (deep / (deep - beyond - accuracy))

    def _open_if_due(
        self, state: SubjectRuleState, t: datetime, late: bool, details: Callable[[], dict[str, Any]]
    ) -> RuleEvent | None:
        assert self.since is not None and self.last_bad is not None
        if t - self.since < self.dwell:
            return None
        self.episode = Episode(self.alarm_type, self.since, self.last_bad, t, late, details(), self.peak_m)
        self.since = None
        return state._event(EventKind.open, self.episode, t)

    def close(
        self, state: SubjectRuleState, t: datetime | None, ended_at: datetime, **extra: Any
    ) -> RuleEvent:
        ep = self.episode
        assert ep is not None
        self.episode = None
        self.clear_since = None
        ep.details.update(extra)
        return state._event(EventKind.close, ep, t, ended_at=ended_at)


class _EndedRun(NamedTuple):
    at: datetime  # the clear fix that ended it
    since: datetime | None
    first_bad: datetime | None
    last_bad: datetime | None
    last_beyond: float
    bad_fixes: int
    corroborated: bool
    peak_m: float


_NO_EVIDENCE = (_Verdict.unsure, math.nan, math.nan)
_ZONE_IDS = {
    AlarmType.left_permitted_area: "permitted_outside",
    AlarmType.entered_exclusion_zone: "exclusion_inside",
}


def _zone_details(zones: FixZones | None, alarm: AlarmType) -> dict[str, Any]:
    """The zones involved, for an opening episode (looked up only then)."""
    attribute = _ZONE_IDS.get(alarm)
    if zones is None or attribute is None:
        return {}
    return {"zones": list(getattr(zones, attribute))}


# An accepted fix as the plausibility and course checks need it: (lat, lon, at, accuracy_m). A
# plain tuple: CPython stops tracking an exact tuple of plain values at its first collection, a
# NamedTuple never, and a province's rule state holds tens of millions (bench/rules_memory.py).
_Anchor = tuple[float, float, datetime, float]
_AT = 2


_METRES_PER_DEGREE_LAT = 111_000.0  # planar distances within a reporting interval need no better
_MOVING_M = 60.0  # a step beyond both accuracies of at least this is moving
_COURSE_SLACK_M = 100.0  # stopping, turning, changing speed within one interval
_PRECISE_M = 100.0  # fixes this accurate show a course (a cell fix's is the tower's)
# A reported accuracy is about one standard deviation (Android's is a 68 % radius): one fix in
# a dozen lies more than that on the far side of the line.  Evidence keeps the one radius (a
# side is proven past it); dating a run's start, which proves nothing, allows two, so that a
# fix taken just after the crossing but read a radius and a bit short of it does not push the
# dwell's end past the next fix (seen: an alarm a whole reporting interval late).
_DATING_RADII = 2.0


_SHANGHAI_OFFSET_MIN = clock.SHANGHAI_OFFSET_S // 60


def _local_minute(t: datetime) -> int:
    """Asia/Shanghai minute of the day. Fix times are aware UTC (Fix contract), so this is
    arithmetic with the fixed offset (``clock.SHANGHAI_OFFSET_S``): a fifth of a time-zone
    conversion's cost on every fix."""
    if t.tzinfo is UTC:
        return (t.hour * 60 + t.minute + _SHANGHAI_OFFSET_MIN) % (24 * 60)
    local = t.astimezone(clock.SHANGHAI)
    return local.hour * 60 + local.minute


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Planar distance: within 0.1 % of the great circle over the tens of kilometres a reporting
    interval can span (what the speed, spike and evidence checks look at), at a fraction of
    haversine's cost on every fix."""
    dx = (lon2 - lon1) * _METRES_PER_DEGREE_LAT * math.cos(math.radians(lat1))
    return math.hypot(dx, (lat2 - lat1) * _METRES_PER_DEGREE_LAT)


def _gap_m(a: _Anchor, b: _Anchor) -> float:
    """Distance beyond both accuracy radii (negative: the two may be the same place)."""
    a_lat, a_lon, _, a_accuracy = a
    b_lat, b_lon, _, b_accuracy = b
    return _metres(a_lat, a_lon, b_lat, b_lon) - a_accuracy - b_accuracy


# --- the state machine --------------------------------------------------------------------------


@dataclass(slots=True)
class SubjectRuleState:
    """All rule state of one subject.  Feed it fixes in fix-time order; call tick() regularly."""

    context: SubjectContext
    settings: RuleSettings = DEFAULT_SETTINGS
    high_water: datetime | None = None  # latest fix time fed
    last_contact_at: datetime | None = None  # latest time data reached us
    replay_from: datetime | None = None  # set when an out-of-order fix needs evaluate_window
    _anchor: _Anchor | None = field(default=None, init=False, repr=False)  # last accepted fix
    _track: tuple[_Anchor, ...] = field(default=(), init=False, repr=False)  # the last accepted fixes
    _course: tuple[_Anchor, ...] = field(default=(), init=False, repr=False)  # the last precise ones (_PRECISE_M)
    _pending: _Anchor | None = field(default=None, init=False, repr=False)  # last rejected jump
    _machines: dict[AlarmType, _Machine] = field(init=False, repr=False)
    _device_machines: tuple[_Machine, ...] = field(init=False, repr=False)
    _lost: Episode | None = field(default=None, init=False, repr=False)
    _compliance: Episode | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._machines = {alarm: _Machine(alarm, self.settings.dwell) for alarm in _PEAK_KEY}
        # device alarms open at once: the device has already decided
        self._machines.update({alarm: _Machine(alarm, timedelta(0)) for alarm in DEVICE_ALARMS})
        self._device_machines = tuple(self._machines[alarm] for alarm in DEVICE_ALARMS)

    @property
    def subject_id(self) -> int:
        return self.context.subject_id

    def open_episodes(self) -> list[Episode]:
        found = [m.episode for m in self._machines.values() if m.episode is not None]
        return found + [e for e in (self._lost, self._compliance) if e is not None]

    def copy(self) -> SubjectRuleState:
        """An independent copy (context and settings are immutable and shared).

        By hand rather than ``copy.deepcopy``: a deep copy walks the shared context and enum keys
        (~0.5 ms each). Times, anchors and verdicts are immutable; machines and episodes are
        copied.
        """
        twin = copy.copy(self)
        twin._machines = {alarm: machine.copy() for alarm, machine in self._machines.items()}
        twin._device_machines = tuple(twin._machines[alarm] for alarm in DEVICE_ALARMS)
        twin._lost = self._lost.copy() if self._lost is not None else None
        twin._compliance = self._compliance.copy() if self._compliance is not None else None
        return twin

    def freeze(self) -> bytes:
        """The state as bytes, without its context and settings (see :meth:`thaw`).

        The pipeline keeps a subject's state every half hour of fix time to replay late data
        from, and reads it back only then. As objects, those copies were three quarters of what
        the cyclic collector walks in a full collection (45 of 59 objects a subject); as bytes
        it never looks at them. Only this process reads them back, so pickle is safe here.
        """
        return pickle.dumps(tuple(getattr(self, name) for name in _FROZEN), pickle.HIGHEST_PROTOCOL)

    @classmethod
    def thaw(cls, frozen: bytes, context: SubjectContext, settings: RuleSettings) -> SubjectRuleState:
        """A state from :meth:`freeze`, with the context and settings given (today's)."""
        state = cls.__new__(cls)
        state.context = context
        for name, value in zip(_FROZEN, pickle.loads(frozen), strict=True):  # noqa: S301 - our own bytes
            setattr(state, name, value)
        state.retune(settings)
        return state

    def owe_replay(self, since: datetime) -> None:
        """Fixes from ``since`` must be evaluated again in fix-time order (see :meth:`feed`)."""
        earliest = self.replay_from
        self.replay_from = since if earliest is None else min(earliest, since)

    def retune(self, settings: RuleSettings) -> None:
        """Take thresholds the bureau changed. A run under way is measured against the new dwell
        from its estimated start; an episode already open stays open."""
        self.settings = settings
        for alarm in _PEAK_KEY:
            self._machines[alarm].dwell = settings.dwell

    # input -------------------------------------------------------------------------------------

    def feed(self, fix: Fix, zones: FixZones | None = None) -> list[RuleEvent]:
        """One fix, with what the fences say about it (None: unknown, position rules wait).

        A fix older than one already fed cannot be placed here: it is recorded in
        ``replay_from`` and the caller re-evaluates the window with :func:`evaluate_window`.
        """
        if self.high_water is not None and fix.fix_time < self.high_water:
            self.owe_replay(fix.fix_time)
            return []
        self.high_water = fix.fix_time
        events: list[RuleEvent] = []
        received = fix.received_at or fix.fix_time
        if self._lost is not None:  # any data ends a loss of contact
            events.append(self._close_lost(fix.fix_time, received))
        if self.last_contact_at is None or received > self.last_contact_at:
            self.last_contact_at = received
        late = fix.backfill or received - fix.fix_time > self.settings.late_after
        if not self.context.positioning_order_in_force:
            return events + self._no_order(fix, late)
        if self._compliance is not None:
            events.append(self._close_compliance(fix.fix_time, fix.fix_time))
        self._device_alarms(fix, late, events)
        accuracy = fix.effective_accuracy_m
        usable = self._accept(fix, accuracy)
        if usable:
            track = self._track
            spikes = self._spikes(track)
            if spikes:
                for alarm in _PEAK_KEY:
                    self._machines[alarm].take_back(spikes)
                # nor are they a reference for the course
                self._track = tuple(a for a in track if a[_AT] not in spikes)
                self._course = tuple(a for a in self._course if a[_AT] not in spikes)
        self._position_rules(fix, zones, accuracy, usable, late, events)
        return events

    def _on_course_now(self) -> bool:
        """Whether the last accepted fix continues a course that the precise fixes before it held
        for two steps (one jump makes no course for the next fix to be on).  It may fall short of
        where the course leads: people arrive and stop.  Asked only of a violating fix."""
        course = self._course
        if len(course) < 4 or course[-1] is not self._anchor:
            return False  # (a cell fix: its course is the tower's)
        a, b, c, d = course
        return self._on_course(a, b, c) and self._on_course(b, c, d, stopping=True)

    def tick(self, now: datetime) -> list[RuleEvent]:
        """Time passing without data: lost contact opens, a quiet compliance alarm closes."""
        events: list[RuleEvent] = []
        ctx = self.context
        since = self.last_contact_at or ctx.monitoring_since
        if since is None:
            return events
        silent = now - since
        if self._compliance is not None and silent >= self.settings.compliance_quiet:
            events.append(self._close_compliance(None, since))
        if (
            self._lost is None
            and ctx.positioning_order_in_force
            and ctx.device_active
            and silent >= self.settings.lost_contact
            # a device that reported its own shutdown is not "lost": the power_off alarm says why
            and self._machines[AlarmType.power_off].episode is None
        ):
            details = {"silent_since": since.isoformat()}
            self._lost = Episode(AlarmType.lost_contact, since, since, now, False, details)
            events.append(self._event(EventKind.open, self._lost, None))
        return events

    # rules -------------------------------------------------------------------------------------

    def _no_order(self, fix: Fix, late: bool) -> list[RuleEvent]:
        """Art. 29: data without an order in force is a compliance problem, nothing else."""
        t = fix.fix_time
        events = []
        for m in self._machines.values():
            if m.episode is not None:
                events.append(m.close(self, t, ended_at=t, reason="positioning_order_ended"))
            m.since = m.clear_since = None
        ep = self._compliance
        if ep is None:
            details = {"reason": "no_positioning_order", "device": fix.device_ident}
            self._compliance = Episode(AlarmType.compliance, t, t, t, late, details)
            events.append(self._event(EventKind.open, self._compliance, t))
        else:
            ep.last_at = t
            if t - ep.emitted_at >= self.settings.update_every:
                ep.emitted_at = t
                events.append(self._event(EventKind.update, ep, t))
        return events

    def _device_alarms(self, fix: Fix, late: bool, events: list[RuleEvent]) -> None:
        """SOS, tamper, power off and low battery as the device reports them (no position needed)."""
        reported = fix.extras.get("alarm_types") or ()
        battery = fix.battery_pct
        settings = self.settings
        if not reported and (battery is None or battery >= settings.low_battery_pct):
            for machine in self._device_machines:
                if machine.episode is not None:
                    break
            else:
                return  # the usual fix: no alarm reported, none open
        for alarm in DEVICE_ALARMS:
            present = alarm in reported
            if alarm is AlarmType.low_battery and battery is not None:
                if battery < settings.low_battery_pct:
                    present = True
                elif not present and battery < settings.low_battery_clear_pct:
                    continue  # between the two thresholds: neither starts nor ends (hysteresis)
            machine = self._machines[alarm]
            if not present and machine.episode is None:
                continue
            verdict = _Verdict.violating if present else _Verdict.clear
            details = partial(dict, battery_pct=battery) if alarm is AlarmType.low_battery else dict
            event = machine.step(self, verdict, fix, late, math.nan, details)
            if event is not None:
                events.append(event)

    def _position_rules(
        self,
        fix: Fix,
        zones: FixZones | None,
        accuracy: float,
        usable: bool,
        late: bool,
        events: list[RuleEvent],
    ) -> None:
        if zones is None or not usable:
            left = excl = _NO_EVIDENCE
        else:
            left = self._left_verdict(fix, zones.permitted_margin_m, accuracy)
            excl = self._exclusion_verdict(zones.exclusion_depth_m, accuracy)
        night = self._night_verdict(fix, accuracy, usable)
        t = fix.fix_time
        for alarm, (verdict, measure, beyond) in (
            (AlarmType.left_permitted_area, left),
            (AlarmType.entered_exclusion_zone, excl),
            (AlarmType.night_absence, night),
        ):
            machine = self._machines[alarm]
            # the common case (nothing running, no violation) only notes where the fix was
            if machine.episode is not None or machine.since is not None or verdict is _Verdict.violating:
                event = machine.step(
                    self, verdict, fix, late, measure, partial(_zone_details, zones, alarm), beyond,
                    self._on_course_now if usable else None)
                if event is not None:
                    events.append(event)
                if alarm is AlarmType.night_absence and machine.first_bad == t and machine.since is not None:
                    self._date_night_run(machine, fix)
            if beyond == beyond:  # not NaN
                machine.note(verdict, fix, beyond, accuracy, self.settings.crossing_window)
            elif verdict is _Verdict.off:
                machine.prev_at = machine.lean = machine.vague_at = None
            elif verdict is _Verdict.clear:
                machine.lean = None  # (far from any zone: no distance kept)

    # Each verdict is three-way with the fix's accuracy radius as the margin on both sides: a
    # fix proves a violation only when beyond the line by more than its accuracy, and proves
    # being back in order only when that far on the right side.  In between it proves nothing.

    def _left_verdict(self, fix: Fix, margin_m: float, accuracy: float) -> tuple[_Verdict, float, float]:
        if math.isnan(margin_m):
            return _Verdict.off, math.nan, math.nan  # no permitted zone applies now
        if margin_m > accuracy:
            return _Verdict.clear, margin_m, -margin_m
        if self.context.leaves and margin_m < 0 and self.context.leave_covers(fix, accuracy):
            return _Verdict.off, margin_m, math.nan  # Art. 27: an approved leave covers time and place
        if -margin_m <= accuracy:
            return (_Verdict.leaning if margin_m < 0 else _Verdict.unsure), margin_m, -margin_m
        return _Verdict.violating, -margin_m, -margin_m

    @staticmethod
    def _exclusion_verdict(depth_m: float, accuracy: float) -> tuple[_Verdict, float, float]:
        if math.isnan(depth_m) or depth_m < -accuracy:  # NaN: no exclusion zone anywhere near
            return _Verdict.clear, depth_m, depth_m
        if depth_m > accuracy:
            return _Verdict.violating, depth_m, depth_m
        return (_Verdict.leaning if depth_m > 0 else _Verdict.unsure), depth_m, depth_m

    def _night_verdict(self, fix: Fix, accuracy: float, usable: bool) -> tuple[_Verdict, float, float]:
        home = self.context.home
        if home is None:
            return _Verdict.off, math.nan, math.nan
        minute = _local_minute(fix.fix_time)
        start, end = self.settings.night_minutes
        at_night = start <= minute or minute < end if start > end else start <= minute < end
        if not at_night:
            # The night is over (the episode ends), or yet to come: in its last minutes, where
            # the fix lies dates a run that starts with the night (see _position_rules).
            if usable and 0 < (start - minute) % 1440 <= self.settings.crossing_window_s / 60 + 1:
                return _Verdict.off, math.nan, geo.haversine_m(home[0], home[1], fix.lat, fix.lon) - self.settings.night_radius_m
            return _Verdict.off, math.nan, math.nan
        if not usable:
            return _Verdict.unsure, math.nan, math.nan
        away = geo.haversine_m(home[0], home[1], fix.lat, fix.lon)
        radius = self.settings.night_radius_m
        if away + accuracy <= radius:
            return _Verdict.clear, away, away - radius
        if away > radius and self.context.leaves and self.context.leave_covers(fix, accuracy):
            return _Verdict.off, away, math.nan  # Art. 27: away on an approved leave
        if away - accuracy <= radius:
            return (_Verdict.leaning if away > radius else _Verdict.unsure), away, away - radius
        return _Verdict.violating, away, away - radius

    def _date_night_run(self, machine: _Machine, fix: Fix) -> None:
        """A night-absence run starts no earlier than the night; and when the fix before it, in
        the last minutes of the day, was surely away, at the night's start: already absent."""
        began = self._night_began(fix)
        prev_at = machine.prev_at
        if (prev_at is not None and prev_at < began and machine.prev_beyond > machine.prev_accuracy
                and fix.fix_time - prev_at <= self.settings.crossing_window):
            machine.since = began
        else:
            machine.since = max(machine.since or began, began)

    def _night_began(self, fix: Fix) -> datetime:
        """When the night that ``fix`` falls in began (aware, UTC)."""
        local = fix.fix_time.astimezone(clock.SHANGHAI)
        start = self.settings.night_start
        began = local.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
        if began > local:
            began -= timedelta(days=1)
        return began.astimezone(fix.fix_time.tzinfo)

    # noise ---------------------------------------------------------------------------------------

    def _accept(self, fix: Fix, accuracy: float) -> bool:
        """Whether a fix may trigger: accurate enough, and not an impossible jump.

        Two consecutive fixes that agree with each other but not with the anchor move the
        anchor: otherwise one bad accepted fix would make every good one look impossible.
        """
        if accuracy > self.settings.max_accuracy_m:
            return False
        here = (fix.lat, fix.lon, fix.fix_time, accuracy)
        anchor = self._anchor
        if anchor is None or self._plausible(anchor, here):
            self._anchor, self._pending = here, None
            self._track = self._track[-3:] + (here,)
            if accuracy <= _PRECISE_M:
                self._course = self._course[-3:] + (here,)
            return True
        if self._pending is not None and self._plausible(self._pending, here):
            # The anchor was the odd one out: whatever dwell it started is not evidence, nor is
            # where it placed the subject.
            for alarm in _PEAK_KEY:
                machine = self._machines[alarm]
                machine.since = machine.prev_at = machine.lean = None
            self._anchor, self._pending = here, None
            self._track = (here,)
            self._course = (here,) if accuracy <= _PRECISE_M else ()
            return True
        self._pending = here
        return False

    def _spikes(self, track: tuple[_Anchor, ...]) -> tuple[datetime, ...]:
        """The times of the fixes just before the last that were multipath spikes, if any.

        One fix far off both neighbours, which agree with each other (or, moving, the one after
        lies on the course of those before); or two in a row, far off those around them and off
        each other (two jumps rarely land together; a real stop of a minute or two somewhere else
        shows twice in the same place, and stays evidence).  Only ever takes back what they did
        to a run (see ``_Machine.take_back``).
        """
        if len(track) < 3:
            return ()
        spike = self.settings.spike_m
        c, b = track[-1], track[-2]
        back = _gap_m(b, c)
        if back < spike:
            return ()  # the usual fix: close to the one before
        a = track[-3]
        out = _gap_m(a, b)
        if out >= spike and max(_gap_m(a, c), 0.0) * 2 <= min(out, back):
            return (b[_AT],)
        if out >= spike and len(track) >= 4:
            # moving: c is where the course before b leads, and b is off it
            a0 = track[-4]
            if self._on_course(a0, a, c) and not self._on_course(a0, a, b):
                return (b[_AT],)
        if len(track) >= 4:
            a, b1 = track[-4], a
            out = _gap_m(a, b1)
            if (out >= spike and max(_gap_m(a, c), 0.0) * 2 <= min(out, back)
                    and min(_gap_m(a, b), _gap_m(b1, c), _gap_m(b1, b)) >= spike
                    and not self._on_course(a, b1, b)):  # a drive out and back is no pair of jumps
                return (b1[_AT], b[_AT])
        return ()

    @staticmethod
    def _on_course(a: _Anchor, b: _Anchor, c: _Anchor, stopping: bool = False) -> bool:
        """Whether c lies where a → b, moving, puts the subject next (within a turn's slack);
        ``stopping``: or anywhere on the way there (the subject slowed down or stopped).

        A multipath jump (hundreds of metres to kilometres in any direction) almost never lands
        there; a subject driving or walking into a zone does.
        """
        a_lat, a_lon, a_at, a_accuracy = a
        b_lat, b_lon, b_at, b_accuracy = b
        c_lat, c_lon, c_at, c_accuracy = c
        step_s, next_s = (b_at - a_at).total_seconds(), (c_at - b_at).total_seconds()
        if step_s <= 0 or next_s <= 0 or next_s > 2 * step_s:
            return False
        k_lat, k_lon = _METRES_PER_DEGREE_LAT, _METRES_PER_DEGREE_LAT * math.cos(math.radians(b_lat))
        vx, vy = (b_lon - a_lon) * k_lon / step_s, (b_lat - a_lat) * k_lat / step_s
        stride = math.hypot(vx, vy) * next_s
        if stride < _MOVING_M + 2 * (a_accuracy + b_accuracy):
            # standing still, or a course the fixes' accuracy cannot tell: a jump close by
            # would look on course
            return False
        # c from where the course leads, in metres
        dx, dy = (c_lon - b_lon) * k_lon - vx * next_s, (c_lat - b_lat) * k_lat - vy * next_s
        if stopping:
            # from the nearest point on the way there instead
            back = min(max(-(dx * vx + dy * vy) / (vx * vx + vy * vy), 0.0), next_s)  # seconds short
            dx, dy = dx + vx * back, dy + vy * back
        return math.hypot(dx, dy) <= a_accuracy + b_accuracy + c_accuracy + _COURSE_SLACK_M + 0.25 * stride

    def _plausible(self, a: _Anchor, b: _Anchor) -> bool:
        # The jump must be impossible even after granting both fixes their accuracy radii.
        slack = _gap_m(a, b)
        if slack <= 0.0:
            return True
        seconds = (b[_AT] - a[_AT]).total_seconds()
        return seconds > 0 and slack / seconds * 3.6 <= self.settings.max_speed_kmh

    # events ------------------------------------------------------------------------------------

    def _event(
        self, kind: EventKind, ep: Episode, fix_time: datetime | None, ended_at: datetime | None = None
    ) -> RuleEvent:
        details = dict(ep.details)
        peak_key = _PEAK_KEY.get(ep.alarm_type)
        if peak_key is not None:
            # None: farther from a district boundary than the fences measure (exact_within_m)
            details[peak_key] = None if math.isinf(ep.peak_m) else round(ep.peak_m, 1)
        return RuleEvent(
            kind,
            ep.alarm_type,
            self.subject_id,
            ep.started_at,
            ep.last_at,
            ep.confirmed_at,
            fix_time,
            details,
            ep.retrospective,
            ended_at,
        )

    def _close_lost(self, fix_time: datetime, received: datetime) -> RuleEvent:
        ep = self._lost
        assert ep is not None
        self._lost = None
        return self._event(EventKind.close, ep, fix_time, ended_at=received)

    def _close_compliance(self, fix_time: datetime | None, ended_at: datetime) -> RuleEvent:
        ep = self._compliance
        assert ep is not None
        self._compliance = None
        return self._event(EventKind.close, ep, fix_time, ended_at=ended_at)


# --- windows of late data -----------------------------------------------------------------------


# What a frozen state holds: every field but the context and settings, which are shared.
_FROZEN = tuple(name for name in SubjectRuleState.__slots__ if name not in ("context", "settings"))


class WindowResult(NamedTuple):
    events: list[RuleEvent]  # one per episode touched by the window
    state: SubjectRuleState  # the state after the window, to continue feeding


def evaluate_window(
    context: SubjectContext,
    fixes_sorted: Sequence[Fix],
    prior_state: SubjectRuleState,
    zones: Sequence[FixZones | None] | None = None,
) -> WindowResult:
    """Replay a subject's window of fixes (fix-time order) from the state before the window.

    Used for a late batch (backfill after a dead zone: ``prior_state`` is the live state) and
    after ``feed`` reported an out-of-order fix (``prior_state`` is a state from before
    ``replay_from``: a kept copy, or one rebuilt by replaying stored fixes from a checkpoint;
    the window then holds every stored fix from there on).  ``prior_state`` is not changed.
    ``zones[i]`` classifies ``fixes_sorted[i]`` (one :meth:`ZoneIndex.classify` call for the
    batch).  Silence is not judged here: lost contact is about when data reaches us, which
    only :meth:`SubjectRuleState.tick` knows.
    """
    if zones is not None and len(zones) != len(fixes_sorted):
        raise ValueError("zones must classify every fix of the window")
    state = prior_state.copy()
    state.context = context
    state.replay_from = None
    events: list[RuleEvent] = []
    for i, fix in enumerate(fixes_sorted):
        if state.high_water is not None and fix.fix_time < state.high_water:
            raise ValueError("evaluate_window needs fixes in fix-time order, after prior_state")
        events.extend(state.feed(fix, None if zones is None else zones[i]))
    return WindowResult(coalesce(events), state)


def coalesce(events: Sequence[RuleEvent]) -> list[RuleEvent]:
    """One event per episode: the latest, as close if it closed, else open if it opened here."""
    groups: dict[tuple[int, AlarmType, datetime], list[RuleEvent]] = {}
    for event in events:
        groups.setdefault(event.key, []).append(event)
    out = []
    for group in groups.values():
        last = group[-1]
        kinds = {e.kind for e in group}
        if EventKind.close in kinds:
            kind = EventKind.close
        else:
            kind = EventKind.open if EventKind.open in kinds else EventKind.update
        out.append(
            RuleEvent(
                kind,
                last.alarm_type,
                last.subject_id,
                last.started_at,
                last.last_at,
                last.confirmed_at,
                last.fix_time,
                last.details,
                any(e.retrospective for e in group),
                last.ended_at if kind is EventKind.close else None,
            )
        )
    return out
