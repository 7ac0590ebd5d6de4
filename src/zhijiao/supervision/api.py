"""Routes of the supervision workflows: thin, one service or flow call each."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.core import clock
from zhijiao.core.errors import InvalidInput, NotFound
from zhijiao.subjects.schemas import TeamMemberRead
from zhijiao.supervision import flows, service, views
from zhijiao.supervision.schemas import (
    RECORD_KINDS,
    ActiveLeave,
    AnnouncementCreate,
    AnnouncementRead,
    AssessmentCreate,
    AssessmentFindings,
    AssessmentRead,
    DecisionIn,
    EscalationCheckIn,
    LeaveCreate,
    LeaveDecisionIn,
    LeaveRead,
    LeaveReturnIn,
    LevelDecisionIn,
    LevelReviewCreate,
    LevelReviewRead,
    MonthlyAssessmentCreate,
    MonthlyAssessmentRead,
    NotificationDoneIn,
    NotificationRead,
    PlanCreate,
    PlanRead,
    PlanReviewCreate,
    ProposalCreate,
    ProposalDecisionIn,
    ProposalOutcomeIn,
    ProposalRead,
    ProposalSendIn,
    ReceptionIn,
    ReceptionRead,
    RecordIn,
    RecordRead,
    SanctionCreate,
    SanctionRead,
    TeamIn,
    TerminationIn,
    TerminationRead,
    TimelineEntry,
    TransferAnswerIn,
    TransferConsultIn,
    TransferCreate,
    TransferDecisionIn,
    TransferHandoverIn,
    TransferRead,
)

router = APIRouter(tags=["supervision"])
Month = Annotated[str | None, Query(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


# --- 调查评估 ------------------------------------------------------------------------------------


@router.post("/assessments", response_model=AssessmentRead, status_code=201, summary="登记调查评估委托")
def create_assessment(db_session: ScopedDb, assessment_in: AssessmentCreate) -> AssessmentRead:
    return views.assessment(service.create_assessment(db_session=db_session, assessment_in=assessment_in))


@router.get("/assessments", response_model=list[AssessmentRead], summary="调查评估（未成年人姓名隐去）")
def list_assessments(db_session: ScopedDb, status: Annotated[str | None, Query(pattern="^(open|completed)$")] = None,
                     limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[AssessmentRead]:
    return [views.assessment(a, in_list=True)
            for a in service.list_assessments(db_session=db_session, status=status, limit=limit)]


@router.get("/assessments/{assessment_id}", response_model=AssessmentRead, summary="调查评估详情")
def get_assessment(db_session: ScopedDb, assessment_id: IdPath) -> AssessmentRead:
    return views.assessment(service.get_assessment(db_session=db_session, assessment_id=assessment_id))


@router.post("/assessments/{assessment_id}/findings", response_model=AssessmentRead, summary="提交调查评估意见")
def complete_assessment(db_session: ScopedDb, assessment_id: IdPath, findings_in: AssessmentFindings) -> AssessmentRead:
    return views.assessment(service.complete_assessment(db_session=db_session, assessment_id=assessment_id,
                                                        findings_in=findings_in))


# --- 交付接收, 宣告, 终止, 小组, 方案 ---------------------------------------------------------------


@router.put("/subjects/{subject_id}/reception", response_model=ReceptionRead, summary="交付接收登记（第二十条核查）")
def record_reception(db_session: ScopedDb, subject_id: IdPath, reception_in: ReceptionIn) -> ReceptionRead:
    row = service.record_reception(db_session=db_session, subject_id=subject_id, reception_in=reception_in)
    return views.reception(service.subject(db_session, subject_id), row)


@router.get("/subjects/{subject_id}/reception", response_model=ReceptionRead, summary="交付接收情况")
def get_reception(db_session: ScopedDb, subject_id: IdPath) -> ReceptionRead:
    row = service.get_reception(db_session=db_session, subject_id=subject_id)
    if row is None:
        raise NotFound("尚未登记交付接收", code="reception_not_found")
    return views.reception(service.subject(db_session, subject_id), row)


@router.post("/subjects/{subject_id}/announcements", response_model=AnnouncementRead, status_code=201,
             summary="入矫宣告 / 解矫宣告（生成宣告书等文书）")
def announce(db_session: ScopedDb, subject_id: IdPath, announcement_in: AnnouncementCreate) -> AnnouncementRead:
    row = flows.announce(db_session=db_session, subject_id=subject_id, announcement_in=announcement_in)
    return views.announcement(db_session, row, service.subject(db_session, subject_id))


@router.get("/subjects/{subject_id}/announcements", response_model=list[AnnouncementRead], summary="宣告记录")
def list_announcements(db_session: ScopedDb, subject_id: IdPath) -> list[AnnouncementRead]:
    s = service.subject(db_session, subject_id)
    return [views.announcement(db_session, a, s)
            for a in service.list_announcements(db_session=db_session, subject_id=subject_id)]


@router.post("/subjects/{subject_id}/termination", response_model=TerminationRead, summary="终止矫正（撤销、收监、死亡）")
def terminate(db_session: ScopedDb, subject_id: IdPath, termination_in: TerminationIn) -> TerminationRead:
    s, notices = flows.terminate(db_session=db_session, subject_id=subject_id, termination_in=termination_in)
    return TerminationRead(subject_id=s.id, status=s.status, termination_reason=s.termination_reason,
                           basis=s.transitions[-1].basis, notifications=[views.notification(n) for n in notices])


@router.put("/subjects/{subject_id}/team", response_model=list[TeamMemberRead], summary="矫正小组（第二十五条）")
def set_team(db_session: ScopedDb, subject_id: IdPath, team_in: TeamIn) -> list[TeamMemberRead]:
    return [TeamMemberRead.model_validate(m)
            for m in service.set_team(db_session=db_session, subject_id=subject_id, team_in=team_in)]


@router.post("/subjects/{subject_id}/plans", response_model=PlanRead, status_code=201, summary="制定或修订矫正方案")
def create_plan(db_session: ScopedDb, subject_id: IdPath, plan_in: PlanCreate) -> PlanRead:
    return views.plan(service.create_plan(db_session=db_session, subject_id=subject_id, plan_in=plan_in))


@router.get("/subjects/{subject_id}/plans", response_model=list[PlanRead], summary="矫正方案（含历次版本与复查）")
def list_plans(db_session: ScopedDb, subject_id: IdPath) -> list[PlanRead]:
    return [views.plan(p) for p in service.list_plans(db_session=db_session, subject_id=subject_id)]


@router.post("/plans/{plan_id}/reviews", response_model=PlanRead, status_code=201, summary="复查矫正方案")
def review_plan(db_session: ScopedDb, plan_id: IdPath, review_in: PlanReviewCreate) -> PlanRead:
    return views.plan(service.review_plan(db_session=db_session, plan_id=plan_id, review_in=review_in))


# --- 分类管理, 日常记录, 月度考核 ---------------------------------------------------------------------


@router.post("/subjects/{subject_id}/level-reviews", response_model=LevelReviewRead, status_code=201,
             summary="提出管理等级建议（附理由）")
def propose_level(db_session: ScopedDb, subject_id: IdPath, review_in: LevelReviewCreate) -> LevelReviewRead:
    return views.level_review(service.propose_level(db_session=db_session, subject_id=subject_id, review_in=review_in))


@router.get("/subjects/{subject_id}/level-reviews", response_model=list[LevelReviewRead], summary="管理等级评定记录")
def list_level_reviews(db_session: ScopedDb, subject_id: IdPath) -> list[LevelReviewRead]:
    return [views.level_review(r) for r in service.list_level_reviews(db_session=db_session, subject_id=subject_id)]


@router.post("/level-reviews/{review_id}/decisions", response_model=LevelReviewRead,
             summary="确认或不采纳等级建议（确认后生成分类管理任务）")
def decide_level(db_session: ScopedDb, review_id: IdPath, decision_in: LevelDecisionIn) -> LevelReviewRead:
    review, created = service.decide_level(db_session=db_session, review_id=review_id, decision_in=decision_in)
    return views.level_review(review, created)


@router.post("/subjects/{subject_id}/records", response_model=RecordRead, status_code=201,
             summary="日常监管记录（报告、走访、谈话、核查、会客、教育、公益活动）")
def add_record(db_session: ScopedDb, subject_id: IdPath, record_in: RecordIn) -> RecordRead:
    return RecordRead.model_validate(service.add_record(db_session=db_session, subject_id=subject_id,
                                                        record_in=record_in))


@router.get("/subjects/{subject_id}/records", response_model=list[RecordRead], summary="日常监管记录")
def list_records(db_session: ScopedDb, subject_id: IdPath, kind: str | None = Query(default=None, max_length=24),
                 month: Month = None) -> list[RecordRead]:
    if kind is not None and kind not in RECORD_KINDS:
        raise InvalidInput(f"记录类型须为：{'、'.join(RECORD_KINDS)}", code="validation_error", fields={"kind": "取值不合法"})
    return [RecordRead.model_validate(r) for r in service.list_records(db_session=db_session, subject_id=subject_id,
                                                                      kind=kind, month=month)]


@router.post("/subjects/{subject_id}/monthly-assessments", response_model=MonthlyAssessmentRead, status_code=201,
             summary="月度考核（按记录建议分数）")
def assess_month(db_session: ScopedDb, subject_id: IdPath, assessment_in: MonthlyAssessmentCreate
                 ) -> MonthlyAssessmentRead:
    return MonthlyAssessmentRead.model_validate(service.assess_month(db_session=db_session, subject_id=subject_id,
                                                                     assessment_in=assessment_in))


@router.get("/subjects/{subject_id}/monthly-assessments", response_model=list[MonthlyAssessmentRead],
            summary="月度考核记录")
def list_monthly_assessments(db_session: ScopedDb, subject_id: IdPath) -> list[MonthlyAssessmentRead]:
    return [MonthlyAssessmentRead.model_validate(m)
            for m in service.list_monthly_assessments(db_session=db_session, subject_id=subject_id)]


# --- 外出请假 ------------------------------------------------------------------------------------


@router.post("/subjects/{subject_id}/leave-requests", response_model=LeaveRead, status_code=201, summary="外出请假申请")
def request_leave(db_session: ScopedDb, subject_id: IdPath, leave_in: LeaveCreate) -> LeaveRead:
    return views.leave(db_session, service.request_leave(db_session=db_session, subject_id=subject_id,
                                                         leave_in=leave_in))


@router.get("/subjects/{subject_id}/leave-requests", response_model=list[LeaveRead], summary="对象的外出申请")
def list_subject_leaves(db_session: ScopedDb, subject_id: IdPath) -> list[LeaveRead]:
    return [views.leave(db_session, r) for r in service.list_leaves(db_session=db_session, subject_id=subject_id)]


@router.get("/subjects/{subject_id}/active-leaves", response_model=list[ActiveLeave], summary="某时刻有效的外出批准")
def active_leaves(db_session: ScopedDb, subject_id: IdPath, at: datetime | None = None) -> list[ActiveLeave]:
    if at is not None and at.tzinfo is None:
        raise InvalidInput("时间必须带时区，如 2026-11-28T08:00:00+08:00", code="timezone_required",
                           fields={"at": "须带时区"})
    if at is not None and not 2000 <= at.year <= 2099:
        raise InvalidInput("时间须在2000年至2099年之间", code="date_range", fields={"at": "超出范围"})
    service.subject(db_session, subject_id)
    return service.active_leaves(db_session, subject_id, at or clock.now())


@router.get("/leave-requests", response_model=list[LeaveRead], summary="外出申请（待审批等）")
def list_leaves(db_session: ScopedDb,
                status: Annotated[str | None, Query(pattern="^(pending|approved|rejected|returned|overdue)$")] = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[LeaveRead]:
    return [views.leave(db_session, r) for r in service.list_leaves(db_session=db_session, status=status, limit=limit)]


@router.get("/leave-requests/{leave_id}", response_model=LeaveRead, summary="外出申请详情")
def get_leave(db_session: ScopedDb, leave_id: IdPath) -> LeaveRead:
    return views.leave(db_session, service.get_leave(db_session=db_session, leave_id=leave_id))


@router.post("/leave-requests/{leave_id}/decisions", response_model=LeaveRead,
             summary="审批外出申请（生成外出审批表）")
def decide_leave(db_session: ScopedDb, leave_id: IdPath, decision_in: LeaveDecisionIn) -> LeaveRead:
    return views.leave(db_session, flows.decide_leave(db_session=db_session, leave_id=leave_id,
                                                      decision_in=decision_in))


@router.post("/leave-requests/{leave_id}/return", response_model=LeaveRead, summary="销假（确认返回）")
def confirm_return(db_session: ScopedDb, leave_id: IdPath, return_in: LeaveReturnIn) -> LeaveRead:
    return views.leave(db_session, service.confirm_return(db_session=db_session, leave_id=leave_id,
                                                          returned_on=return_in.returned_on, note=return_in.note))


# --- 执行地变更 ----------------------------------------------------------------------------------


@router.post("/subjects/{subject_id}/transfers", response_model=TransferRead, status_code=201, summary="执行地变更申请")
def apply_transfer(db_session: ScopedDb, subject_id: IdPath, transfer_in: TransferCreate) -> TransferRead:
    return views.transfer(db_session, service.apply_transfer(db_session=db_session, subject_id=subject_id,
                                                             transfer_in=transfer_in))


@router.get("/subjects/{subject_id}/transfers", response_model=list[TransferRead], summary="执行地变更记录")
def list_transfers(db_session: ScopedDb, subject_id: IdPath) -> list[TransferRead]:
    return [views.transfer(db_session, t) for t in service.list_transfers(db_session=db_session, subject_id=subject_id)]


@router.post("/transfers/{transfer_id}/consultation", response_model=TransferRead, summary="征求新执行地意见")
def consult_transfer(db_session: ScopedDb, transfer_id: IdPath, consult_in: TransferConsultIn) -> TransferRead:
    return views.transfer(db_session, service.consult_transfer(db_session=db_session, transfer_id=transfer_id,
                                                               consult_in=consult_in))


@router.post("/transfers/{transfer_id}/answer", response_model=TransferRead, summary="登记新执行地回复")
def answer_transfer(db_session: ScopedDb, transfer_id: IdPath, answer_in: TransferAnswerIn) -> TransferRead:
    return views.transfer(db_session, service.answer_transfer(db_session=db_session, transfer_id=transfer_id,
                                                              answer_in=answer_in))


@router.post("/transfers/{transfer_id}/decision", response_model=TransferRead, summary="区司法局决定是否变更")
def decide_transfer(db_session: ScopedDb, transfer_id: IdPath, decision_in: TransferDecisionIn) -> TransferRead:
    return views.transfer(db_session, service.decide_transfer(
        db_session=db_session, transfer_id=transfer_id, decision=decision_in.decision,
        decided_on=decision_in.decided_on, note=decision_in.note))


@router.post("/transfers/{transfer_id}/handover", response_model=TransferRead, summary="移交档案、新执行地报到")
def hand_over_transfer(db_session: ScopedDb, transfer_id: IdPath, handover_in: TransferHandoverIn) -> TransferRead:
    return views.transfer(db_session, service.hand_over_transfer(
        db_session=db_session, transfer_id=transfer_id, handed_over_on=handover_in.handed_over_on,
        reported_on=handover_in.new_place_reported_on, note=handover_in.note))


# --- 奖惩, 提请 ----------------------------------------------------------------------------------


@router.post("/subjects/{subject_id}/sanctions", response_model=SanctionRead, status_code=201,
             summary="表扬、训诫、警告（司法所提出的待区司法局审批）")
def record_sanction(db_session: ScopedDb, subject_id: IdPath, sanction_in: SanctionCreate) -> SanctionRead:
    row, suggestions = flows.record_sanction(db_session=db_session, subject_id=subject_id, sanction_in=sanction_in)
    return views.sanction(db_session, row, suggestions)


@router.get("/subjects/{subject_id}/sanctions", response_model=list[SanctionRead], summary="奖惩记录")
def list_sanctions(db_session: ScopedDb, subject_id: IdPath) -> list[SanctionRead]:
    return [views.sanction(db_session, r) for r in service.list_sanctions(db_session=db_session, subject_id=subject_id)]


@router.post("/sanctions/{sanction_id}/decisions", response_model=SanctionRead, summary="区司法局审批奖惩")
def decide_sanction(db_session: ScopedDb, sanction_id: IdPath, decision_in: DecisionIn) -> SanctionRead:
    row, suggestions = flows.decide_sanction(db_session=db_session, sanction_id=sanction_id, decision_in=decision_in)
    return views.sanction(db_session, row, suggestions)


@router.get("/subjects/{subject_id}/proposals", response_model=list[ProposalRead], summary="提请与升级建议")
def list_proposals(db_session: ScopedDb, subject_id: IdPath) -> list[ProposalRead]:
    return [views.proposal(db_session, p) for p in service.list_proposals(db_session=db_session, subject_id=subject_id)]


@router.post("/subjects/{subject_id}/proposals", response_model=ProposalRead, status_code=201,
             summary="提出提请建议（治安处罚、撤销缓刑/假释、收监执行、减刑）")
def create_proposal(db_session: ScopedDb, subject_id: IdPath, proposal_in: ProposalCreate) -> ProposalRead:
    return views.proposal(db_session, service.create_proposal(db_session=db_session, subject_id=subject_id,
                                                              proposal_in=proposal_in))


@router.post("/subjects/{subject_id}/proposals/evaluate", response_model=list[ProposalRead],
             summary="按升级规则评估（脱管等经核实的情形），生成建议")
def evaluate_escalation(db_session: ScopedDb, subject_id: IdPath, check_in: EscalationCheckIn) -> list[ProposalRead]:
    return [views.proposal(db_session, p) for p in service.evaluate_escalation(
        db_session=db_session, subject_id=subject_id, check_in=check_in)]


@router.post("/proposals/{proposal_id}/decisions", response_model=ProposalRead,
             summary="采纳或不采纳建议（撤销、收监等由法院或决定机关决定：不能在此批准）")
def decide_proposal(db_session: ScopedDb, proposal_id: IdPath, decision_in: ProposalDecisionIn) -> ProposalRead:
    row, sanction = flows.decide_proposal(db_session=db_session, proposal_id=proposal_id, decision_in=decision_in)
    return views.proposal(db_session, row, sanction.id if sanction else None)


@router.post("/proposals/{proposal_id}/sending", response_model=ProposalRead, summary="送达提请（开始三十日期限）")
def send_proposal(db_session: ScopedDb, proposal_id: IdPath, send_in: ProposalSendIn) -> ProposalRead:
    return views.proposal(db_session, flows.send_proposal(db_session=db_session, proposal_id=proposal_id,
                                                          send_in=send_in))


@router.post("/proposals/{proposal_id}/outcome", response_model=ProposalRead, summary="登记法院（决定机关）的决定")
def record_outcome(db_session: ScopedDb, proposal_id: IdPath, outcome_in: ProposalOutcomeIn) -> ProposalRead:
    return views.proposal(db_session, service.record_outcome(
        db_session=db_session, proposal_id=proposal_id, outcome=outcome_in.outcome, decided_on=outcome_in.decided_on,
        ruling_number=outcome_in.ruling_number, note=outcome_in.note))


# --- 通知, 档案 ----------------------------------------------------------------------------------


@router.get("/subjects/{subject_id}/notifications", response_model=list[NotificationRead],
            summary="依法应通知的机关与办理情况")
def list_notifications(db_session: ScopedDb, subject_id: IdPath) -> list[NotificationRead]:
    return [views.notification(n) for n in service.list_notifications(db_session=db_session, subject_id=subject_id)]


@router.post("/notifications/{notification_id}/done", response_model=NotificationRead, summary="通知已办结")
def notification_done(db_session: ScopedDb, notification_id: IdPath, done_in: NotificationDoneIn) -> NotificationRead:
    return views.notification(service.notification_done(db_session=db_session, notification_id=notification_id,
                                                        done_on=done_in.done_on, note=done_in.note))


@router.get("/subjects/{subject_id}/timeline", response_model=list[TimelineEntry],
            summary="对象的时间线（所有事件及其文书，最新在前）")
def timeline(db_session: ScopedDb, subject_id: IdPath) -> list[TimelineEntry]:
    return views.timeline(db_session, service.subject(db_session, subject_id))


@router.get("/subjects/{subject_id}/archive", summary="导出档案（zip：目录、文书、结构化数据、校验清单；将被审计）",
            responses={200: {"content": {"application/zip": {}}, "description": "zip"}})
def export_archive(
    db_session: ScopedDb, subject_id: IdPath,
    purpose: Annotated[str | None, Query(pattern="^(supervision|judicial_case|lawful_inquiry)$",
                                         description="未成年人已封存档案：judicial_case 或 lawful_inquiry")] = None,
    inquiry_ref: Annotated[str | None, Query(max_length=128, description="办案或查询函文号")] = None,
) -> Response:
    name, data = flows.export_archive(db_session=db_session, subject_id=subject_id, purpose=purpose,
                                      inquiry_ref=inquiry_ref)
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
