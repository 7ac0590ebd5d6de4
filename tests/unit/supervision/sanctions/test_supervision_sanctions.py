from datetime import UTC, date, datetime

import pytest

from zhijiao.core.errors import InvalidInput
from zhijiao.subjects.rules import CorrectionType
from zhijiao.supervision.sanctions.rules import (
    DECIDER_LABELS,
    SANCTION_LABELS,
    Decider,
    EscalationSettings,
    SanctionKind,
    SanctionRecord,
    ViolationHistory,
    arrest_decision_deadline,
    court_deadline,
    custody_limit,
    escalation,
    revocation_kind,
    who_decides,
)

K, T = SanctionKind, CorrectionType
TODAY = date(2025, 6, 30)


def rec(kind, month, day=1):
    return SanctionRecord(K(kind), date(2025, month, day))


def kinds(history, **kw):
    return [s.kind for s in escalation(history, today=kw.pop("today", TODAY), **kw)]


# --- who decides -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "decider", "proposal_only", "days"),
    [
        (K.commendation, Decider.bureau, False, None),
        (K.admonition, Decider.bureau, False, None),
        (K.warning, Decider.bureau, False, None),
        (K.police_penalty, Decider.public_security, True, None),
        (K.revoke_probation, Decider.court, True, 30),
        (K.revoke_parole, Decider.court, True, 30),
        (K.recommit, Decider.deciding_organ, True, 30),
        (K.sentence_reduction, Decider.court, True, 30),
    ],
)
def test_who_decides(kind, decider, proposal_only, days):
    rule = who_decides(kind)
    assert (rule.decider, rule.proposal_only, rule.decision_days) == (decider, proposal_only, days)
    assert rule.office_verifies
    assert rule.legal_basis.startswith("《社区矫正法》第")
    assert rule.decider_label == DECIDER_LABELS[decider]


def test_admonition_and_warning_cite_the_measures():
    assert "第三十五条" in who_decides("admonition").legal_basis
    assert "第三十六条" in who_decides("warning").legal_basis
    assert "第四十八条" in who_decides("revoke_parole").legal_basis
    assert "第四十九条" in who_decides("recommit").legal_basis


@pytest.mark.parametrize(
    ("ctype", "kind"),
    [
        (T.probation, K.revoke_probation),
        (T.parole, K.revoke_parole),
        (T.medical_parole, K.recommit),
        (T.control, K.police_penalty),
    ],
)
def test_revocation_kind_by_correction_type(ctype, kind):
    assert revocation_kind(ctype) is kind


# --- escalation: admonitions and warnings ------------------------------------------------------


def test_nothing_to_suggest():
    assert escalation(ViolationHistory(T.probation), today=TODAY) == []
    assert kinds(ViolationHistory(T.probation, [rec("admonition", 1)])) == []


def test_two_admonitions_suggest_a_warning():
    suggestions = escalation(ViolationHistory(T.probation, [rec("admonition", 1), rec("admonition", 3)]), today=TODAY)
    assert [s.kind for s in suggestions] == [K.warning]
    assert suggestions[0].reason == "受到2次训诫仍不改正"
    assert "第三十六条" in suggestions[0].legal_basis
    assert suggestions[0].label == "警告"


def test_a_warning_after_the_admonitions_resets_the_count():
    h = ViolationHistory(T.probation, [rec("admonition", 1), rec("admonition", 2), rec("warning", 3), rec("admonition", 4)])
    assert kinds(h) == []


def test_a_commendation_resets_the_count():
    h = ViolationHistory(T.probation, [rec("admonition", 1), rec("commendation", 2), rec("admonition", 4)])
    assert kinds(h) == []


def test_records_are_ordered_by_date_not_by_list_order():
    h = ViolationHistory(T.probation, [rec("admonition", 4), rec("warning", 3), rec("admonition", 5)])
    assert kinds(h) == [K.warning]


@pytest.mark.parametrize(
    ("ctype", "kind"),
    [
        (T.probation, K.revoke_probation),
        (T.parole, K.revoke_parole),
        (T.medical_parole, K.recommit),
        (T.control, K.police_penalty),
    ],
)
def test_two_warnings_suggest_revocation_by_type(ctype, kind):
    suggestions = escalation(ViolationHistory(ctype, [rec("warning", 1), rec("warning", 2)]), today=TODAY)
    assert [s.kind for s in suggestions] == [kind]
    assert suggestions[0].reason == "受到2次警告仍不改正"


def test_admonitions_do_not_reset_warnings_but_a_proposal_does():
    h = ViolationHistory(T.parole, [rec("warning", 1), rec("admonition", 2), rec("warning", 3)])
    assert kinds(h) == [K.revoke_parole]
    h = ViolationHistory(T.parole, [rec("warning", 1), rec("warning", 2), rec("revoke_parole", 3)])
    assert kinds(h) == []


def test_thresholds_are_configurable():
    s = EscalationSettings(admonitions_for_warning=3, warnings_for_revocation=3)
    h = ViolationHistory(T.probation, [rec("admonition", 1), rec("admonition", 2), rec("warning", 3), rec("warning", 4)])
    assert kinds(h, settings=s) == []


def test_several_suggestions_most_severe_first():
    h = ViolationHistory(
        T.probation,
        [rec("warning", 1), rec("warning", 2), rec("admonition", 3), rec("admonition", 4)],
    )
    assert kinds(h) == [K.revoke_probation, K.warning]


# --- escalation: absconding (脱管) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("absent_from", "kind"),
    [
        (date(2025, 6, 30), None),  # same day: nothing yet
        (date(2025, 6, 29), K.admonition),  # 1 day
        (date(2025, 6, 20), K.admonition),  # 10 days: not more than 10
        (date(2025, 6, 19), K.warning),  # 11 days
        (date(2025, 5, 30), K.warning),  # exactly one month
        (date(2025, 5, 29), K.revoke_probation),  # more than one month
    ],
)
def test_absconding_boundaries(absent_from, kind):
    got = kinds(ViolationHistory(T.probation, absconded_from=absent_from))
    assert got == ([] if kind is None else [kind])


def test_absconding_over_a_month_for_each_type():
    for ctype in T:
        h = ViolationHistory(ctype, absconded_from=date(2025, 5, 1))
        assert kinds(h) == [revocation_kind(ctype)]


def test_absconding_reason_and_basis():
    [s] = escalation(ViolationHistory(T.parole, absconded_from=date(2025, 5, 1)), today=TODAY)
    assert s.reason == "脱离监管超过1个月（60日）"
    assert "第四十七条" in s.legal_basis


def test_ended_absconding_uses_its_end_date():
    h = ViolationHistory(T.probation, absconded_from=date(2025, 6, 1), absconded_until=date(2025, 6, 5))
    assert kinds(h) == [K.admonition]


def test_absconding_already_sanctioned_is_not_suggested_again():
    h = ViolationHistory(T.probation, [rec("warning", 6, 15)], absconded_from=date(2025, 6, 1))
    assert kinds(h, today=date(2025, 6, 20)) == []  # 19 days, warning already given
    assert kinds(h) == []  # 29 days: not yet a month, and the warning was given
    assert kinds(h, today=date(2025, 7, 2)) == [K.revoke_probation]
    old = ViolationHistory(T.probation, [rec("warning", 5, 1)], absconded_from=date(2025, 6, 1))
    assert kinds(old, today=date(2025, 6, 20)) == [K.warning]


# --- escalation: other grounds -----------------------------------------------------------------


@pytest.mark.parametrize("ctype", [T.probation, T.parole, T.medical_parole])
def test_police_penalty_without_change_suggests_revocation(ctype):
    assert kinds(ViolationHistory(ctype, police_penalty_unreformed=True)) == [revocation_kind(ctype)]


def test_police_penalty_without_change_for_control_suggests_nothing_more():
    assert kinds(ViolationHistory(T.control, police_penalty_unreformed=True)) == []


def test_missed_medical_recheck_only_for_medical_parole():
    assert kinds(ViolationHistory(T.medical_parole, medical_recheck_missed=True)) == [K.warning]
    assert kinds(ViolationHistory(T.probation, medical_recheck_missed=True)) == []


# --- clocks ------------------------------------------------------------------------------------


def test_court_deadline_thirty_days():
    assert court_deadline(date(2025, 6, 1)) == date(2025, 7, 1)
    assert court_deadline(date(2025, 6, 1), "recommit") == date(2025, 7, 1)
    assert court_deadline(date(2025, 6, 1), K.sentence_reduction) == date(2025, 7, 1)
    # 2025-05-31 17:00 UTC is 2025-06-01 01:00 in Shanghai
    assert court_deadline(datetime(2025, 5, 31, 17, 0, tzinfo=UTC), "revoke_parole") == date(2025, 7, 1)


@pytest.mark.parametrize("kind", [K.police_penalty, K.warning, K.commendation])
def test_no_court_deadline_for_other_kinds(kind):
    with pytest.raises(InvalidInput) as exc:
        court_deadline(date(2025, 6, 1), kind)
    assert exc.value.code == "no_deadline"


def test_arrest_and_custody_clocks():
    assert arrest_decision_deadline(datetime(2025, 6, 1, 9, 0, tzinfo=UTC)) == datetime(2025, 6, 3, 9, 0, tzinfo=UTC)
    assert custody_limit(date(2025, 6, 1)) == date(2025, 7, 1)


def test_labels():
    assert set(SANCTION_LABELS) == set(K)
    assert set(DECIDER_LABELS) == set(Decider)
