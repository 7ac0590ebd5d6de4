from datetime import date

import pytest
from pydantic import ValidationError

from zhijiao.supervision.levels.rules import (
    DUTY_LABELS,
    LEVEL_LABELS,
    DutyKind,
    LevelDuties,
    LevelFacts,
    LevelSettings,
    RiskLevel,
    SupervisionLevel,
    duties_for,
    duty_schedule,
    full_months_between,
    propose_level,
)

L = SupervisionLevel
START = date(2025, 1, 15)


def facts(**kw):
    base = dict(
        correction_start=START,
        today=date(2025, 9, 15),
        current_level=L.ordinary,
        level_since=date(2025, 3, 15),
        risk_level=RiskLevel.medium,
    )
    return LevelFacts(**(base | kw))


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2025, 1, 15), date(2025, 3, 14), 1),
        (date(2025, 1, 15), date(2025, 3, 15), 2),
        (date(2024, 1, 31), date(2024, 2, 29), 1),
        (date(2024, 1, 31), date(2024, 2, 28), 0),
        (date(2025, 3, 1), date(2025, 2, 1), 0),
    ],
)
def test_full_months_between(start, end, months):
    assert full_months_between(start, end) == months


# --- strict ------------------------------------------------------------------------------------


def test_first_two_months_are_strict_boundary():
    day_before = propose_level(facts(today=date(2025, 3, 14), current_level=L.strict, level_since=START))
    assert day_before.level is L.strict
    assert day_before.reasons == ["入矫未满2个月"]
    on_the_day = propose_level(facts(today=date(2025, 3, 15), current_level=L.strict, level_since=START))
    assert on_the_day.level is L.ordinary


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"risk_level": RiskLevel.high}, "风险评估为高风险"),
        ({"admonitions": 2}, "受到训诫2次"),
        ({"warnings": 1}, "受到警告1次"),
        ({"police_penalties": 1}, "受到治安管理处罚1次"),
        ({"failed_monthly_assessment": True}, "月度考核不合格"),
    ],
)
def test_each_strict_trigger(kw, reason):
    # even a lenient subject with excellent scores goes straight to strict
    proposal = propose_level(facts(current_level=L.lenient, quarterly_average_score=95, **kw))
    assert proposal.level is L.strict
    assert proposal.reasons == [reason]
    assert proposal.label == "严管"


def test_one_admonition_is_not_strict():
    assert propose_level(facts(admonitions=1)).level is L.ordinary


def test_all_strict_reasons_are_listed():
    proposal = propose_level(
        facts(today=date(2025, 2, 1), risk_level=RiskLevel.high, admonitions=3, warnings=1, failed_monthly_assessment=True)
    )
    assert len(proposal.reasons) == 5


def test_strict_thresholds_are_configurable():
    s = LevelSettings(strict_min_admonitions=3, strict_on_high_risk=False, strict_first_months=1)
    assert propose_level(facts(admonitions=2, risk_level=RiskLevel.high), settings=s).level is L.ordinary
    assert propose_level(facts(admonitions=3), settings=s).level is L.strict
    assert propose_level(facts(today=date(2025, 2, 20)), settings=s).level is L.ordinary


# --- lenient -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level_since", "score", "expected"),
    [
        (date(2025, 3, 15), 80, L.lenient),  # exactly 6 months, exactly 80
        (date(2025, 3, 16), 80, L.ordinary),  # one day short of 6 months
        (date(2025, 3, 15), 79.9, L.ordinary),
        (date(2025, 3, 15), None, L.ordinary),
    ],
)
def test_lenient_after_six_months_in_ordinary_with_average_80(level_since, score, expected):
    proposal = propose_level(facts(level_since=level_since, quarterly_average_score=score))
    assert proposal.level is expected


def test_three_consecutive_commendations_boundary():
    assert propose_level(facts(level_since=date(2025, 8, 1), consecutive_commendations=2)).level is L.ordinary
    proposal = propose_level(facts(level_since=date(2025, 8, 1), consecutive_commendations=3))
    assert proposal.level is L.lenient
    assert proposal.reasons == ["连续3次受到表扬"]


def test_low_risk_is_lenient_unless_switched_off():
    assert propose_level(facts(level_since=date(2025, 8, 1), risk_level=RiskLevel.low)).level is L.lenient
    off = LevelSettings(lenient_on_low_risk=False)
    assert propose_level(facts(level_since=date(2025, 8, 1), risk_level=RiskLevel.low), settings=off).level is L.ordinary


def test_strict_steps_down_to_ordinary_first():
    f = facts(current_level=L.strict, level_since=date(2025, 8, 1), consecutive_commendations=3)
    proposal = propose_level(f)
    assert proposal.level is L.ordinary
    assert "逐级" in proposal.reasons[0]
    assert propose_level(f, settings=LevelSettings(step_down_one_level=False)).level is L.lenient


def test_strict_without_any_condition_becomes_ordinary():
    proposal = propose_level(facts(current_level=L.strict, level_since=date(2025, 8, 1)))
    assert (proposal.level, proposal.reasons) == (L.ordinary, ["严管条件已消除"])


def test_lenient_stays_unless_the_average_drops():
    assert propose_level(facts(current_level=L.lenient, quarterly_average_score=85)).level is L.lenient
    assert propose_level(facts(current_level=L.lenient)).level is L.lenient
    dropped = propose_level(facts(current_level=L.lenient, quarterly_average_score=75))
    assert dropped.level is L.ordinary
    assert "75" in dropped.reasons[0]


# --- duties ------------------------------------------------------------------------------------


def test_default_duties_follow_domain_md():
    strict = duties_for(L.strict)
    assert (strict.in_person_report_interval_days, strict.written_report_interval_days, strict.talk_interval_days) == (7, 7, 7)
    assert (strict.education_hours_per_month, strict.community_service_hours_per_month) == (12, 12)
    assert duties_for("ordinary").in_person_report_interval_days == 30
    for level in L:
        assert duties_for(level).education_hours_per_month >= 8


def test_duties_are_validated():
    with pytest.raises(ValidationError):
        LevelDuties(
            in_person_report_interval_days=0,
            written_report_interval_days=7,
            talk_interval_days=7,
            education_hours_per_month=1,
            community_service_hours_per_month=1,
        )


def test_strict_schedule_for_a_month():
    tasks = duty_schedule(L.strict, date(2025, 6, 1), date(2025, 6, 30))
    reports = [t for t in tasks if t.kind is DutyKind.in_person_report]
    assert [t.due for t in reports] == [date(2025, 6, 7), date(2025, 6, 14), date(2025, 6, 21), date(2025, 6, 28), date(2025, 6, 30)]
    assert reports[0].window_start == date(2025, 6, 1)
    assert reports[-1].window_start == date(2025, 6, 29)
    education = [t for t in tasks if t.kind is DutyKind.education]
    assert [(t.window_start, t.due, t.hours) for t in education] == [(date(2025, 6, 1), date(2025, 6, 30), 12)]
    assert tasks == sorted(tasks, key=lambda t: t.due)
    assert reports[0].label == "当面报告"


def test_partial_months_get_proportional_hours_rounded_up():
    tasks = duty_schedule(L.ordinary, date(2025, 6, 21), date(2025, 7, 10))
    service = [(t.window_start, t.due, t.hours) for t in tasks if t.kind is DutyKind.community_service]
    # June: 10 of 30 days → 8 × 1/3 = 2.67 → 3; July: 10 of 31 days → 2.58 → 3
    assert service == [(date(2025, 6, 21), date(2025, 6, 30), 3), (date(2025, 7, 1), date(2025, 7, 10), 3)]


def test_schedule_with_zero_hours_and_empty_range():
    zero = LevelDuties(
        in_person_report_interval_days=30,
        written_report_interval_days=30,
        talk_interval_days=30,
        education_hours_per_month=0,
        community_service_hours_per_month=0,
    )
    s = LevelSettings(duties={L.strict: zero, L.ordinary: zero, L.lenient: zero})
    tasks = duty_schedule("lenient", date(2025, 6, 1), date(2025, 6, 30), settings=s)
    assert {t.kind for t in tasks} == {DutyKind.in_person_report, DutyKind.written_report, DutyKind.talk}
    assert duty_schedule(L.strict, date(2025, 6, 2), date(2025, 6, 1)) == []


def test_labels():
    assert set(LEVEL_LABELS) == set(L)
    assert set(DUTY_LABELS) == set(DutyKind)
