"""The alarm handling lifecycle (核查处置) as a pure state machine.

open → acknowledged → verified (confirmed | false_alarm, with a note) → closed.
Dispatching to the responsible officer and escalation to the bureau do not change the state.
"""

from __future__ import annotations

import enum

from zhijiao.core.errors import Conflict, InvalidInput


class AlarmStatus(enum.StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    verified = "verified"
    closed = "closed"


class Verdict(enum.StrEnum):
    confirmed = "confirmed"
    false_alarm = "false_alarm"


class Action(enum.StrEnum):
    acknowledge = "acknowledge"
    verify = "verify"
    close = "close"
    dispatch = "dispatch"
    note = "note"


STATUS_LABELS = {
    AlarmStatus.open: "待处置", AlarmStatus.acknowledged: "已接警", AlarmStatus.verified: "已核查",
    AlarmStatus.closed: "已关闭",
}
VERDICT_LABELS = {Verdict.confirmed: "属实", Verdict.false_alarm: "误报"}
ACTION_LABELS = {
    Action.acknowledge: "接警", Action.verify: "核查", Action.close: "关闭", Action.dispatch: "派发",
    Action.note: "备注",
}

_NEXT = {
    Action.acknowledge: ({AlarmStatus.open}, AlarmStatus.acknowledged),
    Action.verify: ({AlarmStatus.acknowledged}, AlarmStatus.verified),
    Action.close: ({AlarmStatus.verified}, AlarmStatus.closed),
}


def apply(status: str, action: str, *, verdict: str | None = None, note: str | None = None) -> str:
    """The status after ``action``, or Conflict (wrong order) / InvalidInput (missing verdict or note)."""
    current, act = AlarmStatus(status), Action(action)
    if current is AlarmStatus.closed:
        raise Conflict("告警已关闭，不能再处置", code="alarm_closed")
    if act in (Action.dispatch, Action.note):
        if act is Action.note and not (note and note.strip()):
            raise InvalidInput("请填写备注", code="note_required", fields={"note": "必填"})
        return current.value
    allowed, target = _NEXT[act]
    if current not in allowed:
        raise Conflict(f"告警当前为“{STATUS_LABELS[current]}”，不能执行“{ACTION_LABELS[act]}”", code="alarm_state")
    if act is Action.verify:
        if verdict not in {v.value for v in Verdict}:
            raise InvalidInput("核查须选择结论：属实或误报", code="verdict_required", fields={"verdict": "必填"})
        if not (note and note.strip()):
            raise InvalidInput("核查须填写核查情况说明", code="note_required", fields={"note": "必填"})
    return target.value
