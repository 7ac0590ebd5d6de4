"""Routes of leave."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.core import clock
from zhijiao.core.errors import InvalidInput
from zhijiao.supervision import common
from zhijiao.supervision.leave import flows, service
from zhijiao.supervision.leave.schemas import ActiveLeave, LeaveCreate, LeaveDecisionIn, LeaveRead, LeaveReturnIn

router = APIRouter(tags=["supervision"])


@router.post("/subjects/{subject_id}/leave-requests", response_model=LeaveRead, status_code=201, summary="外出请假申请")
def request_leave(db_session: ScopedDb, subject_id: IdPath, leave_in: LeaveCreate) -> LeaveRead:
    return service.leave_read(db_session, service.request_leave(db_session=db_session, subject_id=subject_id,
                                                         leave_in=leave_in))


@router.get("/subjects/{subject_id}/leave-requests", response_model=list[LeaveRead], summary="对象的外出申请")
def list_subject_leaves(db_session: ScopedDb, subject_id: IdPath) -> list[LeaveRead]:
    return [service.leave_read(db_session, r) for r in service.list_leaves(db_session=db_session, subject_id=subject_id)]


@router.get("/subjects/{subject_id}/active-leaves", response_model=list[ActiveLeave], summary="某时刻有效的外出批准")
def active_leaves(db_session: ScopedDb, subject_id: IdPath, at: datetime | None = None) -> list[ActiveLeave]:
    if at is not None and at.tzinfo is None:
        raise InvalidInput("时间必须带时区，如 2026-11-28T08:00:00+08:00", code="timezone_required",
                           fields={"at": "须带时区"})
    if at is not None and not 2000 <= at.year <= 2099:
        raise InvalidInput("时间须在2000年至2099年之间", code="date_range", fields={"at": "超出范围"})
    common.subject(db_session, subject_id)
    return service.active_leaves(db_session, subject_id, at or clock.now())


@router.get("/leave-requests", response_model=list[LeaveRead], summary="外出申请（待审批等）")
def list_leaves(db_session: ScopedDb,
                status: Annotated[str | None, Query(pattern="^(pending|approved|rejected|returned|overdue)$")] = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[LeaveRead]:
    return [service.leave_read(db_session, r)
            for r in service.list_leaves(db_session=db_session, status=status, limit=limit)]


@router.get("/leave-requests/{leave_id}", response_model=LeaveRead, summary="外出申请详情")
def get_leave(db_session: ScopedDb, leave_id: IdPath) -> LeaveRead:
    return service.leave_read(db_session, service.get_leave(db_session=db_session, leave_id=leave_id))


@router.post("/leave-requests/{leave_id}/decisions", response_model=LeaveRead,
             summary="审批外出申请（生成外出审批表）")
def decide_leave(db_session: ScopedDb, leave_id: IdPath, decision_in: LeaveDecisionIn) -> LeaveRead:
    return service.leave_read(db_session, flows.decide_leave(db_session=db_session, leave_id=leave_id,
                                                      decision_in=decision_in))


@router.post("/leave-requests/{leave_id}/return", response_model=LeaveRead, summary="销假（确认返回）")
def confirm_return(db_session: ScopedDb, leave_id: IdPath, return_in: LeaveReturnIn) -> LeaveRead:
    return service.leave_read(db_session, service.confirm_return(db_session=db_session, leave_id=leave_id,
                                                          returned_on=return_in.returned_on, note=return_in.note))
