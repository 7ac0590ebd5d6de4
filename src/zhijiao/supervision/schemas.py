"""Schemas of the supervision workflows: *Create / *In for input, *Read for output."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from zhijiao.documents.schemas import DocumentRead
from zhijiao.subjects.schemas import CorrectionType, TeamMember

Text = Annotated[str, Field(min_length=2, max_length=2000)]
ShortText = Annotated[str, Field(min_length=2, max_length=200)]
Note = Annotated[str | None, Field(default=None, max_length=2000)]
# Dates a person types: bounded, so a typo like 0001-01-01 or 9999-12-31 is a 422, not an overflow.
Day = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2099, 12, 31))]
Basis = Annotated[str | None, Field(default=None, min_length=4, max_length=256, description="法律依据；省略时按规则填入")]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- 调查评估 ------------------------------------------------------------------------------------


class AssessmentCreate(In):
    office_id: int | None = Field(default=None, ge=1, le=2**31, description="承办司法所；司法所工作人员可省略")
    subject_id: int | None = Field(default=None, ge=1, le=2**53, description="已建档时关联的社区矫正对象")
    person_name: Annotated[str, Field(min_length=2, max_length=50)]
    id_number: str | None = Field(default=None, min_length=18, max_length=18)
    entrusting_organ: Annotated[str, Field(min_length=2, max_length=128, description="委托机关")]
    entrusted_on: Day = Field(description="收到委托的日期")
    expedited: bool = Field(default=False, description="速裁程序（五个工作日）")
    proposed_correction_type: CorrectionType
    crime: Annotated[str, Field(min_length=2, max_length=128)]
    request_note: Note = None


class Opinion(enum.StrEnum):
    suitable = "suitable"
    unsuitable = "unsuitable"


class AssessmentFindings(In):
    findings: Text
    opinion: Opinion
    opinion_note: Note = None
    completed_on: Day | None = None


class AssessmentRead(Out):
    id: int
    office_id: int
    subject_id: int | None
    person_name: str
    is_minor: bool
    entrusting_organ: str
    entrusted_on: date
    expedited: bool
    deadline: date
    overdue: bool = False
    proposed_correction_type: str
    crime: str
    request_note: str | None
    status: str
    findings: str | None
    opinion: str | None
    opinion_note: str | None
    completed_on: date | None
    completed_by: str | None
    created_by: str
    created_at: datetime


# --- 交付接收 ------------------------------------------------------------------------------------


class ReceivedDocument(In):
    name: Annotated[str, Field(min_length=2, max_length=64)]
    received_on: Day | None = None


class ReceptionIn(In):
    notified_on: Day | None = Field(default=None, description="收到决定机关通知的日期")
    documents_received_on: Day | None = Field(default=None, description="法律文书送达日期")
    documents: list[ReceivedDocument] = Field(default_factory=list, max_length=30)
    identity_verified: bool = False
    note: Note = None


class ReceptionRead(Out):
    id: int
    subject_id: int
    notified_on: date | None
    documents_received_on: date | None
    documents: list[dict]
    identity_verified: bool
    received_by: str
    note: str | None
    notice_deadline: date
    documents_deadline: date
    notice_late: bool
    documents_late: bool
    missing_documents: list[str]
    reporting_deadline: date
    report_overdue: bool
    legal_basis: str


# --- 宣告, 终止 -----------------------------------------------------------------------------------


class AnnouncementKind(enum.StrEnum):
    entry = "entry"
    release = "release"


class AnnouncementCreate(In):
    kind: AnnouncementKind
    at: AwareDatetime | None = Field(default=None, description="宣告时间；省略为当前时间")
    place: ShortText
    present: list[Annotated[str, Field(min_length=2, max_length=64)]] = Field(
        min_length=1, max_length=30, description="到场人员（姓名及身份）")
    items: list[Annotated[str, Field(min_length=2, max_length=200)]] | None = Field(
        default=None, max_length=30, description="宣告内容；省略时按规定事项填入")
    reason: Literal["term_completed", "pardoned"] | None = Field(default=None, description="解矫原因")
    performance: Annotated[str | None, Field(default=None, max_length=500, description="矫正期间表现")] = None
    note: Note = None

    @field_validator("at")
    @classmethod
    def _plausible(cls, value: datetime | None) -> datetime | None:
        if value is not None and not 2000 <= value.year <= 2099:
            raise PydanticCustomError("date_range", "时间须在2000年至2099年之间")
        return value


class AnnouncementRead(Out):
    id: int
    subject_id: int
    kind: str
    at: datetime
    place: str
    host: str
    present: list[str]
    items: list[str]
    reason: str | None
    note: str | None
    subject_status: str
    documents: list[DocumentRead] = []
    notifications: list[NotificationRead] = []


class TerminationIn(In):
    reason: Literal["revoked_probation", "revoked_parole", "recommitted", "died"]
    basis: Basis = None
    decided_on: Day | None = Field(default=None, description="裁定、决定或死亡日期")
    proposal_id: int | None = Field(default=None, ge=1, le=2**53, description="据以终止的提请建议")
    note: Note = None


class TerminationRead(BaseModel):
    subject_id: int
    status: str
    termination_reason: str | None
    basis: str
    notifications: list[NotificationRead]


# --- 矫正小组, 矫正方案 ----------------------------------------------------------------------------


class TeamIn(In):
    members: list[TeamMember] = Field(max_length=20)


class PlanCreate(In):
    circumstances: Text = Field(description="性别、年龄、心理特点、健康状况、犯罪原因、犯罪类型、悔罪表现等")
    goals: Text
    measures: Text


class PlanReviewCreate(In):
    reviewed_on: Day | None = None
    findings: Text
    adjustments: Note = None


class PlanReviewRead(Out):
    id: int
    reviewed_on: date
    findings: str
    adjustments: str | None
    reviewed_by: str


class PlanRead(Out):
    id: int
    subject_id: int
    version: int
    status: str
    circumstances: str
    goals: str
    measures: str
    next_review_on: date
    created_by: str
    created_at: datetime
    reviews: list[PlanReviewRead]


# --- 分类管理 ------------------------------------------------------------------------------------


class Level(enum.StrEnum):
    strict = "strict"
    ordinary = "ordinary"
    lenient = "lenient"


class LevelReviewCreate(In):
    risk_level: Literal["high", "medium", "low"] = Field(default="medium", description="风险评估等级")
    note: Note = None


class LevelDecisionIn(In):
    decision: Literal["confirm", "reject"]
    level: Level | None = Field(default=None, description="确定的等级；省略为建议等级")
    note: Note = None


class LevelReviewRead(Out):
    id: int
    subject_id: int
    current_level: str
    proposed_level: str
    reasons: list[str]
    facts: dict
    status: str
    decided_level: str | None
    decided_by: str | None
    decided_at: datetime | None
    effective_on: date | None
    note: str | None
    created_by: str
    created_at: datetime
    tasks_created: int = 0


# --- 日常监管记录 ---------------------------------------------------------------------------------


class _RecordBase(In):
    occurred_on: Day = Field(description="发生日期")
    summary: Text
    place: Annotated[str | None, Field(default=None, max_length=128)] = None


class ReportIn(_RecordBase):
    kind: Literal["report"]
    channel: Literal["in_person", "phone", "written"]


class HomeVisitIn(_RecordBase):
    kind: Literal["home_visit"]
    counterpart: Annotated[str | None, Field(default=None, max_length=128, description="走访对象")] = None


class TalkIn(_RecordBase):
    kind: Literal["talk"]
    counterpart: Annotated[str | None, Field(default=None, max_length=128)] = None


class RemoteCheckIn(_RecordBase):
    kind: Literal["remote_check"]
    result: Literal["passed", "failed"]
    channel: Literal["phone", "video", "app", "kiosk"] = "phone"


class VisitorApprovalIn(_RecordBase):
    kind: Literal["visitor_approval"]
    counterpart: Annotated[str, Field(min_length=2, max_length=128, description="会客对象")]
    result: Literal["approved", "rejected"]


class EducationIn(_RecordBase):
    kind: Literal["education"]
    hours: float = Field(gt=0, le=24)
    counterpart: Annotated[str | None, Field(default=None, max_length=128, description="组织单位")] = None


class CommunityServiceIn(_RecordBase):
    kind: Literal["community_service"]
    hours: float = Field(gt=0, le=24)
    counterpart: Annotated[str | None, Field(default=None, max_length=128, description="服务单位")] = None


RecordIn = Annotated[
    ReportIn | HomeVisitIn | TalkIn | RemoteCheckIn | VisitorApprovalIn | EducationIn | CommunityServiceIn,
    Field(discriminator="kind"),
]

RECORD_KINDS = ("report", "home_visit", "talk", "remote_check", "visitor_approval", "education",
                "community_service")


class RecordRead(Out):
    id: int
    subject_id: int
    kind: str
    occurred_on: date
    channel: str | None
    hours: float | None
    place: str | None
    counterpart: str | None
    result: str | None
    summary: str
    recorded_by: str
    recorded_at: datetime


class MonthlyAssessmentCreate(In):
    month: Annotated[str, Field(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$", description="考核月份 YYYY-MM")]
    score: int | None = Field(default=None, ge=0, le=100, description="与建议分不同时须说明理由")
    note: Note = None


class MonthlyAssessmentRead(Out):
    id: int
    subject_id: int
    month: date
    computed_score: int
    score: int
    passed: bool
    breakdown: list
    note: str | None
    assessed_by: str
    assessed_at: datetime


# --- 外出请假 ------------------------------------------------------------------------------------


class LeaveCreate(In):
    start: Day = Field(description="外出日期")
    end: Day = Field(description="返回日期（经常性外出：批准有效期截止日）")
    destination: ShortText
    reason: Text
    frequent: bool = Field(default=False, description="经常性跨市县活动的简化审批（有效期不超过六个月）")
    companions: Annotated[str | None, Field(default=None, max_length=200)] = None
    contact_phone: Annotated[str | None, Field(default=None, max_length=32)] = None


class LeaveDecisionIn(In):
    decision: Literal["approve", "reject"]
    note: Note = None


class LeaveReturnIn(In):
    returned_on: Day | None = Field(default=None, description="返回日期；省略为今天")
    note: Note = None


class LeaveRead(Out):
    id: int
    subject_id: int
    office_id: int
    status: str
    status_label: str
    start: date
    end: date
    days: int
    frequent: bool
    destination: str
    reason: str
    companions: str | None
    approver_level: str
    requested_by: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    returned_on: date | None
    returned_late: bool
    return_confirmed_by: str | None
    created_at: datetime
    documents: list[DocumentRead] = []


# --- 执行地变更 ----------------------------------------------------------------------------------


class TransferCreate(In):
    to_agency: ShortText = Field(description="新执行地社区矫正机构")
    to_address: ShortText
    reason: Text
    applied_on: Day | None = None


class TransferConsultIn(In):
    sent_on: Day | None = Field(default=None, description="征求意见函送达新执行地的日期")


class TransferAnswerIn(In):
    answer: Literal["agree", "disagree"]
    answered_on: Day | None = None
    note: Note = None


class TransferDecisionIn(In):
    decision: Literal["approve", "reject"]
    decided_on: Day | None = None
    note: Note = None


class TransferHandoverIn(In):
    handed_over_on: Day | None = None
    new_place_reported_on: Day | None = None
    note: Note = None


class TransferRead(Out):
    id: int
    subject_id: int
    to_agency: str
    to_address: str
    reason: str
    applied_on: date
    status: str
    consult_sent_on: date | None
    consult_deadline: date | None
    consult_overdue: bool = False
    answer: str | None
    answered_on: date | None
    decision: str | None
    decided_on: date | None
    decided_by: str | None
    report_deadline: date | None
    handover_deadline: date | None
    handed_over_on: date | None
    new_place_reported_on: date | None
    note: str | None
    created_by: str
    notifications: list[NotificationRead] = []


# --- 奖惩, 提请 ----------------------------------------------------------------------------------


class SanctionCreate(In):
    kind: Literal["commendation", "admonition", "warning", "police_penalty", "revoke_probation",
                  "revoke_parole", "recommit", "sentence_reduction"] = Field(
        description="commendation（表扬）、admonition（训诫）、warning（警告）；其余由法院、公安机关或决定机关决定，应提出提请建议")
    reason: Text = Field(description="事实与理由")
    basis: Basis = None
    occurred_on: Day | None = None


class DecisionIn(In):
    decision: Literal["approve", "reject"]
    note: Note = None


class SanctionRead(Out):
    id: int
    subject_id: int
    kind: str
    label: str = ""
    reason: str
    basis: str
    status: str
    occurred_on: date | None
    proposed_by: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    proposal_id: int | None
    created_at: datetime
    documents: list[DocumentRead] = []
    suggestions: list[ProposalRead] = Field(default_factory=list, description="本次决定后新产生的升级建议")


class ProposalCreate(In):
    kind: Literal["police_penalty", "revoke_probation", "revoke_parole", "recommit", "sentence_reduction"]
    reason: Text
    basis: Basis = None


class EscalationCheckIn(In):
    absconded_from: Day | None = Field(default=None, description="脱管起始日期（经核实）")
    absconded_until: Day | None = Field(default=None, description="脱管结束日期；仍未归案则省略")
    police_penalty_unreformed: bool = Field(default=False, description="受到治安管理处罚仍不改正")
    medical_recheck_missed: bool = Field(default=False, description="保外就医不按时提交病情复查情况")


class ProposalDecisionIn(In):
    decision: Literal["accept", "reject", "grant", "deny"] = Field(
        description="accept/reject：是否提请；grant/deny（批准/驳回提请事项）只能由法院、公安机关或决定机关作出")
    note: Note = None


class ProposalSendIn(In):
    sent_on: Day | None = None
    recipient: Annotated[str | None, Field(default=None, min_length=2, max_length=128)] = None
    note: Note = None


class ProposalOutcomeIn(In):
    outcome: Literal["granted", "denied"]
    decided_on: Day
    ruling_number: Annotated[str | None, Field(default=None, max_length=128)] = None
    note: Note = None


class ProposalRead(Out):
    id: int
    subject_id: int
    kind: str
    label: str = ""
    source: str
    reason: str
    basis: str
    decider: str
    decider_label: str = ""
    status: str
    created_by: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    sent_on: date | None
    recipient: str | None
    answer_due: date | None
    answer_overdue: bool = False
    outcome: str | None
    outcome_on: date | None
    outcome_ref: str | None
    outcome_note: str | None
    documents: list[DocumentRead] = []
    sanction_id: int | None = None


# --- 通知 ----------------------------------------------------------------------------------------


class NotificationRead(Out):
    id: int
    subject_id: int
    event: str
    source_id: int | None
    body: str
    body_label: str
    sender: str
    ours: bool
    action: str
    legal_basis: str
    status: str
    done_on: date | None
    done_by: str | None
    note: str | None


class NotificationDoneIn(In):
    done_on: Day | None = None
    note: Note = None


class TimelineEntry(BaseModel):
    """One event of the subject's file, for the subject page's timeline."""

    on: date = Field(description="事件日期（上海时间）")
    at: datetime = Field(description="排序用时间（UTC）")
    kind: str
    label: str
    summary: str
    object_type: str
    object_id: int
    document_ids: list[int] = []


class ActiveLeave(BaseModel):
    """An approved leave in force, for the permitted-area rules of monitoring (Law Art. 27)."""

    id: int
    subject_id: int
    destination: str
    start: date
    end: date
    start_at: datetime
    end_at: datetime


AnnouncementRead.model_rebuild()
TerminationRead.model_rebuild()
TransferRead.model_rebuild()
SanctionRead.model_rebuild()
