"""Classified management (分类管理): which level a subject should be in, and what it demands.

The national texts leave levels to the provinces (社区矫正法 第二十四条 矫正方案 "根据…情况";
第二十八条 考核). Every threshold here is the common provincial practice in shared/domain.md and
is [configurable] through :class:`LevelSettings`. A proposal is advice for the officer, who
decides and records the change.
"""

from __future__ import annotations

import calendar
import enum
import math
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from zhijiao.subjects.rules import SupervisionLevel


class RiskLevel(enum.StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


class DutyKind(enum.StrEnum):
    in_person_report = "in_person_report"
    written_report = "written_report"
    talk = "talk"
    education = "education"
    community_service = "community_service"


LEVEL_LABELS: dict[SupervisionLevel, str] = {
    SupervisionLevel.strict: "严管",
    SupervisionLevel.ordinary: "普管",
    SupervisionLevel.lenient: "宽管",
}
RISK_LABELS: dict[RiskLevel, str] = {RiskLevel.high: "高风险", RiskLevel.medium: "中风险", RiskLevel.low: "低风险"}
DUTY_LABELS: dict[DutyKind, str] = {
    DutyKind.in_person_report: "当面报告",
    DutyKind.written_report: "书面报告",
    DutyKind.talk: "个别谈话",
    DutyKind.education: "教育学习",
    DutyKind.community_service: "公益活动",
}


class LevelDuties(BaseModel):
    """What a level demands; intervals in days, hours per calendar month."""

    model_config = ConfigDict(frozen=True)

    in_person_report_interval_days: int = Field(ge=1, le=366)
    written_report_interval_days: int = Field(ge=1, le=366)
    talk_interval_days: int = Field(ge=1, le=366)
    education_hours_per_month: int = Field(ge=0, le=200)
    community_service_hours_per_month: int = Field(ge=0, le=200)


def _default_duties() -> dict[SupervisionLevel, LevelDuties]:
    return {
        # 严管: weekly in person and in writing, a talk a week, ≥ 12 h + 12 h a month (domain.md).
        SupervisionLevel.strict: LevelDuties(
            in_person_report_interval_days=7,
            written_report_interval_days=7,
            talk_interval_days=7,
            education_hours_per_month=12,
            community_service_hours_per_month=12,
        ),
        # 普管 / 宽管 relax the intervals; 8 h a month is the floor of the former 2012 办法.
        SupervisionLevel.ordinary: LevelDuties(
            in_person_report_interval_days=30,
            written_report_interval_days=14,
            talk_interval_days=30,
            education_hours_per_month=8,
            community_service_hours_per_month=8,
        ),
        SupervisionLevel.lenient: LevelDuties(
            in_person_report_interval_days=60,
            written_report_interval_days=30,
            talk_interval_days=60,
            education_hours_per_month=8,
            community_service_hours_per_month=8,
        ),
    }


class LevelSettings(BaseModel):
    """Thresholds of classified management [configurable] (shared/domain.md 分类管理)."""

    model_config = ConfigDict(frozen=True)

    strict_first_months: int = Field(2, ge=0, le=24)
    strict_on_high_risk: bool = True
    strict_min_admonitions: int = Field(2, ge=1)
    strict_min_warnings: int = Field(1, ge=1)
    strict_min_police_penalties: int = Field(1, ge=1)
    lenient_min_months_in_ordinary: int = Field(6, ge=0, le=60)
    lenient_min_quarterly_average: float = Field(80.0, ge=0, le=100)
    lenient_consecutive_commendations: int = Field(3, ge=1)
    lenient_on_low_risk: bool = True
    # From 严管 a subject moves to 普管 first, never straight to 宽管.
    step_down_one_level: bool = True
    duties: dict[SupervisionLevel, LevelDuties] = Field(default_factory=_default_duties)


@dataclass(frozen=True, slots=True)
class LevelFacts:
    """What the proposal looks at. Counts cover the review window the bureau uses (by default the
    whole correction so far); ``level_since`` is when the current level began."""

    correction_start: date
    today: date
    current_level: SupervisionLevel
    level_since: date
    risk_level: RiskLevel = RiskLevel.medium
    admonitions: int = 0
    warnings: int = 0
    police_penalties: int = 0
    failed_monthly_assessment: bool = False
    quarterly_average_score: float | None = None
    consecutive_commendations: int = 0


@dataclass(frozen=True, slots=True)
class LevelProposal:
    level: SupervisionLevel
    reasons: list[str]

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level]


def full_months_between(start: date, end: date) -> int:
    """Whole calendar months from ``start`` to ``end`` (Jan 31 → Feb 29 counts as one)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    last_of_end_month = calendar.monthrange(end.year, end.month)[1]
    if end.day < min(start.day, last_of_end_month):
        months -= 1
    return max(months, 0)


def _strict_reasons(f: LevelFacts, s: LevelSettings) -> list[str]:
    reasons = []
    if full_months_between(f.correction_start, f.today) < s.strict_first_months:
        reasons.append(f"入矫未满{s.strict_first_months}个月")
    if s.strict_on_high_risk and f.risk_level is RiskLevel.high:
        reasons.append("风险评估为高风险")
    if f.admonitions >= s.strict_min_admonitions:  # 社区矫正法 第二十八条 考核奖惩
        reasons.append(f"受到训诫{f.admonitions}次")
    if f.warnings >= s.strict_min_warnings:
        reasons.append(f"受到警告{f.warnings}次")
    if f.police_penalties >= s.strict_min_police_penalties:
        reasons.append(f"受到治安管理处罚{f.police_penalties}次")
    if f.failed_monthly_assessment:
        reasons.append("月度考核不合格")
    return reasons


def _lenient_reasons(f: LevelFacts, s: LevelSettings) -> list[str]:
    reasons = []
    average_ok = f.quarterly_average_score is not None and f.quarterly_average_score >= s.lenient_min_quarterly_average
    in_ordinary = f.current_level is SupervisionLevel.ordinary
    if in_ordinary and average_ok and full_months_between(f.level_since, f.today) >= s.lenient_min_months_in_ordinary:
        reasons.append(
            f"普管满{s.lenient_min_months_in_ordinary}个月且季度考核平均分"
            f"{f.quarterly_average_score:g}分（不低于{s.lenient_min_quarterly_average:g}分）"
        )
    if f.consecutive_commendations >= s.lenient_consecutive_commendations:
        reasons.append(f"连续{f.consecutive_commendations}次受到表扬")
    if s.lenient_on_low_risk and f.risk_level is RiskLevel.low:
        reasons.append("风险评估为低风险")
    return reasons


def propose_level(facts: LevelFacts, *, settings: LevelSettings | None = None) -> LevelProposal:
    """Propose 严管 / 普管 / 宽管 with the reasons, in Chinese, for the officer to confirm."""
    s = settings or LevelSettings()
    strict = _strict_reasons(facts, s)
    if strict:
        return LevelProposal(SupervisionLevel.strict, strict)
    lenient = _lenient_reasons(facts, s)
    score = facts.quarterly_average_score
    if facts.current_level is SupervisionLevel.lenient:
        if score is not None and score < s.lenient_min_quarterly_average:
            return LevelProposal(
                SupervisionLevel.ordinary,
                [f"季度考核平均分{score:g}分，低于{s.lenient_min_quarterly_average:g}分"],
            )
        return LevelProposal(SupervisionLevel.lenient, lenient or ["继续符合宽管条件"])
    if lenient:
        if s.step_down_one_level and facts.current_level is SupervisionLevel.strict:
            return LevelProposal(SupervisionLevel.ordinary, ["严管条件已消除，逐级调整为普管", *lenient])
        return LevelProposal(SupervisionLevel.lenient, lenient)
    if facts.current_level is SupervisionLevel.strict:
        return LevelProposal(SupervisionLevel.ordinary, ["严管条件已消除"])
    return LevelProposal(SupervisionLevel.ordinary, ["不符合严管或宽管条件"])


# --- duties ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DutyTask:
    kind: DutyKind
    window_start: date
    due: date  # last day of the window
    hours: int | None = None  # education and community service only

    @property
    def label(self) -> str:
        return DUTY_LABELS[self.kind]


def duties_for(level: SupervisionLevel, *, settings: LevelSettings | None = None) -> LevelDuties:
    return (settings or LevelSettings()).duties[SupervisionLevel(level)]


def _interval_tasks(kind: DutyKind, every: int, start: date, end: date) -> list[DutyTask]:
    tasks, window = [], start
    while window <= end:
        tasks.append(DutyTask(kind, window, min(window + timedelta(days=every - 1), end)))
        window += timedelta(days=every)
    return tasks


def _monthly_tasks(kind: DutyKind, hours: int, start: date, end: date) -> list[DutyTask]:
    """One task per calendar month; a partial first or last month gets hours in proportion,
    rounded up."""
    if hours == 0:
        return []
    tasks, first = [], start
    while first <= end:
        month_days = calendar.monthrange(first.year, first.month)[1]
        last = min(date(first.year, first.month, month_days), end)
        share = math.ceil(hours * ((last - first).days + 1) / month_days)
        tasks.append(DutyTask(kind, first, last, share))
        first = last + timedelta(days=1)
    return tasks


def duty_schedule(
    level: SupervisionLevel | str,
    start_date: date,
    end_date: date,
    *,
    settings: LevelSettings | None = None,
) -> list[DutyTask]:
    """Dated tasks a level demands between two dates (both included), sorted by due date.

    Interval duties get consecutive windows from ``start_date`` (a weekly report is due by day 7);
    monthly hours follow calendar months.
    """
    if end_date < start_date:
        return []
    d = duties_for(SupervisionLevel(level), settings=settings)
    tasks = [
        *_interval_tasks(DutyKind.in_person_report, d.in_person_report_interval_days, start_date, end_date),
        *_interval_tasks(DutyKind.written_report, d.written_report_interval_days, start_date, end_date),
        *_interval_tasks(DutyKind.talk, d.talk_interval_days, start_date, end_date),
        *_monthly_tasks(DutyKind.education, d.education_hours_per_month, start_date, end_date),
        *_monthly_tasks(DutyKind.community_service, d.community_service_hours_per_month, start_date, end_date),
    ]
    order = list(DutyKind)
    return sorted(tasks, key=lambda t: (t.due, order.index(t.kind)))
