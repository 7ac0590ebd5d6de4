from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from zhijiao.core import clock
from zhijiao.core.errors import InvalidInput
from zhijiao.subjects.rules import (
    AssessmentSettings,
    Term,
    WorkCalendar,
    assessment_deadline,
    correction_end,
    days_remaining,
    days_served,
    is_report_overdue,
    reporting_deadline,
    total_days,
)

# 2025-06-02 is a Monday.
MON = date(2025, 6, 2)


# --- 报到 (社区矫正法 第二十一条) -------------------------------------------------------------


def test_reporting_deadline_is_ten_days_after_the_effective_date():
    assert reporting_deadline(date(2025, 6, 1)) == date(2025, 6, 11)
    assert reporting_deadline(date(2025, 12, 25)) == date(2026, 1, 4)


def test_reporting_deadline_moves_off_a_day_off_only_with_a_calendar():
    # 2025-06-04 + 10 = 2025-06-14, a Saturday
    assert reporting_deadline(date(2025, 6, 4)) == date(2025, 6, 14)
    assert reporting_deadline(date(2025, 6, 4), work_calendar=WorkCalendar()) == date(2025, 6, 16)
    cal = WorkCalendar(holidays=frozenset({date(2025, 6, 16)}))
    assert reporting_deadline(date(2025, 6, 4), work_calendar=cal) == date(2025, 6, 17)


@pytest.mark.parametrize(
    ("reported_on", "today", "overdue"),
    [
        (date(2025, 6, 11), None, False),  # on the last day
        (date(2025, 6, 12), None, True),  # one day late
        (None, date(2025, 6, 11), False),
        (None, date(2025, 6, 12), True),
    ],
)
def test_is_report_overdue_boundary(reported_on, today, overdue):
    assert is_report_overdue(date(2025, 6, 1), reported_on=reported_on, today=today) is overdue


def test_is_report_overdue_uses_the_clock():
    # 2025-06-11 16:30 UTC is 2025-06-12 00:30 in Shanghai: one day late
    with clock.frozen(datetime(2025, 6, 11, 16, 30, tzinfo=UTC)):
        assert is_report_overdue(date(2025, 6, 1))
    with clock.frozen(datetime(2025, 6, 11, 15, 30, tzinfo=UTC)):
        assert not is_report_overdue(date(2025, 6, 1))


# --- working days (社区矫正法 第十八条) ---------------------------------------------------------


def test_add_working_days_skips_weekends_and_excludes_the_start_day():
    cal = WorkCalendar()
    assert cal.add_working_days(MON, 1) == date(2025, 6, 3)
    assert cal.add_working_days(MON, 5) == date(2025, 6, 9)
    assert cal.add_working_days(date(2025, 6, 7), 1) == date(2025, 6, 9)  # from a Saturday
    assert cal.add_working_days(MON, 0) == MON
    with pytest.raises(ValueError):
        cal.add_working_days(MON, -1)


def test_holidays_and_make_up_working_days():
    # 2025 Dragon Boat Festival: 5-31 to 6-2 off; pretend Sunday 6-8 is a 调休 working day
    cal = WorkCalendar(holidays=frozenset({MON}), extra_workdays=frozenset({date(2025, 6, 8)}))
    assert not cal.is_working_day(MON)
    assert cal.is_working_day(date(2025, 6, 8))
    assert cal.add_working_days(date(2025, 5, 30), 1) == date(2025, 6, 3)
    assert cal.add_working_days(date(2025, 6, 6), 1) == date(2025, 6, 8)
    assert cal.working_days_between(date(2025, 5, 30), date(2025, 6, 9)) == 6


def test_assessment_deadline_ten_or_five_working_days():
    assert assessment_deadline(MON) == date(2025, 6, 16)
    assert assessment_deadline(MON, expedited=True) == date(2025, 6, 9)
    national_day = WorkCalendar(holidays=frozenset(date(2025, 10, d) for d in range(1, 9)))
    assert assessment_deadline(date(2025, 9, 30), work_calendar=national_day) == date(2025, 10, 22)


def test_assessment_settings_are_configurable_and_validated():
    assert assessment_deadline(MON, settings=AssessmentSettings(working_days=7)) == date(2025, 6, 11)
    with pytest.raises(ValidationError):
        AssessmentSettings(working_days=0)


# --- correction term ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "term", "end"),
    [
        (date(2024, 1, 10), Term(years=1), date(2025, 1, 9)),
        (date(2024, 3, 1), Term(months=1), date(2024, 3, 31)),
        (date(2024, 1, 31), Term(months=1), date(2024, 2, 29)),  # no Feb 31: month end
        (date(2023, 1, 31), Term(months=1), date(2023, 2, 28)),
        (date(2024, 1, 29), Term(months=1), date(2024, 2, 28)),
        (date(2024, 2, 29), Term(years=1), date(2025, 2, 28)),
        (date(2024, 6, 1), Term(days=10), date(2024, 6, 10)),
        (date(2024, 11, 15), Term(years=1, months=6), date(2026, 5, 14)),
        (date(2024, 11, 15), Term(months=2, days=15), date(2025, 1, 29)),
    ],
)
def test_correction_end(start, term, end):
    assert correction_end(start, term) == end


def test_credit_days_shorten_the_term():
    # 管制 six months, 10 days in custody → 20 days credit (刑法 第四十一条)
    assert correction_end(date(2024, 1, 1), Term(months=6), credit_days=20) == date(2024, 6, 10)
    with pytest.raises(InvalidInput):
        correction_end(date(2024, 1, 1), Term(days=5), credit_days=5)
    with pytest.raises(InvalidInput):
        correction_end(date(2024, 1, 1), Term(days=5), credit_days=-1)


@pytest.mark.parametrize("term", [{}, {"years": -1, "months": 13}, {"days": -1}])
def test_term_must_be_positive(term):
    with pytest.raises(InvalidInput) as exc:
        Term(**term)
    assert exc.value.code == "term_invalid"


def test_days_served_and_remaining_add_up():
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    assert total_days(start, end) == 365
    for today in (start, date(2025, 7, 1), end):
        assert days_served(start, today) + days_remaining(end, today) == 365
    assert days_served(start, date(2024, 12, 31)) == 0
    assert days_served(start, date(2026, 3, 1), end=end) == 365
    assert days_remaining(end, date(2026, 3, 1)) == 0
    assert days_remaining(end, end) == 0


def test_days_served_defaults_to_local_today():
    with clock.frozen(datetime(2025, 1, 9, 16, 0, tzinfo=UTC)):  # 2025-01-10 00:00 Shanghai
        assert days_served(date(2025, 1, 1)) == 10
        assert days_remaining(date(2025, 1, 20)) == 10
