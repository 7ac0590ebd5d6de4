"""Rewards and punishments (考核奖惩, 社区矫正法 第二十八条) and the proposals to courts, deciding
organs and the police (第三十三条、第四十六条至第四十九条): the records, the escalation rules'
suggestions, and the other organs' answers. The decisions, with their documents, are in
:mod:`zhijiao.supervision.sanctions.flows`."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, InvalidInput
from zhijiao.security.actor import get_actor
from zhijiao.subjects import rules as subject_rules
from zhijiao.subjects.models import Subject
from zhijiao.supervision import common
from zhijiao.supervision.sanctions import rules as sanction_rules
from zhijiao.supervision.sanctions.models import Proposal, ProposalOutcome, ProposalStatus, Sanction, SanctionStatus
from zhijiao.supervision.sanctions.schemas import EscalationCheckIn, ProposalCreate, ProposalRead, SanctionRead
from zhijiao.tasks import service as tasks_service

SANCTION_DECISION_DAYS = 7  # practice: the bureau decides a 司法所's proposal within a week


def get_sanction(*, db_session: Session, sanction_id: int) -> Sanction:
    common.reader(db_session)
    return common.one(db_session, Sanction, sanction_id, "奖惩记录不存在或不在您的管辖范围内", "sanction_not_found")


def list_sanctions(*, db_session: Session, subject_id: int) -> list[Sanction]:
    common.subject(db_session, subject_id)
    return list(db_session.execute(
        select(Sanction).where(Sanction.subject_id == subject_id).order_by(Sanction.id)).scalars())


def get_proposal(*, db_session: Session, proposal_id: int) -> Proposal:
    common.reader(db_session)
    return common.one(db_session, Proposal, proposal_id, "提请建议不存在或不在您的管辖范围内", "proposal_not_found")


def list_proposals(*, db_session: Session, subject_id: int) -> list[Proposal]:
    common.subject(db_session, subject_id)
    return list(db_session.execute(
        select(Proposal).where(Proposal.subject_id == subject_id).order_by(Proposal.id)).scalars())


def decided_sanctions(db_session: Session, subject_id: int) -> list[Sanction]:
    return list(db_session.execute(
        select(Sanction).where(Sanction.subject_id == subject_id, Sanction.status == SanctionStatus.decided)
        .order_by(Sanction.decided_at, Sanction.id)
    ).scalars())


def violation_history(db_session: Session, s: Subject, flags: EscalationCheckIn | None = None
                      ) -> sanction_rules.ViolationHistory:
    records = [sanction_rules.SanctionRecord(sanction_rules.SanctionKind(r.kind), common.local_date(r.decided_at))
               for r in decided_sanctions(db_session, s.id) if r.decided_at is not None]
    for p in db_session.execute(select(Proposal).where(
            Proposal.subject_id == s.id, Proposal.kind.in_([k.value for k in sanction_rules.PROPOSALS]),
            Proposal.status.in_(
                (ProposalStatus.accepted, ProposalStatus.sent, ProposalStatus.court_decided)))).scalars():
        if p.decided_at is not None:
            records.append(sanction_rules.SanctionRecord(sanction_rules.SanctionKind(p.kind),
                                                         common.local_date(p.decided_at)))
    flags = flags or EscalationCheckIn()
    return sanction_rules.ViolationHistory(
        correction_type=subject_rules.CorrectionType(s.correction_type), records=records,
        absconded_from=flags.absconded_from, absconded_until=flags.absconded_until,
        police_penalty_unreformed=flags.police_penalty_unreformed,
        medical_recheck_missed=flags.medical_recheck_missed,
    )


def store_suggestions(db_session: Session, s: Subject, history: sanction_rules.ViolationHistory) -> list[Proposal]:
    """Escalation suggestions as ``suggested`` proposals; the same kind and reason is never suggested twice."""
    actor = get_actor(db_session)
    known = {(p.kind, p.reason) for p in db_session.execute(
        select(Proposal).where(Proposal.subject_id == s.id)).scalars()}
    out = []
    for suggestion in sanction_rules.escalation(history):
        if (suggestion.kind.value, suggestion.reason) in known:
            continue
        rule = sanction_rules.who_decides(suggestion.kind)
        row = Proposal(subject_id=s.id, kind=suggestion.kind.value, source="escalation", reason=suggestion.reason,
                       basis=suggestion.legal_basis, decider=rule.decider.value,
                   status=ProposalStatus.suggested.value,
                       created_by=actor.username if actor else "system")
        db_session.add(row)
        db_session.flush()
        tasks_service.ensure(
            db_session=db_session, key=f"proposal_review:{row.id}", kind="proposal_review",
            title=f"审查升级建议：{suggestion.label}（{suggestion.reason}）", due_on=clock.today_local(),
            subject=s, assignee_id=None, source_type="proposals", source_id=row.id,
        )
        known.add((row.kind, row.reason))
        out.append(row)
    return out


def evaluate_escalation(*, db_session: Session, subject_id: int, check_in: EscalationCheckIn) -> list[Proposal]:
    common.writer(db_session)
    s = common.open_subject(db_session, subject_id)
    if check_in.absconded_until and not check_in.absconded_from:
        raise InvalidInput("请填写脱管起始日期", code="abscond_from_required", fields={"absconded_from": "必填"})
    if check_in.absconded_from:
        common.not_future(check_in.absconded_from, "absconded_from")
        if check_in.absconded_until and check_in.absconded_until < check_in.absconded_from:
            raise InvalidInput("脱管结束日期不能早于起始日期", code="date_order", fields={"absconded_until": "早于起始"})
    rows = store_suggestions(db_session, s, violation_history(db_session, s, check_in))
    db_session.commit()
    return rows


def create_proposal(*, db_session: Session, subject_id: int, proposal_in: ProposalCreate) -> Proposal:
    actor = common.writer(db_session)
    s = common.open_subject(db_session, subject_id)
    kind = sanction_rules.SanctionKind(proposal_in.kind)
    if kind in sanction_rules.REVOCATION_KINDS and kind is not sanction_rules.revocation_kind(s.correction_type):
        raise Conflict(
            f"“{sanction_rules.SANCTION_LABELS[kind]}”不适用于"
            f"{subject_rules.CORRECTION_TYPE_LABELS[subject_rules.CorrectionType(s.correction_type)]}社区矫正对象",
            code="proposal_kind_mismatch")
    rule = sanction_rules.who_decides(kind)
    row = Proposal(subject_id=s.id, kind=kind.value, source="officer", reason=proposal_in.reason,
                   basis=proposal_in.basis or rule.legal_basis, decider=rule.decider.value,
                   status=ProposalStatus.suggested.value,
                   created_by=actor.username)
    db_session.add(row)
    db_session.flush()
    tasks_service.ensure(
        db_session=db_session, key=f"proposal_review:{row.id}", kind="proposal_review",
        title=f"审查提请建议：{sanction_rules.SANCTION_LABELS[kind]}", due_on=clock.today_local(), subject=s,
        assignee_id=None, source_type="proposals", source_id=row.id,
    )
    db_session.commit()
    return row


def proposal_answer_overdue(row: Proposal, today: date | None = None) -> bool:
    return (row.status == ProposalStatus.sent and row.answer_due is not None
            and (today or clock.today_local()) > row.answer_due)


def record_outcome(*, db_session: Session, proposal_id: int, outcome: str, decided_on: date,
                   ruling_number: str | None, note: str | None) -> Proposal:
    """Record the court's (or other organ's) decision on a proposal that was sent."""
    common.writer(db_session)
    row = get_proposal(db_session=db_session, proposal_id=proposal_id)
    s = common.open_subject(db_session, row.subject_id)
    if row.status != ProposalStatus.sent:
        raise Conflict("只能登记已送达的提请建议的决定结果", code="proposal_state")
    on = common.not_future(decided_on, "decided_on")
    if row.sent_on and on < row.sent_on:
        raise InvalidInput("决定日期不能早于送达日期", code="date_order", fields={"decided_on": "早于送达日期"})
    row.status, row.outcome, row.outcome_on, row.outcome_ref, row.outcome_note = \
        ProposalStatus.court_decided.value, outcome, on, ruling_number, note
    tasks_service.close(db_session=db_session, key=f"court_answer:{row.id}", note="已收到决定")
    kind = sanction_rules.SanctionKind(row.kind)
    if outcome == ProposalOutcome.granted and kind in sanction_rules.REVOCATION_KINDS:
        tasks_service.ensure(
            db_session=db_session, key=f"termination_followup:{row.id}", kind="termination_followup",
            title=f"{sanction_rules.DECIDER_LABELS[sanction_rules.Decider(row.decider)]}已决定"
                  f"{sanction_rules.SANCTION_LABELS[kind].removeprefix('提请')}，办理终止矫正并通知有关机关",
            due_on=clock.today_local(), subject=s, source_type="proposals", source_id=row.id,
        )
    db_session.commit()
    return row


def proposal_read(db_session: Session, row: Proposal, sanction_id: int | None = None) -> ProposalRead:
    kind = sanction_rules.SanctionKind(row.kind)
    out = ProposalRead.model_validate(row)
    out.label = sanction_rules.SANCTION_LABELS[kind]
    out.decider_label = sanction_rules.DECIDER_LABELS[sanction_rules.Decider(row.decider)]
    out.answer_overdue = proposal_answer_overdue(row)
    out.documents = common.documents_of(db_session, "proposals", row.id)
    out.sanction_id = sanction_id
    return out


def sanction_read(db_session: Session, row: Sanction, suggestions: list[Proposal] | None = None) -> SanctionRead:
    out = SanctionRead.model_validate(row)
    out.label = sanction_rules.SANCTION_LABELS[sanction_rules.SanctionKind(row.kind)]
    out.documents = common.documents_of(db_session, "sanctions", row.id)
    out.suggestions = [proposal_read(db_session, p) for p in suggestions or []]
    return out
