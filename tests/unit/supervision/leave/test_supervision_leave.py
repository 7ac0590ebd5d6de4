from datetime import date

import pytest

from zhijiao.core.errors import Conflict, Forbidden, InvalidInput
from zhijiao.supervision.leave.rules import (
    LEAVE_STATUS_LABELS,
    Approver,
    ApproverLevel,
    LeaveSettings,
    LeaveStatus,
    decide_leave,
    frequent_travel_valid_until,
    is_overdue,
    mark_overdue,
    mark_returned,
    new_leave_request,
    required_approver,
    required_level,
    validate_leave,
)

TODAY = date(2025, 6, 10)
OFFICE = 3
OFFICER = Approver(staff_id=11, level=ApproverLevel.office, office_id=OFFICE)
OTHER_OFFICE_OFFICER = Approver(staff_id=12, level=ApproverLevel.office, office_id=4)
BUREAU_OFFICER = Approver(staff_id=21, level=ApproverLevel.bureau)
BUREAU_LEADER = Approver(staff_id=31, level=ApproverLevel.bureau)  # a leader decides as the bureau


def request(days=3, requested_by=99, start=date(2025, 6, 12)):
    end = date.fromordinal(start.toordinal() + days - 1)
    return new_leave_request(
        subject_id=1, office_id=OFFICE, requested_by=requested_by, start=start, end=end, today=TODAY
    )


# --- limits (社区矫正法 第二十七条) ---------------------------------------------------------------


@pytest.mark.parametrize(("days", "level"), [(1, "office"), (7, "office"), (8, "bureau"), (30, "bureau")])
def test_required_approver_boundary(days, level):
    assert required_approver(days) is ApproverLevel(level)


@pytest.mark.parametrize("days", [0, 31])
def test_required_approver_rejects_impossible_lengths(days):
    with pytest.raises(InvalidInput) as exc:
        required_approver(days)
    assert exc.value.code == "leave_too_long"


def test_required_approver_is_configurable():
    assert required_approver(8, settings=LeaveSettings(office_max_days=10)) is ApproverLevel.office


def test_validate_leave_counts_both_ends():
    assert validate_leave(date(2025, 6, 12), date(2025, 6, 12), today=TODAY) == 1
    assert validate_leave(date(2025, 6, 12), date(2025, 7, 11), today=TODAY) == 30


def test_validate_leave_errors():
    with pytest.raises(InvalidInput) as exc:
        validate_leave(date(2025, 6, 12), date(2025, 6, 11), today=TODAY)
    assert exc.value.code == "leave_dates"
    with pytest.raises(InvalidInput) as exc:
        validate_leave(date(2025, 6, 12), date(2025, 7, 12), today=TODAY)  # 31 days
    assert exc.value.code == "leave_too_long"
    assert "30" in exc.value.message


def test_past_tolerance_boundary():
    assert validate_leave(date(2025, 6, 9), date(2025, 6, 10), today=TODAY) == 2  # yesterday: tolerated
    with pytest.raises(InvalidInput) as exc:
        validate_leave(date(2025, 6, 8), date(2025, 6, 10), today=TODAY)
    assert exc.value.code == "leave_in_past"
    with pytest.raises(InvalidInput):
        validate_leave(date(2025, 6, 9), date(2025, 6, 10), today=TODAY, settings=LeaveSettings(past_tolerance_days=0))


@pytest.mark.parametrize(
    ("approved", "until"),
    [
        (date(2025, 1, 15), date(2025, 7, 14)),
        (date(2025, 8, 31), date(2026, 2, 28)),
        (date(2025, 7, 1), date(2025, 12, 31)),
    ],
)
def test_frequent_travel_approval_lasts_six_months(approved, until):
    assert frequent_travel_valid_until(approved) == until


# --- who may decide ----------------------------------------------------------------------------


@pytest.mark.parametrize("approver", [OFFICER, BUREAU_OFFICER, BUREAU_LEADER])
def test_seven_days_any_competent_approver(approver):
    decided = decide_leave(request(days=7), approver=approver, approve=True, today=TODAY)
    assert decided.status is LeaveStatus.approved
    assert (decided.decided_by, decided.decided_on) == (approver.staff_id, TODAY)


@pytest.mark.parametrize("approve", [True, False])
def test_office_officer_cannot_decide_more_than_seven_days(approve):
    with pytest.raises(Forbidden) as exc:
        decide_leave(request(days=8), approver=OFFICER, approve=approve, today=TODAY)
    assert exc.value.code == "approval_level"
    assert exc.value.status == 403


@pytest.mark.parametrize("approver", [BUREAU_OFFICER, BUREAU_LEADER])
def test_bureau_decides_more_than_seven_days(approver):
    assert decide_leave(request(days=8), approver=approver, approve=True, today=TODAY).status is LeaveStatus.approved


def test_office_officer_only_for_own_office():
    with pytest.raises(Forbidden) as exc:
        decide_leave(request(days=2), approver=OTHER_OFFICE_OFFICER, approve=True, today=TODAY)
    assert exc.value.code == "office_scope"


@pytest.mark.parametrize("approver", [OFFICER, BUREAU_OFFICER, BUREAU_LEADER])
def test_nobody_approves_their_own_request(approver):
    with pytest.raises(Forbidden) as exc:
        decide_leave(request(days=8, requested_by=approver.staff_id), approver=approver, approve=True, today=TODAY)
    assert exc.value.code == "self_approval"  # checked before the approval level


def test_reject():
    rejected = decide_leave(request(), approver=OFFICER, approve=False, today=TODAY, note="理由不充分")
    assert rejected.status is LeaveStatus.rejected
    assert rejected.note == "理由不充分"


# --- state machine -----------------------------------------------------------------------------


def test_happy_path_and_returned_on_time():
    approved = decide_leave(request(), approver=OFFICER, approve=True, today=TODAY)
    back = mark_returned(approved, returned_on=date(2025, 6, 14))
    assert back.status is LeaveStatus.returned
    assert not back.returned_late


def test_overdue_boundary_and_late_return():
    approved = decide_leave(request(), approver=OFFICER, approve=True, today=TODAY)  # ends 6-14
    assert not is_overdue(approved, date(2025, 6, 14))
    assert is_overdue(approved, date(2025, 6, 15))
    with pytest.raises(Conflict) as exc:
        mark_overdue(approved, today=date(2025, 6, 14))
    assert exc.value.code == "leave_not_overdue"
    overdue = mark_overdue(approved, today=date(2025, 6, 15))
    assert overdue.status is LeaveStatus.overdue
    assert not is_overdue(overdue, date(2025, 6, 20))  # already marked
    back = mark_returned(overdue, returned_on=date(2025, 6, 17))
    assert back.status is LeaveStatus.returned
    assert back.returned_late


def test_decisions_and_moves_from_wrong_states():
    approved = decide_leave(request(), approver=OFFICER, approve=True, today=TODAY)
    rejected = decide_leave(request(), approver=OFFICER, approve=False, today=TODAY)
    returned = mark_returned(approved, returned_on=date(2025, 6, 13))
    for done in (approved, rejected, returned):
        with pytest.raises(Conflict) as exc:
            decide_leave(done, approver=BUREAU_LEADER, approve=True, today=TODAY)
        assert exc.value.code == "leave_state"
    for req in (request(), rejected, returned):
        with pytest.raises(Conflict):
            mark_returned(req, returned_on=date(2025, 6, 13))
        with pytest.raises(Conflict):
            mark_overdue(req, today=date(2025, 7, 1))


def test_return_before_start_is_invalid():
    approved = decide_leave(request(), approver=OFFICER, approve=True, today=TODAY)
    with pytest.raises(InvalidInput):
        mark_returned(approved, returned_on=date(2025, 6, 11))


def test_new_request_is_validated():
    with pytest.raises(InvalidInput):
        request(days=31)
    assert request(days=5).days == 5
    assert set(LEAVE_STATUS_LABELS) == set(LeaveStatus)


def test_state_error_wins_over_date_error():
    # a pending request "returned" before its start: the state is the real problem (409, not 422)
    with pytest.raises(Conflict) as exc:
        mark_returned(request(), returned_on=date(2025, 6, 11))
    assert exc.value.code == "leave_state"


# --- frequent travel (实施办法 第二十九条) ---------------------------------------------------------


def frequent(start=date(2025, 6, 12), end=date(2025, 12, 11), requested_by=99):
    return new_leave_request(subject_id=1, office_id=OFFICE, requested_by=requested_by, start=start, end=end,
                             frequent=True, today=TODAY)


def test_frequent_travel_lasts_at_most_six_months():
    assert frequent().frequent and frequent().days == 183
    with pytest.raises(InvalidInput) as exc:
        frequent(end=date(2025, 12, 12))
    assert exc.value.code == "leave_too_long"
    with pytest.raises(InvalidInput):
        frequent(end=date(2025, 6, 1))
    with pytest.raises(InvalidInput) as exc:
        frequent(start=date(2025, 6, 1))
    assert exc.value.code == "leave_in_past"


def test_frequent_travel_is_for_the_bureau():
    assert required_level(frequent()) is ApproverLevel.bureau
    assert required_level(request(days=3)) is ApproverLevel.office
    with pytest.raises(Forbidden) as exc:
        decide_leave(frequent(), approver=OFFICER, approve=True, today=TODAY)
    assert exc.value.code == "approval_level"
    assert decide_leave(frequent(), approver=BUREAU_OFFICER, approve=True, today=TODAY).status is LeaveStatus.approved
    with pytest.raises(Forbidden):
        decide_leave(frequent(requested_by=BUREAU_OFFICER.staff_id), approver=BUREAU_OFFICER, approve=True, today=TODAY)
