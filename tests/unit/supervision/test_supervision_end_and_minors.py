"""Transfer deadlines, release and termination notices, and minors."""

from datetime import date

import pytest
from pydantic import ValidationError

from zhijiao.core.errors import InvalidInput
from zhijiao.subjects.rules import ReleaseReason, TerminationReason
from zhijiao.supervision.minors import (
    PURPOSE_LABELS,
    AccessPurpose,
    age_on,
    can_view_minor,
    display_name,
    is_minor_case,
    may_share_activity,
)
from zhijiao.supervision.notices import BODY_LABELS, Body
from zhijiao.supervision.release import is_release_due, release_notifications
from zhijiao.supervision.transfer import (
    TransferSettings,
    consult_reply_deadline,
    is_consult_reply_overdue,
    is_new_place_report_overdue,
    new_place_report_deadline,
    transfer_notifications,
)

# --- transfer (执行地变更) ------------------------------------------------------------------------


def test_consult_reply_within_five_days():
    assert consult_reply_deadline(date(2025, 6, 1)) == date(2025, 6, 6)
    assert not is_consult_reply_overdue(date(2025, 6, 1), replied_on=date(2025, 6, 6))
    assert is_consult_reply_overdue(date(2025, 6, 1), replied_on=date(2025, 6, 7))
    assert is_consult_reply_overdue(date(2025, 6, 1), today=date(2025, 6, 7))
    assert not is_consult_reply_overdue(date(2025, 6, 1), today=date(2025, 6, 6))


def test_report_at_new_place_within_seven_days():
    assert new_place_report_deadline(date(2025, 6, 1)) == date(2025, 6, 8)
    assert not is_new_place_report_overdue(date(2025, 6, 1), reported_on=date(2025, 6, 8))
    assert is_new_place_report_overdue(date(2025, 6, 1), reported_on=date(2025, 6, 9))
    assert is_new_place_report_overdue(date(2025, 6, 1), today=date(2025, 6, 9))


def test_transfer_settings_are_configurable():
    s = TransferSettings(consult_reply_days=3, report_days=10)
    assert consult_reply_deadline(date(2025, 6, 1), settings=s) == date(2025, 6, 4)
    assert new_place_report_deadline(date(2025, 6, 1), settings=s) == date(2025, 6, 11)
    with pytest.raises(ValidationError):
        TransferSettings(report_days=0)


def test_transfer_notifications_art_27():
    notes = transfer_notifications()
    ours = {n.body for n in notes if n.sender is Body.bureau}
    assert ours == {Body.deciding_organ, Body.new_bureau}
    theirs = {n.body for n in notes if n.sender is Body.new_bureau}
    assert theirs == {Body.procuratorate, Body.public_security}
    assert all("第二十七条" in n.legal_basis for n in notes)


# --- release and termination -------------------------------------------------------------------


def test_release_due_on_the_last_day():
    assert not is_release_due(date(2025, 6, 30), date(2025, 6, 29))
    assert is_release_due(date(2025, 6, 30), date(2025, 6, 30))
    assert is_release_due(date(2025, 6, 30), date(2025, 7, 5))


@pytest.mark.parametrize("reason", list(ReleaseReason))
def test_release_notifies_subject_organ_procuratorate_police(reason):
    notes = release_notifications(reason)
    assert {n.body for n in notes} == {Body.subject, Body.deciding_organ, Body.procuratorate, Body.public_security}
    assert all(n.sender is Body.bureau and "第四十四条" in n.legal_basis for n in notes)
    assert "解除社区矫正证明书" in next(n.action for n in notes if n.body is Body.subject)


def test_death_art_51():
    notes = release_notifications("died")
    ours = {n.body for n in notes if n.sender is Body.bureau}
    assert ours == {Body.deciding_organ, Body.procuratorate, Body.public_security}
    assert all("第五十一条" in n.legal_basis for n in notes)


@pytest.mark.parametrize(
    ("reason", "ruling_by", "article"),
    [
        (TerminationReason.revoked_probation, Body.court, "第四十八条"),
        (TerminationReason.revoked_parole, Body.court, "第四十八条"),
        (TerminationReason.recommitted, Body.deciding_organ, "第四十九条"),
    ],
)
def test_revocation_and_recommitment(reason, ruling_by, article):
    notes = release_notifications(reason)
    senders = {n.sender for n in notes}
    assert senders == {ruling_by, Body.bureau}
    assert {n.body for n in notes if n.sender is ruling_by} == {Body.bureau, Body.public_security, Body.procuratorate}
    assert all(article in n.legal_basis for n in notes)


def test_unknown_outcome():
    with pytest.raises(InvalidInput):
        release_notifications("escaped")


def test_body_labels():
    assert set(BODY_LABELS) == set(Body)
    assert release_notifications("pardoned")[0].body_label == "社区矫正对象"


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
