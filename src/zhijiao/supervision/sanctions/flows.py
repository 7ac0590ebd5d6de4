"""Decisions on rewards, punishments and proposals (社区矫正法 第二十八条、第四十六条至第四十九条):
each checks who decides first, then writes the record, its documents (训诫/警告决定书, 撤销缓刑建议书)
and its tasks, and evaluates escalation again, in one unit of work."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, Forbidden, InvalidInput
from zhijiao.documents import service as documents_service
from zhijiao.security.actor import Actor
from zhijiao.security.permissions import sees_every_office
from zhijiao.subjects.models import Subject
from zhijiao.supervision import common
from zhijiao.supervision.sanctions import rules as sanction_rules
from zhijiao.supervision.sanctions import service
from zhijiao.supervision.sanctions.models import Proposal, ProposalStatus, Sanction, SanctionStatus
from zhijiao.supervision.sanctions.schemas import DecisionIn, ProposalDecisionIn, ProposalSendIn, SanctionCreate
from zhijiao.tasks import service as tasks_service


def _decided_externally(kind: sanction_rules.SanctionKind) -> Conflict:
    rule = sanction_rules.who_decides(kind)
    return Conflict(
        f"“{sanction_rules.SANCTION_LABELS[kind].removeprefix('提请')}”由{rule.decider_label}依法决定，"
        f"社区矫正机构只能提请；请提出提请建议，送达后登记{rule.decider_label}的决定",
        code="decided_externally",
    )


def record_sanction(*, db_session: Session, subject_id: int, sanction_in: SanctionCreate
                    ) -> tuple[Sanction, list[Proposal]]:
    """表扬、训诫、警告: the bureau decides at once; a 司法所 officer's record waits for the bureau."""
    actor = common.decider(db_session)
    kind = sanction_rules.SanctionKind(sanction_in.kind)
    s = common.open_subject(db_session, subject_id)
    rule = sanction_rules.who_decides(kind)
    if rule.proposal_only:
        raise _decided_externally(kind)
    if sanction_in.occurred_on is not None:
        common.not_future(sanction_in.occurred_on, "occurred_on")
    row = Sanction(subject_id=s.id, kind=kind.value, reason=sanction_in.reason,
                   basis=sanction_in.basis or rule.legal_basis, occurred_on=sanction_in.occurred_on,
                   proposed_by_id=actor.staff_id, proposed_by=actor.username, status=SanctionStatus.pending.value)
    db_session.add(row)
    db_session.flush()
    suggestions = _settle_new_sanction(db_session, s, row, actor)
    db_session.commit()
    return row, suggestions


def _settle_new_sanction(db_session: Session, s: Subject, row: Sanction, actor: Actor) -> list[Proposal]:
    if sees_every_office(actor):
        return _finish_sanction(db_session, s, row, actor)
    tasks_service.ensure(
        db_session=db_session, key=f"sanction_decision:{row.id}", kind="sanction_decision",
        title=f"审批司法所提请的{sanction_rules.SANCTION_LABELS[sanction_rules.SanctionKind(row.kind)]}",
        due_on=clock.today_local() + timedelta(days=service.SANCTION_DECISION_DAYS), subject=s, assignee_id=None,
        source_type="sanctions", source_id=row.id,
    )
    # The bureau's list, not the office officer's: the assignee stays empty.
    return []


def _finish_sanction(db_session: Session, s: Subject, row: Sanction, actor: Actor) -> list[Proposal]:
    row.status = SanctionStatus.decided.value
    row.decided_by_id, row.decided_by, row.decided_at = actor.staff_id, actor.username, clock.now()
    db_session.flush()
    kind = sanction_rules.SanctionKind(row.kind)
    if kind in (sanction_rules.SanctionKind.admonition, sanction_rules.SanctionKind.warning):
        extra: dict[str, Any] = {"reason": row.reason}
        if row.basis != sanction_rules.LEGAL_BASIS[kind]:
            extra["basis"] = row.basis
        if kind is sanction_rules.SanctionKind.warning:
            extra["prior_sanctions"] = _prior_sentences(db_session, s, row.id)
        documents_service.generate(db_session=db_session, kind=f"{kind.value}_decision", subject=s,
                                   source_type="sanctions", source_id=row.id, extra=extra)
    return service.store_suggestions(db_session, s, service.violation_history(db_session, s))


def _prior_sentences(db_session: Session, s: Subject, exclude_id: int | None = None) -> list[str]:
    out = []
    for r in service.decided_sanctions(db_session, s.id):
        if r.id == exclude_id or r.kind == sanction_rules.SanctionKind.commendation or r.decided_at is None:
            continue
        label = sanction_rules.SANCTION_LABELS[sanction_rules.SanctionKind(r.kind)]
        out.append(f"{common.local_date(r.decided_at).isoformat()}因{r.reason.rstrip('。')}受到{label}")
    return out


def decide_sanction(*, db_session: Session, sanction_id: int, decision_in: DecisionIn
                    ) -> tuple[Sanction, list[Proposal]]:
    actor = common.decider(db_session)
    row = service.get_sanction(db_session=db_session, sanction_id=sanction_id)
    common.require_bureau(actor, "表扬、训诫、警告")
    s = common.open_subject(db_session, row.subject_id)
    if row.status != SanctionStatus.pending:
        raise Conflict("该奖惩已处理", code="sanction_state")
    if row.proposed_by_id is not None and row.proposed_by_id == actor.staff_id:
        raise Forbidden("不能审批本人提出的奖惩", code="self_approval")
    if decision_in.decision == "reject" and not decision_in.note:
        raise InvalidInput("不批准须说明理由", code="reason_required", fields={"note": "必填"})
    tasks_service.close(db_session=db_session, key=f"sanction_decision:{row.id}", note="已审批")
    suggestions: list[Proposal] = []
    if decision_in.decision == "reject":
        row.status = SanctionStatus.rejected.value
        row.decided_by_id, row.decided_by, row.decided_at = actor.staff_id, actor.username, clock.now()
    else:
        suggestions = _finish_sanction(db_session, s, row, actor)
    row.decision_note = decision_in.note
    db_session.commit()
    return row, suggestions


def decide_proposal(*, db_session: Session, proposal_id: int, decision_in: ProposalDecisionIn
                    ) -> tuple[Proposal, Sanction | None]:
    actor = common.decider(db_session)
    row = service.get_proposal(db_session=db_session, proposal_id=proposal_id)
    kind = sanction_rules.SanctionKind(row.kind)
    rule = sanction_rules.who_decides(kind)
    if decision_in.decision in ("grant", "deny"):
        if rule.proposal_only:
            raise _decided_externally(kind)  # e.g. revoking probation: only the court (Law Art. 46)
        raise InvalidInput("请选择 accept（采纳）或 reject（不采纳）", code="invalid_decision",
                           fields={"decision": "取值不合法"})
    if rule.proposal_only:
        common.require_bureau(actor, "提请事项")
    s = common.open_subject(db_session, row.subject_id)
    if row.status != ProposalStatus.suggested:
        raise Conflict("该建议已处理", code="proposal_state")
    if rule.proposal_only and row.source == "officer" and row.created_by == actor.username:
        raise Forbidden("不能审批本人提出的提请建议", code="self_approval")
    if decision_in.decision == "reject" and not decision_in.note:
        raise InvalidInput("不采纳建议须说明理由", code="reason_required", fields={"note": "必填"})
    tasks_service.close(db_session=db_session, key=f"proposal_review:{row.id}", note="已处理")
    row.decided_by, row.decided_at, row.decision_note = actor.username, clock.now(), decision_in.note
    sanction = None
    if decision_in.decision == "reject":
        row.status = ProposalStatus.rejected.value
    elif rule.proposal_only:
        row.status = ProposalStatus.accepted.value
        db_session.flush()
        if kind is sanction_rules.SanctionKind.revoke_probation:
            bureau_name = documents_service.bureau_of(db_session, s).name
            documents_service.generate(
                db_session=db_session, kind="revocation_proposal", subject=s, source_type="proposals",
                source_id=row.id, extra={"reason": row.reason, "procuratorate": common.procuratorate_of(bureau_name),
                                         "court": s.deciding_organ,
                                         "prior_sanctions": _prior_sentences(db_session, s)},
            )
    else:  # an escalation to a 训诫 or 警告: the bureau's own measure
        row.status = ProposalStatus.accepted.value
        sanction = Sanction(subject_id=s.id, kind=kind.value, reason=row.reason, basis=row.basis,
                            proposed_by_id=actor.staff_id, proposed_by=actor.username,
                            status=SanctionStatus.pending.value,
                            proposal_id=row.id)
        db_session.add(sanction)
        db_session.flush()
        _settle_new_sanction(db_session, s, sanction, actor)
    db_session.commit()
    return row, sanction


def send_proposal(*, db_session: Session, proposal_id: int, send_in: ProposalSendIn) -> Proposal:
    actor = common.decider(db_session)
    row = service.get_proposal(db_session=db_session, proposal_id=proposal_id)
    common.require_bureau(actor, "提请")
    s = common.open_subject(db_session, row.subject_id)
    kind = sanction_rules.SanctionKind(row.kind)
    rule = sanction_rules.who_decides(kind)
    if not rule.proposal_only:
        raise Conflict("训诫、警告由区司法局决定，无需送达", code="proposal_state")
    if row.status != ProposalStatus.accepted:
        raise Conflict("只能送达已采纳的提请建议", code="proposal_state")
    sent_on = common.not_future(send_in.sent_on or clock.today_local(), "sent_on")
    row.status, row.sent_on = ProposalStatus.sent.value, sent_on
    default = s.deciding_organ if rule.decider in (sanction_rules.Decider.court,
                                                   sanction_rules.Decider.deciding_organ) else "执行地公安机关"
    row.recipient = send_in.recipient or default
    row.decision_note = send_in.note or row.decision_note
    if rule.decision_days is not None:
        row.answer_due = sanction_rules.court_deadline(sent_on, kind)
        tasks_service.ensure(
            db_session=db_session, key=f"court_answer:{row.id}", kind="court_answer",
            title=f"{row.recipient}应于{row.answer_due.isoformat()}前作出决定（{sanction_rules.SANCTION_LABELS[kind]}）",
            due_on=row.answer_due, subject=s, source_type="proposals", source_id=row.id,
        )
    row.decided_by = row.decided_by or actor.username
    db_session.commit()
    return row
