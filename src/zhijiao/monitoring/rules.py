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
either side of the line, as early as their accuracy allows (see
:class:`~zhijiao.monitoring.rule_machine.DwellMachine`).
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
import math
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import NamedTuple

from zhijiao.core import clock, geo
from zhijiao.core.fix import Fix
from zhijiao.monitoring.rule_machine import (
    AT,
    COURSE_SLACK_M,
    METRES_PER_DEGREE_LAT,
    MOVING_M,
    NO_EVIDENCE,
    PEAK_KEY,
    PRECISE_M,
    Anchor,
    DwellMachine,
    Verdict,
    gap_m,
    zone_details,
)
from zhijiao.monitoring.rule_types import (
    DEFAULT_SETTINGS,
    DEVICE_ALARMS,
    AlarmType,
    Episode,
    EventKind,
    RuleEvent,
    RuleSettings,
    SubjectContext,
)
from zhijiao.monitoring.zone_index import FixZones

_SHANGHAI_OFFSET_MIN = clock.SHANGHAI_OFFSET_S // 60


def _local_minute(t: datetime) -> int:
    """Asia/Shanghai minute of the day. Fix times are aware UTC (Fix contract), so this is
    arithmetic with the fixed offset (``clock.SHANGHAI_OFFSET_S``): a fifth of a time-zone
    conversion's cost on every fix."""
    if t.tzinfo is UTC:
        return (t.hour * 60 + t.minute + _SHANGHAI_OFFSET_MIN) % (24 * 60)
    local = t.astimezone(clock.SHANGHAI)
    return local.hour * 60 + local.minute



# --- the state machine --------------------------------------------------------------------------


@dataclass(slots=True)
class SubjectRuleState:
    """All rule state of one subject.  Feed it fixes in fix-time order; call tick() regularly."""

    context: SubjectContext
    settings: RuleSettings = DEFAULT_SETTINGS
    high_water: datetime | None = None  # latest fix time fed
    last_contact_at: datetime | None = None  # latest time data reached us
    replay_from: datetime | None = None  # set when an out-of-order fix needs evaluate_window
    _anchor: Anchor | None = field(default=None, init=False, repr=False)  # last accepted fix
    _track: tuple[Anchor, ...] = field(default=(), init=False, repr=False)  # the last accepted fixes
    _course: tuple[Anchor, ...] = field(default=(), init=False, repr=False)  # the last precise ones (PRECISE_M)
    _pending: Anchor | None = field(default=None, init=False, repr=False)  # last rejected jump
    _machines: dict[AlarmType, DwellMachine] = field(init=False, repr=False)
    _device_machines: tuple[DwellMachine, ...] = field(init=False, repr=False)
    _lost: Episode | None = field(default=None, init=False, repr=False)
    _compliance: Episode | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._machines = {alarm: DwellMachine(alarm, self.settings.dwell) for alarm in PEAK_KEY}
        # device alarms open at once: the device has already decided
        self._machines.update({alarm: DwellMachine(alarm, timedelta(0)) for alarm in DEVICE_ALARMS})
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
        for alarm in PEAK_KEY:
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
                for alarm in PEAK_KEY:
                    self._machines[alarm].take_back(spikes)
                # nor are they a reference for the course
                self._track = tuple(a for a in track if a[AT] not in spikes)
                self._course = tuple(a for a in self._course if a[AT] not in spikes)
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
            verdict = Verdict.violating if present else Verdict.clear
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
            left = excl = NO_EVIDENCE
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
            if machine.episode is not None or machine.since is not None or verdict is Verdict.violating:
                event = machine.step(
                    self, verdict, fix, late, measure, partial(zone_details, zones, alarm), beyond,
                    self._on_course_now if usable else None)
                if event is not None:
                    events.append(event)
                if alarm is AlarmType.night_absence and machine.first_bad == t and machine.since is not None:
                    self._date_night_run(machine, fix)
            if beyond == beyond:  # not NaN
                machine.note(verdict, fix, beyond, accuracy, self.settings.crossing_window)
            elif verdict is Verdict.off:
                machine.prev_at = machine.lean = machine.vague_at = None
            elif verdict is Verdict.clear:
                machine.lean = None  # (far from any zone: no distance kept)

    # Each verdict is three-way with the fix's accuracy radius as the margin on both sides: a
    # fix proves a violation only when beyond the line by more than its accuracy, and proves
    # being back in order only when that far on the right side.  In between it proves nothing.

    def _left_verdict(self, fix: Fix, margin_m: float, accuracy: float) -> tuple[Verdict, float, float]:
        if math.isnan(margin_m):
            return Verdict.off, math.nan, math.nan  # no permitted zone applies now
        if margin_m > accuracy:
            return Verdict.clear, margin_m, -margin_m
        if self.context.leaves and margin_m < 0 and self.context.leave_covers(fix, accuracy):
            return Verdict.off, margin_m, math.nan  # Art. 27: an approved leave covers time and place
        if -margin_m <= accuracy:
            return (Verdict.leaning if margin_m < 0 else Verdict.unsure), margin_m, -margin_m
        return Verdict.violating, -margin_m, -margin_m

    @staticmethod
    def _exclusion_verdict(depth_m: float, accuracy: float) -> tuple[Verdict, float, float]:
        if math.isnan(depth_m) or depth_m < -accuracy:  # NaN: no exclusion zone anywhere near
            return Verdict.clear, depth_m, depth_m
        if depth_m > accuracy:
            return Verdict.violating, depth_m, depth_m
        return (Verdict.leaning if depth_m > 0 else Verdict.unsure), depth_m, depth_m

    def _night_verdict(self, fix: Fix, accuracy: float, usable: bool) -> tuple[Verdict, float, float]:
        home = self.context.home
        if home is None:
            return Verdict.off, math.nan, math.nan
        minute = _local_minute(fix.fix_time)
        start, end = self.settings.night_minutes
        at_night = start <= minute or minute < end if start > end else start <= minute < end
        if not at_night:
            # The night is over (the episode ends), or yet to come: in its last minutes, where
            # the fix lies dates a run that starts with the night (see _position_rules).
            if usable and 0 < (start - minute) % 1440 <= self.settings.crossing_window_s / 60 + 1:
                return Verdict.off, math.nan, geo.haversine_m(home[0], home[1], fix.lat, fix.lon) - self.settings.night_radius_m
            return Verdict.off, math.nan, math.nan
        if not usable:
            return Verdict.unsure, math.nan, math.nan
        away = geo.haversine_m(home[0], home[1], fix.lat, fix.lon)
        radius = self.settings.night_radius_m
        if away + accuracy <= radius:
            return Verdict.clear, away, away - radius
        if away > radius and self.context.leaves and self.context.leave_covers(fix, accuracy):
            return Verdict.off, away, math.nan  # Art. 27: away on an approved leave
        if away - accuracy <= radius:
            return (Verdict.leaning if away > radius else Verdict.unsure), away, away - radius
        return Verdict.violating, away, away - radius

    def _date_night_run(self, machine: DwellMachine, fix: Fix) -> None:
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
            if accuracy <= PRECISE_M:
                self._course = self._course[-3:] + (here,)
            return True
        if self._pending is not None and self._plausible(self._pending, here):
            # The anchor was the odd one out: whatever dwell it started is not evidence, nor is
            # where it placed the subject.
            for alarm in PEAK_KEY:
                machine = self._machines[alarm]
                machine.since = machine.prev_at = machine.lean = None
            self._anchor, self._pending = here, None
            self._track = (here,)
            self._course = (here,) if accuracy <= PRECISE_M else ()
            return True
        self._pending = here
        return False

    def _spikes(self, track: tuple[Anchor, ...]) -> tuple[datetime, ...]:
        """The times of the fixes just before the last that were multipath spikes, if any.

        One fix far off both neighbours, which agree with each other (or, moving, the one after
        lies on the course of those before); or two in a row, far off those around them and off
        each other (two jumps rarely land together; a real stop of a minute or two somewhere else
        shows twice in the same place, and stays evidence).  Only ever takes back what they did
        to a run (see ``DwellMachine.take_back``).
        """
        if len(track) < 3:
            return ()
        spike = self.settings.spike_m
        c, b = track[-1], track[-2]
        back = gap_m(b, c)
        if back < spike:
            return ()  # the usual fix: close to the one before
        a = track[-3]
        out = gap_m(a, b)
        if out >= spike and max(gap_m(a, c), 0.0) * 2 <= min(out, back):
            return (b[AT],)
        if out >= spike and len(track) >= 4:
            # moving: c is where the course before b leads, and b is off it
            a0 = track[-4]
            if self._on_course(a0, a, c) and not self._on_course(a0, a, b):
                return (b[AT],)
        if len(track) >= 4:
            a, b1 = track[-4], a
            out = gap_m(a, b1)
            if (out >= spike and max(gap_m(a, c), 0.0) * 2 <= min(out, back)
                    and min(gap_m(a, b), gap_m(b1, c), gap_m(b1, b)) >= spike
                    and not self._on_course(a, b1, b)):  # a drive out and back is no pair of jumps
                return (b1[AT], b[AT])
        return ()

    @staticmethod
    def _on_course(a: Anchor, b: Anchor, c: Anchor, stopping: bool = False) -> bool:
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
        k_lat, k_lon = METRES_PER_DEGREE_LAT, METRES_PER_DEGREE_LAT * math.cos(math.radians(b_lat))
        vx, vy = (b_lon - a_lon) * k_lon / step_s, (b_lat - a_lat) * k_lat / step_s
        stride = math.hypot(vx, vy) * next_s
        if stride < MOVING_M + 2 * (a_accuracy + b_accuracy):
            # standing still, or a course the fixes' accuracy cannot tell: a jump close by
            # would look on course
            return False
        # c from where the course leads, in metres
        dx, dy = (c_lon - b_lon) * k_lon - vx * next_s, (c_lat - b_lat) * k_lat - vy * next_s
        if stopping:
            # from the nearest point on the way there instead
            back = min(max(-(dx * vx + dy * vy) / (vx * vx + vy * vy), 0.0), next_s)  # seconds short
            dx, dy = dx + vx * back, dy + vy * back
        return math.hypot(dx, dy) <= a_accuracy + b_accuracy + c_accuracy + COURSE_SLACK_M + 0.25 * stride

    def _plausible(self, a: Anchor, b: Anchor) -> bool:
        # The jump must be impossible even after granting both fixes their accuracy radii.
        slack = gap_m(a, b)
        if slack <= 0.0:
            return True
        seconds = (b[AT] - a[AT]).total_seconds()
        return seconds > 0 and slack / seconds * 3.6 <= self.settings.max_speed_kmh

    # events ------------------------------------------------------------------------------------

    def _event(
        self, kind: EventKind, ep: Episode, fix_time: datetime | None, ended_at: datetime | None = None
    ) -> RuleEvent:
        details = dict(ep.details)
        peak_key = PEAK_KEY.get(ep.alarm_type)
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
