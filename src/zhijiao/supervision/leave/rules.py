"""Leave (外出请假): limits, who approves, and the request's small state machine.

社区矫正法 第二十七条: leaving the city or county needs the correction agency's approval; a good
reason shall be approved; frequent travel for work or life may get a simplified procedure.
实施办法 第二十七条 (practice in shared/domain.md): ≤ 7 days the 司法所 approves, longer the
bureau, at most 30 days per approval; 实施办法 第二十九条: a frequent-travel approval lasts 6
months. All numbers are [configurable] in :class:`LeaveSettings`.

Days are calendar dates, both ends included: leave from the 1st to the 3rd is 3 days; a trip out
and back on the same day is 1 day.
"""

from __future__ import annotations

import calendar
import dataclasses
import enum
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, Forbidden, InvalidInput


class LeaveSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    office_max_days: int = Field(7, ge=1, le=30)  # 司法所 may approve up to this many days
    max_days_per_approval: int = Field(30, ge=1, le=90)
    frequent_travel_valid_months: int = Field(6, ge=1, le=12)
    past_tolerance_days: int = Field(1, ge=0, le=7)  # a start this many days ago is still accepted


class ApproverLevel(enum.StrEnum):
    """Who decides a leave request, and at which level an approver stands: the 司法所, or the
    bureau (its officers and its leaders alike)."""

    office = "office"
    bureau = "bureau"


class LeaveStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    returned = "returned"
    overdue = "overdue"


APPROVER_LEVEL_LABELS: dict[ApproverLevel, str] = {ApproverLevel.office: "司法所", ApproverLevel.bureau: "区司法局"}
LEAVE_STATUS_LABELS: dict[LeaveStatus, str] = {
    LeaveStatus.pending: "待审批",
    LeaveStatus.approved: "已批准",
    LeaveStatus.rejected: "未批准",
    LeaveStatus.returned: "已销假",
    LeaveStatus.overdue: "逾期未归",
}
LEGAL_BASIS = {
    "leave": "《社区矫正法》第二十七条；《社区矫正法实施办法》第二十七条",
    "frequent": "《社区矫正法》第二十七条；《社区矫正法实施办法》第二十九条",
}

_TRANSITIONS: dict[LeaveStatus, frozenset[LeaveStatus]] = {
    LeaveStatus.pending: frozenset({LeaveStatus.approved, LeaveStatus.rejected}),
    LeaveStatus.approved: frozenset({LeaveStatus.returned, LeaveStatus.overdue}),
    LeaveStatus.overdue: frozenset({LeaveStatus.returned}),  # came back late: 销假 is still recorded
    LeaveStatus.rejected: frozenset(),
    LeaveStatus.returned: frozenset(),
}


def leave_days(start: date, end: date) -> int:
    return (end - start).days + 1


def validate_leave(
    start: date, end: date, *, today: date | None = None, settings: LeaveSettings | None = None
) -> int:
    """Check the dates of a leave request and return its length in days."""
    s = settings or LeaveSettings()
    if end < start:
        raise InvalidInput("返回日期不能早于外出日期", code="leave_dates", fields={"end": "早于外出日期"})
    if start < (today or clock.today_local()) - timedelta(days=s.past_tolerance_days):
        raise InvalidInput("外出日期已过，须事先申请", code="leave_in_past", fields={"start": "日期已过"})
    days = leave_days(start, end)
    if days > s.max_days_per_approval:  # 实施办法 第二十七条: ≤ 30 days per approval
        raise InvalidInput(
            f"每次批准外出不超过{s.max_days_per_approval}日，本次申请{days}日",
            code="leave_too_long",
            fields={"end": f"超过{s.max_days_per_approval}日"},
        )
    return days


def required_level(request: LeaveRequest, *, settings: LeaveSettings | None = None) -> ApproverLevel:
    """Who decides a request: frequent-travel approvals always the bureau (实施办法 第二十九条)."""
    return ApproverLevel.bureau if request.frequent else required_approver(request.days, settings=settings)


def required_approver(days: int, *, settings: LeaveSettings | None = None) -> ApproverLevel:
    """≤ 7 days: the 司法所; longer: the bureau (社区矫正法 第二十七条; 实施办法 第二十七条)."""
    s = settings or LeaveSettings()
    if not 1 <= days <= s.max_days_per_approval:
        raise InvalidInput(
            f"外出天数须在1至{s.max_days_per_approval}日之间", code="leave_too_long", fields={"days": str(days)}
        )
    return ApproverLevel.office if days <= s.office_max_days else ApproverLevel.bureau


def frequent_travel_valid_until(approved_on: date, *, settings: LeaveSettings | None = None) -> date:
    """Last valid day of a simplified frequent-travel approval (实施办法 第二十九条: 6 months)."""
    months = (settings or LeaveSettings()).frequent_travel_valid_months
    index = approved_on.month - 1 + months
    year, month = approved_on.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if approved_on.day > last:
        return date(year, month, last)
    return date(year, month, approved_on.day) - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Approver:
    staff_id: int
    level: ApproverLevel
    office_id: int | None = None  # the 司法所 of an office officer


@dataclass(frozen=True, slots=True)
class LeaveRequest:
    """A leave request. ``requested_by`` is the account that filed it (officer or the subject's
    app account); nobody may decide a request they filed."""

    subject_id: int
    office_id: int
    requested_by: int
    start: date
    end: date
    status: LeaveStatus = LeaveStatus.pending
    decided_by: int | None = None
    decided_on: date | None = None
    returned_on: date | None = None
    note: str = ""
    frequent: bool = False  # 经常性跨市县活动的简化审批 (实施办法 第二十九条)

    @property
    def days(self) -> int:
        return leave_days(self.start, self.end)

    @property
    def returned_late(self) -> bool:
        return self.returned_on is not None and self.returned_on > self.end


def validate_frequent(
    start: date, end: date, *, today: date | None = None, settings: LeaveSettings | None = None
) -> int:
    """Check a frequent-travel approval: valid from ``start`` at most 6 months (实施办法 第二十九条)."""
    s = settings or LeaveSettings()
    if end < start:
        raise InvalidInput("有效期截止日期不能早于开始日期", code="leave_dates", fields={"end": "早于开始日期"})
    if start < (today or clock.today_local()) - timedelta(days=s.past_tolerance_days):
        raise InvalidInput("开始日期已过，须事先申请", code="leave_in_past", fields={"start": "日期已过"})
    last = frequent_travel_valid_until(start, settings=s)
    if end > last:
        raise InvalidInput(
            f"经常性跨市县活动的批准有效期不超过{s.frequent_travel_valid_months}个月（至{last.isoformat()}）",
            code="leave_too_long",
            fields={"end": f"超过{s.frequent_travel_valid_months}个月"},
        )
    return leave_days(start, end)


def new_leave_request(
    *,
    subject_id: int,
    office_id: int,
    requested_by: int,
    start: date,
    end: date,
    frequent: bool = False,
    today: date | None = None,
    settings: LeaveSettings | None = None,
) -> LeaveRequest:
    if frequent:
        validate_frequent(start, end, today=today, settings=settings)
    else:
        validate_leave(start, end, today=today, settings=settings)
    return LeaveRequest(subject_id=subject_id, office_id=office_id, requested_by=requested_by, start=start, end=end,
                        frequent=frequent)


def _check_move(request: LeaveRequest, target: LeaveStatus) -> None:
    if target not in _TRANSITIONS[request.status]:
        raise Conflict(
            f"外出申请当前为“{LEAVE_STATUS_LABELS[request.status]}”，不能变为“{LEAVE_STATUS_LABELS[target]}”",
            code="leave_state",
        )


def _move(request: LeaveRequest, target: LeaveStatus, **changes: object) -> LeaveRequest:
    _check_move(request, target)
    return dataclasses.replace(request, status=target, **changes)  # type: ignore[arg-type]


def check_approver(request: LeaveRequest, approver: Approver, *, settings: LeaveSettings | None = None) -> None:
    """Raise Forbidden unless ``approver`` may decide ``request`` (approve or reject)."""
    if approver.staff_id == request.requested_by:
        raise Forbidden("不能审批本人提交的申请", code="self_approval")
    if approver.level is ApproverLevel.bureau:
        return  # the bureau decides every request
    if approver.office_id != request.office_id:
        raise Forbidden("只能审批本司法所社区矫正对象的外出申请", code="office_scope")
    if request.frequent:  # 实施办法 第二十九条: 由执行地县级社区矫正机构批准
        raise Forbidden("经常性跨市县活动的简化审批须由区司法局批准", code="approval_level")
    if required_approver(request.days, settings=settings) is not ApproverLevel.office:
        s = settings or LeaveSettings()
        raise Forbidden(
            f"外出超过{s.office_max_days}日，须由司法所签署意见后报区司法局审批", code="approval_level"
        )


def decide_leave(
    request: LeaveRequest,
    *,
    approver: Approver,
    approve: bool,
    today: date | None = None,
    note: str = "",
    settings: LeaveSettings | None = None,
) -> LeaveRequest:
    """Approve or reject a pending request (社区矫正法 第二十七条: a good reason shall be approved)."""
    if request.status is not LeaveStatus.pending:
        raise Conflict(
            f"外出申请当前为“{LEAVE_STATUS_LABELS[request.status]}”，不能再审批", code="leave_state"
        )
    check_approver(request, approver, settings=settings)
    target = LeaveStatus.approved if approve else LeaveStatus.rejected
    return _move(
        request, target, decided_by=approver.staff_id, decided_on=today or clock.today_local(), note=note
    )


def is_overdue(request: LeaveRequest, today: date | None = None) -> bool:
    """Approved, not back, and the last day of leave has passed (实施办法 第二十八条 按期返回)."""
    return request.status is LeaveStatus.approved and (today or clock.today_local()) > request.end


def mark_overdue(request: LeaveRequest, *, today: date | None = None) -> LeaveRequest:
    if request.status is LeaveStatus.approved and not is_overdue(request, today):
        raise Conflict("外出期限尚未届满", code="leave_not_overdue")
    return _move(request, LeaveStatus.overdue)


def mark_returned(request: LeaveRequest, *, returned_on: date) -> LeaveRequest:
    """销假: the subject is back and reported to the office (a state error wins over a date error)."""
    _check_move(request, LeaveStatus.returned)
    if returned_on < request.start:
        raise InvalidInput("销假日期不能早于外出日期", code="leave_dates", fields={"returned_on": "早于外出日期"})
    return _move(request, LeaveStatus.returned, returned_on=returned_on)
