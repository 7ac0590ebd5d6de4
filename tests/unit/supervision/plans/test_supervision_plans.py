"""The correction team (Art. 25) and plan dates (Art. 24)."""

from datetime import date

import pytest

from zhijiao.core.errors import InvalidInput
from zhijiao.supervision.plans.rules import IntakeSettings, TeamMemberFacts, check_team, plan_due, plan_review_due


def test_female_subject_needs_a_female_member():
    men = [TeamMemberFacts("王五", "司法所工作人员", "male"), TeamMemberFacts("赵六", "村（居）委会", None)]
    check_team("male", men)
    with pytest.raises(InvalidInput) as exc:
        check_team("female", men)
    assert exc.value.code == "team_female_member_required" and "第二十五条" in exc.value.message
    check_team("female", [*men, TeamMemberFacts("钱七", "家庭成员", "female")])
    with pytest.raises(InvalidInput) as exc:
        check_team("male", [])
    assert exc.value.code == "team_empty"


def test_plan_dates_are_configurable():
    assert plan_due(date(2025, 6, 1)) == date(2025, 7, 1)
    assert plan_review_due(date(2025, 6, 1)) == date(2025, 8, 30)
    s = IntakeSettings(plan_within_days=15, plan_review_days=30)
    assert plan_due(date(2025, 6, 1), settings=s) == date(2025, 6, 16)
    assert plan_review_due(date(2025, 6, 1), settings=s) == date(2025, 7, 1)
