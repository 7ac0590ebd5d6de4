"""The rules' vocabulary: alarm types, thresholds, a subject's context, events and episodes.

Plain values shared by the state machines (:mod:`zhijiao.monitoring.rules`), the alarm service
that turns their events into alarms (:mod:`zhijiao.monitoring.alarms`) and the rule context read
from the database (:mod:`zhijiao.monitoring.context`).
"""

from __future__ import annotations

import copy
import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import cached_property
from typing import Any

import shapely
from pydantic import BaseModel, ConfigDict, Field

from zhijiao.core import geo
from zhijiao.core.fix import Fix


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
