"""Dwell before opening, hysteresis before closing: the evidence machine of every fix-driven rule.

One :class:`DwellMachine` per subject and alarm type, driven by
:class:`~zhijiao.monitoring.rules.SubjectRuleState`; pure, no I/O.  Also the planar distance
helpers the state and the machine share.
"""

from __future__ import annotations

import copy
import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from zhijiao.core.fix import Fix, FixSource
from zhijiao.monitoring.rule_types import AlarmType, Episode, EventKind, RuleEvent
from zhijiao.monitoring.zone_index import FixZones

if TYPE_CHECKING:  # the state drives the machine; the machine only calls back into it
    from zhijiao.monitoring.rules import SubjectRuleState


class Verdict(enum.IntEnum):
    violating = 1
    clear = 2
    unsure = 3  # noise, or within the accuracy radius of the line: changes nothing
    leaning = 5  # unsure, with the position itself on the wrong side (dates a run's start)
    off = 4  # the rule does not apply now (no zone, day time, covered by leave): closes


PEAK_KEY = {
    AlarmType.left_permitted_area: "max_outside_m",
    AlarmType.entered_exclusion_zone: "max_depth_m",
    AlarmType.night_absence: "max_from_home_m",
}


@dataclass(slots=True)
class DwellMachine:
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
    ended: EndedRun | None = None  # the run the last clear fix ended, in case it was a spike

    def copy(self) -> DwellMachine:
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
        verdict: Verdict,
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
        if verdict is Verdict.violating:
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
                agrees = t - lean_at <= state.settings.crossing_window and metres(lat, lon, fix.lat, fix.lon) <= radius
            if self.bad_fixes == 1 and not agrees:
                lat, lon, before, _ = self.last_bad_at
                agrees = metres(lat, lon, fix.lat, fix.lon) - before - accuracy <= COURSE_SLACK_M
            # taken now (a few fixes before an episode opens): holding the callable would keep
            # the whole batch's zone classification alive in every machine that ever saw a run
            self.last_bad, self.last_beyond, self.last_details = t, beyond, details()
            self.last_bad_at = (fix.lat, fix.lon, accuracy, fix.source is FixSource.gnss)
            self.bad_fixes += 1
            self.corroborated = self.corroborated or agrees
            self.peak_m = max(self.peak_m, measure)
            # (a device's own alarm has no dwell: the device has decided, nothing to prove)
            return self._open_if_due(state, t, late, details) if self.proven or not self.dwell else None
        if verdict is Verdict.unsure or verdict is Verdict.leaning:
            # Not evidence either way, even leaning: a cell fix a few metres past the line is a
            # coin toss, and with one multipath jump it would make a false alarm.
            if ep is None and self.since is not None:
                lat, lon, _, gnss = self.last_bad_at
                if verdict is Verdict.leaning and gnss and fix.source is not FixSource.gnss and not self.proven:
                    # another way of measuring (two cell fixes share the tower's error)
                    self.corroborated = metres(lat, lon, fix.lat, fix.lon) <= fix.effective_accuracy_m
                if self.proven:
                    return self._open_if_due(state, t, late, details)
            return None
        if verdict is Verdict.clear:
            if self.since is not None and ep is None:
                back = self._crossing_back(state, t, beyond, fix.effective_accuracy_m)
                if back is not None and back - self.since >= self.dwell:
                    # the zones are those the subject was in, not those of the fix back
                    event = self._open_if_due(state, t, late, partial(dict, self.last_details))
                    self.clear_since = back
                    return event
                self.ended = EndedRun(t, self.since, self.first_bad, self.last_bad, self.last_beyond,
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

    def note(self, verdict: Verdict, fix: Fix, beyond: float, accuracy: float, window: timedelta) -> None:
        """Keep the fix as ``prev``, the reference for the next crossing, if it is a better one.

        A fix within its accuracy of the line (unsure, leaning) places the crossing no better
        than "around here": a cell fix after a GNSS one, hundreds of metres.  It replaces only
        a reference that is no more accurate, or too old to be used.  A fix that proves a side
        always does.  A cell or Wi-Fi fix leaning past the line is kept as ``lean`` until a
        clear fix.
        """
        t = fix.fix_time
        if verdict is Verdict.leaning and fix.source is not FixSource.gnss:
            self.lean = (t, fix.lat, fix.lon, accuracy)
        elif verdict is Verdict.clear:
            self.lean = None
        prev_at = self.prev_at
        if (verdict is Verdict.unsure or verdict is Verdict.leaning) and prev_at is not None:
            if accuracy > self.prev_accuracy and t - prev_at <= window:
                self.vague_at = t
                return
        self.vague_at = None
        self.prev2_at, self.prev2_beyond, self.prev2_accuracy = prev_at, self.prev_beyond, self.prev_accuracy
        self.prev_at, self.prev_beyond, self.prev_accuracy = t, beyond, accuracy

    def _crossing(self, state: SubjectRuleState, t: datetime, beyond: float, accuracy: float) -> datetime:
        """Where a new run starts: the crossing, estimated from the fix before when it is recent.

        As early as the two fixes allow: the one before may have been two accuracy radii nearer
        the line (``DATING_RADII``), the violating one its accuracy deeper.  The run still has
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
        near = prev_beyond + DATING_RADII * self.prev_accuracy
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


class EndedRun(NamedTuple):
    at: datetime  # the clear fix that ended it
    since: datetime | None
    first_bad: datetime | None
    last_bad: datetime | None
    last_beyond: float
    bad_fixes: int
    corroborated: bool
    peak_m: float


NO_EVIDENCE = (Verdict.unsure, math.nan, math.nan)
ZONE_IDS = {
    AlarmType.left_permitted_area: "permitted_outside",
    AlarmType.entered_exclusion_zone: "exclusion_inside",
}


def zone_details(zones: FixZones | None, alarm: AlarmType) -> dict[str, Any]:
    """The zones involved, for an opening episode (looked up only then)."""
    attribute = ZONE_IDS.get(alarm)
    if zones is None or attribute is None:
        return {}
    return {"zones": list(getattr(zones, attribute))}


# An accepted fix as the plausibility and course checks need it: (lat, lon, at, accuracy_m). A
# plain tuple: CPython stops tracking an exact tuple of plain values at its first collection, a
# NamedTuple never, and a province's rule state holds tens of millions (bench/rules_memory.py).
Anchor = tuple[float, float, datetime, float]
AT = 2


METRES_PER_DEGREE_LAT = 111_000.0  # planar distances within a reporting interval need no better
MOVING_M = 60.0  # a step beyond both accuracies of at least this is moving
COURSE_SLACK_M = 100.0  # stopping, turning, changing speed within one interval
PRECISE_M = 100.0  # fixes this accurate show a course (a cell fix's is the tower's)
# A reported accuracy is about one standard deviation (Android's is a 68 % radius): one fix in
# a dozen lies more than that on the far side of the line.  Evidence keeps the one radius (a
# side is proven past it); dating a run's start, which proves nothing, allows two, so that a
# fix taken just after the crossing but read a radius and a bit short of it does not push the
# dwell's end past the next fix (seen: an alarm a whole reporting interval late).
DATING_RADII = 2.0


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Planar distance: within 0.1 % of the great circle over the tens of kilometres a reporting
    interval can span (what the speed, spike and evidence checks look at), at a fraction of
    haversine's cost on every fix."""
    dx = (lon2 - lon1) * METRES_PER_DEGREE_LAT * math.cos(math.radians(lat1))
    return math.hypot(dx, (lat2 - lat1) * METRES_PER_DEGREE_LAT)


def gap_m(a: Anchor, b: Anchor) -> float:
    """Distance beyond both accuracy radii (negative: the two may be the same place)."""
    a_lat, a_lon, _, a_accuracy = a
    b_lat, b_lon, _, b_accuracy = b
    return metres(a_lat, a_lon, b_lat, b_lon) - a_accuracy - b_accuracy
