"""The subject's lifecycle and the dates the law derives from it. Pure code: no database.

Lifecycle (社区矫正法 第二十一条、第二十二条、第四十四条、第四十五条)::

    pending_reception ──报到/移送──▶ reported ──接收、入矫宣告──▶ under_correction ──期满/赦免──▶ released
            │                          │                               │
            └──────────────────────────┴───────────────────────────────┴──撤销/收监/死亡──▶ terminated

Termination may happen before reception: a probationer who never reports for more than a month
may have probation revoked, and any subject may die. Termination records a decision of a court,
of the deciding organ, or a death; the system cannot refuse the fact, it only checks that the
reason fits the correction type. Release needs a completed correction (解除社区矫正证明书).
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, InvalidInput


class SubjectState(enum.StrEnum):
    pending_reception = "pending_reception"
    reported = "reported"
    under_correction = "under_correction"
    released = "released"
    terminated = "terminated"


class CorrectionType(enum.StrEnum):
    control = "control"  # 管制
    probation = "probation"  # 缓刑
    parole = "parole"  # 假释
    medical_parole = "medical_parole"  # 暂予监外执行 (incl. 保外就医)


class TerminationReason(enum.StrEnum):
    revoked_probation = "revoked_probation"
    revoked_parole = "revoked_parole"
    recommitted = "recommitted"
    died = "died"


class ReleaseReason(enum.StrEnum):
    term_completed = "term_completed"
    pardoned = "pardoned"


# 分类管理: the level is a fact of the file; what each level demands is supervision's rule
# (zhijiao.supervision.levels.rules). No docstring: it would show in the OpenAPI schema.
class SupervisionLevel(enum.StrEnum):
    strict = "strict"  # 严管
    ordinary = "ordinary"  # 普管
    lenient = "lenient"  # 宽管


def age_on(birth_date: date, on: date) -> int:
    """Age in full years (周岁), reached the day *after* the birthday (as supervision.minors.rules)."""
    years = on.year - birth_date.year - ((on.month, on.day) <= (birth_date.month, birth_date.day))
    return max(years, 0)


def minor_at_decision(birth_date: date, decision_date: date) -> bool:
    """A minor's case: not yet 18 on the day the decision took effect (判决、裁定、决定生效之日).

    Derived, never a free flag (issue 20 item 9): the minors' rules (第五十二条至第五十八条) keep
    applying after the 18th birthday (第五十八条), so the date is fixed by the decision. Only the
    bureau's leader may override it, with a reason, on the record (``subjects.service.override_minor``).
    """
    return age_on(birth_date, decision_date) < 18


def lifecycle_rank(state: str) -> int:
    """A state's place in the lifecycle (待接收 < 已报到 < 在矫 < 解除/终止): the order of two steps
    recorded at the same moment."""
    order = list(SubjectState)
    return order.index(SubjectState(state)) if state in SubjectState.__members__ else len(order)


def transition_order(at, from_status: str, to_status: str, ident: int = 0) -> tuple:
    """Sort key of lifecycle steps: by time, then by lifecycle order."""
    return (at, lifecycle_rank(from_status), lifecycle_rank(to_status), ident)


# --- Chinese labels for screens ----------------------------------------------------------------

STATE_LABELS: dict[SubjectState, str] = {
    SubjectState.pending_reception: "待接收",
    SubjectState.reported: "已报到",
    SubjectState.under_correction: "在矫",
    SubjectState.released: "解除矫正",
    SubjectState.terminated: "终止矫正",
}
CORRECTION_TYPE_LABELS: dict[CorrectionType, str] = {
    CorrectionType.control: "管制",
    CorrectionType.probation: "缓刑",
    CorrectionType.parole: "假释",
    CorrectionType.medical_parole: "暂予监外执行",
}
TERMINATION_REASON_LABELS: dict[TerminationReason, str] = {
    TerminationReason.revoked_probation: "撤销缓刑",
    TerminationReason.revoked_parole: "撤销假释",
    TerminationReason.recommitted: "收监执行",
    TerminationReason.died: "死亡",
}
RELEASE_REASON_LABELS: dict[ReleaseReason, str] = {
    ReleaseReason.term_completed: "矫正期满",
    ReleaseReason.pardoned: "被赦免",
}

# --- legal basis texts (one place, shown with every decision) ------------------------------------

LEGAL_BASIS: dict[str, str] = {
    "report": "《社区矫正法》第二十一条：自判决、裁定生效之日起十日内报到；暂予监外执行的，自收到决定之日起十日内移送",
    "receive": "《社区矫正法》第二十二条：核对法律文书、核实身份、办理接收登记、建立档案并宣告",
    "release": "《社区矫正法》第四十四条：矫正期满或者被赦免的，发放解除社区矫正证明书",
    TerminationReason.revoked_probation: "《社区矫正法》第四十五条、第四十六条、第四十八条：人民法院裁定撤销缓刑的，社区矫正终止",
    TerminationReason.revoked_parole: "《社区矫正法》第四十五条、第四十六条、第四十八条：人民法院裁定撤销假释的，社区矫正终止",
    TerminationReason.recommitted: "《社区矫正法》第四十五条、第四十九条：暂予监外执行的社区矫正对象被决定收监执行的，社区矫正终止",
    TerminationReason.died: "《社区矫正法》第四十五条、第五十一条：社区矫正对象死亡的，社区矫正终止",
    "assessment": "《社区矫正法》第十八条；《社区矫正法实施办法》第十四条：十个工作日内完成调查评估（速裁案件五个工作日）",
    "period": "《刑事诉讼法》第一百零五条：期间开始的日不算在期间以内；最后一日为节假日的，以节假日后的第一日为期满日期",
}

FINAL_STATES = frozenset({SubjectState.released, SubjectState.terminated})
ACTIVE_STATES = frozenset(SubjectState) - FINAL_STATES

# Which correction types a termination reason applies to (社区矫正法 第四十五条).
TERMINATION_APPLIES_TO: dict[TerminationReason, frozenset[CorrectionType]] = {
    # 社区矫正法 第四十六条、第四十八条: only a court revokes probation or parole.
    TerminationReason.revoked_probation: frozenset({CorrectionType.probation}),
    TerminationReason.revoked_parole: frozenset({CorrectionType.parole}),
    # 社区矫正法 第四十九条: 收监执行 only for 暂予监外执行.
    TerminationReason.recommitted: frozenset({CorrectionType.medical_parole}),
    # 社区矫正法 第四十五条: death ends every kind. 管制 cannot be revoked: it ends only by death.
    TerminationReason.died: frozenset(CorrectionType),
}

E = TypeVar("E", bound=enum.StrEnum)

# Forward steps that need no reason.
_STEPS: dict[tuple[SubjectState, SubjectState], str] = {
    (SubjectState.pending_reception, SubjectState.reported): LEGAL_BASIS["report"],  # 第二十一条
    (SubjectState.reported, SubjectState.under_correction): LEGAL_BASIS["receive"],  # 第二十二条
}


def _coerce(kind: type[E], value: E | str, field: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(f"未知的取值：{value}", code="unknown_value", fields={field: str(value)}) from None


def _illegal(message: str) -> Conflict:
    return Conflict(message, code="illegal_transition")


def check_transition(
    current: SubjectState | str,
    target: SubjectState | str,
    *,
    correction_type: CorrectionType | str,
    reason: TerminationReason | ReleaseReason | str | None = None,
) -> str:
    """Return the legal basis of ``current → target`` or raise.

    Conflict (code ``illegal_transition``) when the law does not allow the step or the termination
    reason does not fit the correction type; InvalidInput when a reason is missing or superfluous.
    ``reason`` is a TerminationReason for ``terminated``, a ReleaseReason (default: term completed)
    for ``released``, and None otherwise.
    """
    cur = _coerce(SubjectState, current, "current")
    tgt = _coerce(SubjectState, target, "target")
    ctype = _coerce(CorrectionType, correction_type, "correction_type")
    names = f"不能从“{STATE_LABELS[cur]}”变更为“{STATE_LABELS[tgt]}”"
    if cur in FINAL_STATES:
        raise _illegal(f"{names}：“{STATE_LABELS[cur]}”是终结状态")

    if tgt is SubjectState.terminated:  # 社区矫正法 第四十五条
        if reason is None:
            raise InvalidInput("终止矫正必须注明原因", code="termination_reason_required", fields={"reason": "必填"})
        why = _coerce(TerminationReason, reason, "reason")
        if ctype not in TERMINATION_APPLIES_TO[why]:
            raise _illegal(
                f"{names}：“{TERMINATION_REASON_LABELS[why]}”不适用于"
                f"{CORRECTION_TYPE_LABELS[ctype]}社区矫正对象"
            )
        return LEGAL_BASIS[why]

    if tgt is SubjectState.released:  # 社区矫正法 第四十四条
        why_release = _coerce(ReleaseReason, reason or ReleaseReason.term_completed, "reason")
        if cur is not SubjectState.under_correction:
            raise _illegal(f"{names}：只有在矫的社区矫正对象才能解除矫正")
        return f"{LEGAL_BASIS['release']}（{RELEASE_REASON_LABELS[why_release]}）"

    basis = _STEPS.get((cur, tgt))
    if basis is None:
        raise _illegal(names)
    if reason is not None:
        raise InvalidInput("该状态变更不需要原因", code="unexpected_reason", fields={"reason": str(reason)})
    return basis


def allowed_transitions(
    current: SubjectState | str, *, correction_type: CorrectionType | str
) -> list[tuple[SubjectState, TerminationReason | ReleaseReason | None]]:
    """Every (target, reason) the law allows from ``current``, for building menus."""
    options: list[tuple[SubjectState, TerminationReason | ReleaseReason | None]] = []
    candidates: list[tuple[SubjectState, TerminationReason | ReleaseReason | None]] = [
        (SubjectState.reported, None),
        (SubjectState.under_correction, None),
        *((SubjectState.released, r) for r in ReleaseReason),
        *((SubjectState.terminated, r) for r in TerminationReason),
    ]
    for target, reason in candidates:
        try:
            check_transition(current, target, correction_type=correction_type, reason=reason)
        except (Conflict, InvalidInput):
            continue
        options.append((target, reason))
    return options


# --- statutory periods -------------------------------------------------------------------------

REPORT_WITHIN_DAYS = 10  # 社区矫正法 第二十一条 (statutory, not configurable)


class AssessmentSettings(BaseModel):
    """调查评估 deadlines [configurable] (社区矫正法 第十八条)."""

    model_config = ConfigDict(frozen=True)

    working_days: int = Field(10, ge=1, le=60)
    working_days_expedited: int = Field(5, ge=1, le=60)  # 速裁程序


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Working days: Monday–Friday, minus public holidays, plus 调休 make-up working weekends.

    The State Council publishes the holidays each year; a bureau loads them into ``holidays``
    and ``extra_workdays``. With neither, only weekends are days off.
    """

    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def next_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (the start day itself is not counted)."""
        if count < 0:
            raise ValueError("count must be >= 0")
        day = start
        while count:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many have passed since ``start``."""
        days, day = 0, start
        while day < end:
            day += timedelta(days=1)
            days += self.is_working_day(day)
        return days


WEEKENDS_ONLY = WorkCalendar()


def assessment_deadline(
    entrusted_on: date,
    *,
    expedited: bool = False,
    work_calendar: WorkCalendar = WEEKENDS_ONLY,
    settings: AssessmentSettings | None = None,
) -> date:
    """Last day to deliver a 调查评估 opinion, counted from receipt of the entrustment.

    社区矫正法 第十八条; 实施办法 第十四条: 10 working days, 5 in 速裁 cases [configurable].
    """
    s = settings or AssessmentSettings()
    days = s.working_days_expedited if expedited else s.working_days
    return work_calendar.add_working_days(entrusted_on, days)


def reporting_deadline(judgment_effective_date: date, *, work_calendar: WorkCalendar | None = None) -> date:
    """Last day to report (社区矫正法 第二十一条): the effective date + 10 days.

    The effective day itself is not counted (刑事诉讼法 第一百零五条). Given a calendar, a deadline
    falling on a day off moves to the next working day, as the same article provides for people
    not in custody; without one the stricter plain date is returned.
    """
    deadline = judgment_effective_date + timedelta(days=REPORT_WITHIN_DAYS)
    return work_calendar.next_working_day(deadline) if work_calendar else deadline


def is_report_overdue(
    judgment_effective_date: date,
    *,
    reported_on: date | None = None,
    today: date | None = None,
    work_calendar: WorkCalendar | None = None,
) -> bool:
    """Reported after the deadline, or not yet reported and the deadline has passed (第二十一条)."""
    deadline = reporting_deadline(judgment_effective_date, work_calendar=work_calendar)
    if reported_on is not None:
        return reported_on > deadline
    return (today or clock.today_local()) > deadline


# --- correction term ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """A sentence or probation term as the judgment states it: years, months, days."""

    years: int = 0
    months: int = 0
    days: int = 0

    def __post_init__(self) -> None:
        if min(self.years, self.months, self.days) < 0 or not (self.years or self.months or self.days):
            raise InvalidInput("矫正期限须为正数", code="term_invalid", fields={"term": "须为正数"})


def _corresponding_day_after(start: date, months: int) -> date:
    """The day the period of ``months`` ends *before*; a missing corresponding day (Jan 31 + 1
    month) makes the period end on the last day of that month."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if start.day <= last:
        return date(year, month, start.day)
    return date(year, month, last) + timedelta(days=1)


def correction_end(start: date, term: Term, *, credit_days: int = 0) -> date:
    """Last day of correction, start day included: 2024-01-10 + 1 year → 2025-01-09.

    This is how judgments write terms (自2024年1月10日起至2025年1月9日止). ``credit_days`` shortens
    the term, e.g. for 管制 two days per day of pre-trial custody (刑法 第四十一条).
    """
    if credit_days < 0:
        raise InvalidInput("折抵天数不能为负数", code="term_credit", fields={"credit_days": str(credit_days)})
    after = _corresponding_day_after(start, term.years * 12 + term.months)
    end = after + timedelta(days=term.days - 1 - credit_days)
    if end < start:
        raise InvalidInput("折抵天数超过矫正期限", code="term_credit", fields={"credit_days": str(credit_days)})
    return end


def total_days(start: date, end: date) -> int:
    """Days in the correction period, both ends included."""
    return (end - start).days + 1


def days_served(start: date, today: date | None = None, *, end: date | None = None) -> int:
    """Days served so far, today included; 0 before the start, capped at the whole term."""
    day = today or clock.today_local()
    if end is not None:
        day = min(day, end)
    return max((day - start).days + 1, 0)


def days_remaining(end: date, today: date | None = None) -> int:
    """Days still to serve after today (0 on the last day): served + remaining = total."""
    return max((end - (today or clock.today_local())).days, 0)
