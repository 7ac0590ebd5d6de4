"""The correction team and the correction plan. Pure code: no database.

社区矫正法 第二十四条: an individual correction plan, adjusted as the subject changes.
第二十五条: the correction team; a female member when the subject is female.

The plan's deadline and review interval are the common practice of the provinces and
[configurable] in :class:`IntakeSettings`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from zhijiao.core.errors import InvalidInput

LEGAL_BASIS = {
    "plan": "《社区矫正法》第二十四条：制定有针对性的矫正方案，并根据情况及时调整",
    "team": "《社区矫正法》第二十五条：社区矫正对象为女性的，矫正小组中应有女性成员",
}


class IntakeSettings(BaseModel):
    """[configurable] practice around Law Arts. 24–25."""

    model_config = ConfigDict(frozen=True)

    plan_within_days: int = Field(30, ge=1, le=90)  # a first plan within a month of the announcement
    plan_review_days: int = Field(90, ge=7, le=366)  # reviewed each quarter


# --- 矫正小组 (Law Art. 25) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeamMemberFacts:
    name: str
    role: str
    gender: str | None


def check_team(subject_gender: str, members: Sequence[TeamMemberFacts]) -> None:
    """Raise unless the team may stand: at least one member, and a woman for a female subject."""
    if not members:
        raise InvalidInput("矫正小组至少应有一名成员", code="team_empty", fields={"members": "不能为空"})
    if subject_gender == "female" and not any(m.gender == "female" for m in members):
        raise InvalidInput(
            "社区矫正对象为女性的，矫正小组中应有女性成员（《社区矫正法》第二十五条）",
            code="team_female_member_required",
            fields={"members": "缺少女性成员"},
        )


# --- 矫正方案 (Law Art. 24) ----------------------------------------------------------------------


def plan_due(announced_on: date, *, settings: IntakeSettings | None = None) -> date:
    """The first plan is due this many days after the entry announcement [configurable]."""
    return announced_on + timedelta(days=(settings or IntakeSettings()).plan_within_days)


def plan_review_due(last_on: date, *, settings: IntakeSettings | None = None) -> date:
    """The next review of a plan: a quarter after the plan or its last review [configurable]."""
    return last_on + timedelta(days=(settings or IntakeSettings()).plan_review_days)
