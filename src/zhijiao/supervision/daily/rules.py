"""The monthly assessment (月度考核) of a subject. Pure code: no database.

社区矫正法 第二十八条: the agency assesses how the subject obeys the rules and rewards or punishes.
Scores of 0–100 with a pass mark are the common provincial practice; the deductions below are
[configurable] in :class:`ScoreSettings`. The system proposes a score from the month's records;
the officer may set another one with a note.

What counts is what the subject had to do: reports in person and in writing, education and
community-service hours (the duties of the level, :mod:`zhijiao.supervision.levels.rules`), and the
measures decided in the month. Talks are the officer's duty, not the subject's, and do not count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from zhijiao.supervision.levels.rules import DutyKind, DutyTask


class ScoreSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    pass_mark: int = Field(60, ge=0, le=100)
    missed_report: int = Field(10, ge=0, le=100)  # each report in person or in writing not made
    missing_hour: int = Field(2, ge=0, le=100)  # each hour of education or community service short
    admonition: int = Field(20, ge=0, le=100)
    warning: int = Field(40, ge=0, le=100)
    commendation: int = Field(5, ge=0, le=100)  # added, up to 100


@dataclass(frozen=True, slots=True)
class MonthRequirements:
    in_person_reports: int = 0
    written_reports: int = 0
    education_hours: float = 0
    community_service_hours: float = 0


@dataclass(frozen=True, slots=True)
class MonthFacts:
    required: MonthRequirements
    in_person_reports: int = 0
    written_reports: int = 0
    education_hours: float = 0
    community_service_hours: float = 0
    admonitions: int = 0
    warnings: int = 0
    commendations: int = 0


@dataclass(frozen=True, slots=True)
class MonthScore:
    score: int
    passed: bool
    deductions: list[tuple[str, int]] = field(default_factory=list)  # (reason in Chinese, points ±)


def requirements(duties: Iterable[DutyTask], first: date, last: date) -> MonthRequirements:
    """What a month demands: the duty windows of the level that end inside the month."""
    counts = {kind: 0.0 for kind in DutyKind}
    for task in duties:
        if first <= task.due <= last:
            counts[task.kind] += task.hours if task.hours is not None else 1
    return MonthRequirements(
        in_person_reports=int(counts[DutyKind.in_person_report]),
        written_reports=int(counts[DutyKind.written_report]),
        education_hours=counts[DutyKind.education],
        community_service_hours=counts[DutyKind.community_service],
    )


def monthly_score(facts: MonthFacts, *, settings: ScoreSettings | None = None) -> MonthScore:
    """Proposed score, whether it passes, and each deduction with its reason."""
    s = settings or ScoreSettings()
    req = facts.required
    items: list[tuple[str, int]] = []
    missed_in_person = max(req.in_person_reports - facts.in_person_reports, 0)
    if missed_in_person:
        items.append((f"未按规定当面报告{missed_in_person}次", -missed_in_person * s.missed_report))
    missed_written = max(req.written_reports - facts.written_reports, 0)
    if missed_written:
        items.append((f"未按规定书面报告{missed_written}次", -missed_written * s.missed_report))
    education_short = math.ceil(max(req.education_hours - facts.education_hours, 0))
    if education_short:
        items.append((f"教育学习少{education_short}小时", -education_short * s.missing_hour))
    service_short = math.ceil(max(req.community_service_hours - facts.community_service_hours, 0))
    if service_short:
        items.append((f"公益活动少{service_short}小时", -service_short * s.missing_hour))
    if facts.admonitions:
        items.append((f"受到训诫{facts.admonitions}次", -facts.admonitions * s.admonition))
    if facts.warnings:
        items.append((f"受到警告{facts.warnings}次", -facts.warnings * s.warning))
    if facts.commendations:
        items.append((f"受到表扬{facts.commendations}次", facts.commendations * s.commendation))
    score = min(max(100 + sum(points for _, points in items), 0), 100)
    return MonthScore(score=score, passed=score >= s.pass_mark, deductions=items)


def passes(score: int, *, settings: ScoreSettings | None = None) -> bool:
    return score >= (settings or ScoreSettings()).pass_mark
