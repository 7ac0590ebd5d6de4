"""Release and termination notices (社区矫正法 第四十四条、第四十五条、第五十一条)."""

from datetime import date

import pytest

from zhijiao.core.errors import InvalidInput
from zhijiao.subjects.rules import ReleaseReason, TerminationReason
from zhijiao.supervision.notices.rules import BODY_LABELS, Body
from zhijiao.supervision.release.rules import is_release_due, release_notifications

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
