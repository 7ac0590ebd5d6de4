"""The monthly assessment score (月度考核, Law Art. 28)."""

from datetime import date

import pytest
from pydantic import ValidationError

from zhijiao.supervision.daily.rules import (
    MonthFacts,
    MonthRequirements,
    ScoreSettings,
    monthly_score,
    passes,
    requirements,
)
from zhijiao.supervision.levels.rules import duty_schedule


def test_strict_month_requirements_come_from_the_duty_schedule():
    duties = duty_schedule("strict", date(2025, 6, 1), date(2025, 12, 31))
    req = requirements(duties, date(2025, 6, 1), date(2025, 6, 30))
    assert req == MonthRequirements(in_person_reports=4, written_reports=4, education_hours=12,
                                    community_service_hours=12)


def test_full_marks_when_everything_is_done():
    req = MonthRequirements(1, 2, 8, 8)
    result = monthly_score(MonthFacts(req, in_person_reports=1, written_reports=2, education_hours=8,
                                      community_service_hours=9))
    assert result.score == 100 and result.passed and result.deductions == []


def test_deductions_with_reasons():
    req = MonthRequirements(4, 4, 12, 12)
    result = monthly_score(MonthFacts(req, in_person_reports=3, written_reports=4, education_hours=10.5,
                                      community_service_hours=12, admonitions=1))
    assert result.score == 100 - 10 - 2 * 2 - 20
    assert [r for r, _ in result.deductions] == ["未按规定当面报告1次", "教育学习少2小时", "受到训诫1次"]
    assert result.passed


def test_fails_below_the_pass_mark_and_stays_in_range():
    req = MonthRequirements(4, 4, 12, 12)
    assert not monthly_score(MonthFacts(req, warnings=1, admonitions=1)).passed
    assert monthly_score(MonthFacts(req, warnings=3)).score == 0
    assert monthly_score(MonthFacts(MonthRequirements(), commendations=2)).score == 100


def test_settings_are_configurable():
    s = ScoreSettings(pass_mark=80, missed_report=5)
    result = monthly_score(MonthFacts(MonthRequirements(in_person_reports=2)), settings=s)
    assert result.score == 90 and result.passed
    assert not passes(79, settings=s) and passes(60)
    with pytest.raises(ValidationError):
        ScoreSettings(pass_mark=101)
