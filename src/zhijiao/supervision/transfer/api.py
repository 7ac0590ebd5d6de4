"""Routes of the change of the place of execution."""

from __future__ import annotations

from fastapi import APIRouter

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.supervision.transfer import service
from zhijiao.supervision.transfer.schemas import (
    TransferAnswerIn,
    TransferConsultIn,
    TransferCreate,
    TransferDecisionIn,
    TransferHandoverIn,
    TransferRead,
)

router = APIRouter(tags=["supervision"])


@router.post("/subjects/{subject_id}/transfers", response_model=TransferRead, status_code=201, summary="执行地变更申请")
def apply_transfer(db_session: ScopedDb, subject_id: IdPath, transfer_in: TransferCreate) -> TransferRead:
    return service.transfer_read(db_session, service.apply_transfer(db_session=db_session, subject_id=subject_id,
                                                             transfer_in=transfer_in))


@router.get("/subjects/{subject_id}/transfers", response_model=list[TransferRead], summary="执行地变更记录")
def list_transfers(db_session: ScopedDb, subject_id: IdPath) -> list[TransferRead]:
    return [service.transfer_read(db_session, t)
            for t in service.list_transfers(db_session=db_session, subject_id=subject_id)]


@router.post("/transfers/{transfer_id}/consultation", response_model=TransferRead, summary="征求新执行地意见")
def consult_transfer(db_session: ScopedDb, transfer_id: IdPath, consult_in: TransferConsultIn) -> TransferRead:
    return service.transfer_read(db_session, service.consult_transfer(db_session=db_session, transfer_id=transfer_id,
                                                               consult_in=consult_in))


@router.post("/transfers/{transfer_id}/answer", response_model=TransferRead, summary="登记新执行地回复")
def answer_transfer(db_session: ScopedDb, transfer_id: IdPath, answer_in: TransferAnswerIn) -> TransferRead:
    return service.transfer_read(db_session, service.answer_transfer(db_session=db_session, transfer_id=transfer_id,
                                                              answer_in=answer_in))


@router.post("/transfers/{transfer_id}/decision", response_model=TransferRead, summary="区司法局决定是否变更")
def decide_transfer(db_session: ScopedDb, transfer_id: IdPath, decision_in: TransferDecisionIn) -> TransferRead:
    return service.transfer_read(db_session, service.decide_transfer(
        db_session=db_session, transfer_id=transfer_id, decision=decision_in.decision,
        decided_on=decision_in.decided_on, note=decision_in.note))


@router.post("/transfers/{transfer_id}/handover", response_model=TransferRead, summary="移交档案、新执行地报到")
def hand_over_transfer(db_session: ScopedDb, transfer_id: IdPath, handover_in: TransferHandoverIn) -> TransferRead:
    return service.transfer_read(db_session, service.hand_over_transfer(
        db_session=db_session, transfer_id=transfer_id, handed_over_on=handover_in.handed_over_on,
        reported_on=handover_in.new_place_reported_on, note=handover_in.note))
