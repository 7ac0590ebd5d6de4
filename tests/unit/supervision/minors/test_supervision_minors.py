"""Minors under correction (社区矫正法 第五十二条至第五十八条)."""

from datetime import date

import pytest

from zhijiao.supervision.minors.rules import (
    PURPOSE_LABELS,
    AccessPurpose,
    age_on,
    can_view_minor,
    display_name,
    is_minor_case,
    may_share_activity,
)

# --- minors (社区矫正法 第五十二条至第五十八条) ----------------------------------------------------


@pytest.mark.parametrize(
    ("staff", "purpose", "ref", "allowed"),
    [
        (7, AccessPurpose.supervision, None, True),
        (8, AccessPurpose.supervision, None, False),
        (8, AccessPurpose.judicial_case, "（2025）鲁0305刑初12号", True),
        (8, AccessPurpose.lawful_inquiry, "查询函 2025-3", True),
        (8, AccessPurpose.judicial_case, None, False),
        (8, AccessPurpose.lawful_inquiry, "   ", False),
        (7, AccessPurpose.statistics, "x", False),
        (7, "other", "x", False),
    ],
)
def test_can_view_minor(staff, purpose, ref, allowed):
    assert can_view_minor(staff, {7, 9}, purpose, inquiry_ref=ref) is allowed


def test_display_name():
    assert display_name("欧阳娜娜", visible=False) == "欧阳某"
    assert display_name("欧阳娜娜", visible=True) == "欧阳娜娜"


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2007, 6, 1), date(2025, 6, 1), 17),  # on the 18th birthday: still 17
        (date(2007, 6, 1), date(2025, 6, 2), 18),  # the day after
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(2025, 6, 1), date(2025, 6, 1), 0),
    ],
)
def test_age_counts_from_the_day_after_the_birthday(born, on, age):
    assert age_on(born, on) == age


def test_minor_case_is_fixed_at_the_start_art_58():
    born = date(2007, 6, 1)
    assert is_minor_case(born, date(2025, 6, 1))
    assert not is_minor_case(born, date(2025, 6, 2))


def test_minors_and_adults_are_not_grouped_art_52():
    assert may_share_activity(True, True)
    assert may_share_activity(False, False, False)
    assert not may_share_activity(True, False)
    assert may_share_activity()


def test_purpose_labels():
    assert set(PURPOSE_LABELS) == set(AccessPurpose)
