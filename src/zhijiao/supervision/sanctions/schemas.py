"""Schemas of rewards, punishments and proposals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from zhijiao.documents.schemas import DocumentRead
from zhijiao.supervision.common import Basis, Day, In, Note, Out, Text


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


SanctionRead.model_rebuild()
