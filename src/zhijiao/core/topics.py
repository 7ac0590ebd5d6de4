"""The topics of the event stream and the one payload shape of each.

Every publisher and subscriber names its topic from here, so a topic is spelled once and any
package can publish without importing the package that listens (the import graph runs one way).
Payloads stay plain dicts on the wire (the in-process bus and NATS carry JSON); the TypedDicts
below are their types, free at run time, which matters on the positions topic (every fix).
"""

from __future__ import annotations

import enum
from typing import TypedDict

POSITIONS = "positions"
ALARMS = "alarms"
ROLLCALLS = "rollcalls"
# What the ingestion directory and the rules' context are built from changed: devices, bindings,
# positioning orders, zones, a subject's home, approved leave.
DIRECTORY = "devices.changed"
CAMERAS = "cameras.changed"


class PositionRow(TypedDict):
    subject_id: int
    device_id: int | None
    t: float  # fix time, epoch seconds: a sixth of an ISO string's cost, for every fix
    lat: float
    lon: float
    acc: float | None
    flags: int
    battery: int | None


class PositionsEvent(TypedDict):
    fixes: list[PositionRow]


class AlarmChange(enum.StrEnum):
    """What happened to an alarm, as the screens hear it: one spelling each (it was "update" from
    the rules and "updated" from the alarm service; "close" meant both the episode's end and the
    operator closing the alarm)."""

    opened = "opened"  # a new alarm, or a new episode on one still open: alert the operators again
    updated = "updated"  # the same episode goes on (later fixes, a replay repeating its opening)
    ended = "ended"  # the episode ended (the subject came back); the alarm still waits for handling
    escalated = "escalated"  # nobody acknowledged it in time
    # the operators' steps, spelled as monitoring.lifecycle.Action
    acknowledge = "acknowledge"
    dispatch = "dispatch"
    verify = "verify"
    close = "close"
    note = "note"


class AlarmEvent(TypedDict):
    change: str  # an AlarmChange
    id: int
    subject_id: int
    type: str
    label: str
    severity: int
    status: str
    retrospective: bool
    opened_at: str
    last_at: str
    lat: float | None
    lon: float | None


class RollCallEvent(TypedDict):
    change: str  # "called", "no_answer" or the roll call's new status
    id: int
    subject_id: int
    status: str
    deadline: str
    called_by: str | None


class DirectoryEvent(TypedDict, total=False):
    device_id: int
    subject_id: int
    zone_id: int
    leave_id: int


class CameraEvent(TypedDict):
    camera_id: int
