"""Routes of rewards, punishments and proposals."""

from __future__ import annotations

from fastapi import APIRouter

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.supervision.sanctions import flows, service
from zhijiao.supervision.sanctions.schemas import (
    DecisionIn,
    EscalationCheckIn,
    ProposalCreate,
    ProposalDecisionIn,
    ProposalOutcomeIn,
    ProposalRead,
    ProposalSendIn,
    SanctionCreate,
    SanctionRead,
)

router = APIRouter(tags=["supervision"])


@router.post("/subjects/{subject_id}/sanctions", response_model=SanctionRead, status_code=201,
             summary="表扬、训诫、警告（司法所提出的待区司法局审批）")
def record_sanction(db_session: ScopedDb, subject_id: IdPath, sanction_in: SanctionCreate) -> SanctionRead:
    row, suggestions = flows.record_sanction(db_session=db_session, subject_id=subject_id, sanction_in=sanction_in)
    return service.sanction_read(db_session, row, suggestions)


@router.get("/subjects/{subject_id}/sanctions", response_model=list[SanctionRead], summary="奖惩记录")
def list_sanctions(db_session: ScopedDb, subject_id: IdPath) -> list[SanctionRead]:
    return [service.sanction_read(db_session, r)
            for r in service.list_sanctions(db_session=db_session, subject_id=subject_id)]


@router.post("/sanctions/{sanction_id}/decisions", response_model=SanctionRead, summary="区司法局审批奖惩")
def decide_sanction(db_session: ScopedDb, sanction_id: IdPath, decision_in: DecisionIn) -> SanctionRead:
    row, suggestions = flows.decide_sanction(db_session=db_session, sanction_id=sanction_id, decision_in=decision_in)
    return service.sanction_read(db_session, row, suggestions)


@router.get("/subjects/{subject_id}/proposals", response_model=list[ProposalRead], summary="提请与升级建议")
def list_proposals(db_session: ScopedDb, subject_id: IdPath) -> list[ProposalRead]:
    return [service.proposal_read(db_session, p)
            for p in service.list_proposals(db_session=db_session, subject_id=subject_id)]


@router.post("/subjects/{subject_id}/proposals", response_model=ProposalRead, status_code=201,
             summary="提出提请建议（治安处罚、撤销缓刑/假释、收监执行、减刑）")
def create_proposal(db_session: ScopedDb, subject_id: IdPath, proposal_in: ProposalCreate) -> ProposalRead:
    return service.proposal_read(db_session, service.create_proposal(db_session=db_session, subject_id=subject_id,
                                                              proposal_in=proposal_in))


@router.post("/subjects/{subject_id}/proposals/evaluate", response_model=list[ProposalRead],
             summary="按升级规则评估（脱管等经核实的情形），生成建议")
def evaluate_escalation(db_session: ScopedDb, subject_id: IdPath, check_in: EscalationCheckIn) -> list[ProposalRead]:
    return [service.proposal_read(db_session, p) for p in service.evaluate_escalation(
        db_session=db_session, subject_id=subject_id, check_in=check_in)]


@router.post("/proposals/{proposal_id}/decisions", response_model=ProposalRead,
             summary="采纳或不采纳建议（撤销、收监等由法院或决定机关决定：不能在此批准）")
def decide_proposal(db_session: ScopedDb, proposal_id: IdPath, decision_in: ProposalDecisionIn) -> ProposalRead:
    row, sanction = flows.decide_proposal(db_session=db_session, proposal_id=proposal_id, decision_in=decision_in)
    return service.proposal_read(db_session, row, sanction.id if sanction else None)


@router.post("/proposals/{proposal_id}/sending", response_model=ProposalRead, summary="送达提请（开始三十日期限）")
def send_proposal(db_session: ScopedDb, proposal_id: IdPath, send_in: ProposalSendIn) -> ProposalRead:
    return service.proposal_read(db_session, flows.send_proposal(db_session=db_session, proposal_id=proposal_id,
                                                          send_in=send_in))


@router.post("/proposals/{proposal_id}/outcome", response_model=ProposalRead, summary="登记法院（决定机关）的决定")
def record_outcome(db_session: ScopedDb, proposal_id: IdPath, outcome_in: ProposalOutcomeIn) -> ProposalRead:
    return service.proposal_read(db_session, service.record_outcome(
        db_session=db_session, proposal_id=proposal_id, outcome=outcome_in.outcome, decided_on=outcome_in.decided_on,
        ruling_number=outcome_in.ruling_number, note=outcome_in.note))
