"""Every lifecycle transition, legal or not, as a matrix (社区矫正法 第二十一、二十二、四十四、四十五条)."""

import itertools

import pytest

from zhijiao.core.errors import Conflict, InvalidInput
from zhijiao.subjects.rules import (
    ACTIVE_STATES,
    CORRECTION_TYPE_LABELS,
    STATE_LABELS,
    TERMINATION_REASON_LABELS,
    CorrectionType,
    ReleaseReason,
    SubjectState,
    TerminationReason,
    allowed_transitions,
    check_transition,
)

S, T, R, RR = SubjectState, CorrectionType, TerminationReason, ReleaseReason

# Written out independently of the implementation.
FITS = {
    R.revoked_probation: {T.probation},
    R.revoked_parole: {T.parole},
    R.recommitted: {T.medical_parole},
    R.died: set(T),
}


def is_legal(current, target, ctype, reason):
    if (current, target) in {(S.pending_reception, S.reported), (S.reported, S.under_correction)}:
        return True
    if (current, target) == (S.under_correction, S.released):
        return True
    if target is S.terminated and current in {S.pending_reception, S.reported, S.under_correction}:
        return ctype in FITS[reason]
    return False


def reasons_for(target):
    if target is S.terminated:
        return list(R)
    if target is S.released:
        return list(RR)
    return [None]


MATRIX = [
    (cur, tgt, ctype, reason)
    for cur, tgt, ctype in itertools.product(S, S, T)
    for reason in reasons_for(tgt)
]


@pytest.mark.parametrize(("current", "target", "ctype", "reason"), MATRIX)
def test_transition_matrix(current, target, ctype, reason):
    if is_legal(current, target, ctype, reason):
        basis = check_transition(current, target, correction_type=ctype, reason=reason)
        assert basis.startswith("《社区矫正法》第")
    else:
        with pytest.raises(Conflict) as exc:
            check_transition(current, target, correction_type=ctype, reason=reason)
        assert exc.value.code == "illegal_transition"
        assert exc.value.status == 409
        assert STATE_LABELS[current] in exc.value.message
        assert STATE_LABELS[target] in exc.value.message


def test_matrix_covers_the_legal_cases():
    legal = [m for m in MATRIX if is_legal(*m)]
    # 2 steps × 4 types + release 4 types × 2 reasons + 3 active states × (3 typed + 4 deaths)
    assert len(legal) == 8 + 8 + 3 * 7


def test_wrong_type_message_names_reason_and_type():
    with pytest.raises(Conflict) as exc:
        check_transition("under_correction", "terminated", correction_type="control", reason="revoked_probation")
    assert TERMINATION_REASON_LABELS[R.revoked_probation] in exc.value.message
    assert CORRECTION_TYPE_LABELS[T.control] in exc.value.message


def test_release_reason_defaults_to_term_completed():
    assert "矫正期满" in check_transition("under_correction", "released", correction_type="probation")
    assert "被赦免" in check_transition("under_correction", "released", correction_type="parole", reason="pardoned")


def test_termination_without_reason_is_invalid_input():
    with pytest.raises(InvalidInput) as exc:
        check_transition("under_correction", "terminated", correction_type="probation")
    assert exc.value.code == "termination_reason_required"


def test_reason_on_a_plain_step_is_invalid_input():
    with pytest.raises(InvalidInput) as exc:
        check_transition("pending_reception", "reported", correction_type="probation", reason="died")
    assert exc.value.code == "unexpected_reason"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"current": "arrived", "target": "reported", "correction_type": "probation"},
        {"current": "reported", "target": "gone", "correction_type": "probation"},
        {"current": "reported", "target": "under_correction", "correction_type": "house_arrest"},
        {"current": "reported", "target": "terminated", "correction_type": "probation", "reason": "escaped"},
        {"current": "under_correction", "target": "released", "correction_type": "probation", "reason": "died"},
    ],
)
def test_unknown_values(kwargs):
    current, target = kwargs.pop("current"), kwargs.pop("target")
    with pytest.raises(InvalidInput) as exc:
        check_transition(current, target, **kwargs)
    assert exc.value.code == "unknown_value"


def test_termination_legal_basis_cites_the_articles():
    assert "第四十八条" in check_transition("reported", "terminated", correction_type="parole", reason="revoked_parole")
    assert "第四十九条" in check_transition(
        "under_correction", "terminated", correction_type="medical_parole", reason="recommitted"
    )
    assert "第五十一条" in check_transition("pending_reception", "terminated", correction_type="control", reason="died")


@pytest.mark.parametrize("ctype", list(T))
@pytest.mark.parametrize("current", list(S))
def test_allowed_transitions_agree_with_the_matrix(current, ctype):
    expected = [
        (tgt, reason)
        for tgt in S
        for reason in reasons_for(tgt)
        if is_legal(current, tgt, ctype, reason)
    ]
    assert sorted(allowed_transitions(current, correction_type=ctype), key=str) == sorted(expected, key=str)


def test_labels_cover_every_value():
    assert set(STATE_LABELS) == set(S)
    assert set(CORRECTION_TYPE_LABELS) == set(T)
    assert set(TERMINATION_REASON_LABELS) == set(R)
    assert ACTIVE_STATES == {S.pending_reception, S.reported, S.under_correction}
