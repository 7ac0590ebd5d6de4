"""Screens of rewards and punishments (奖惩, 社区矫正法 第二十八条) and the proposals to other organs:
the bureau decides a warning, a court a revocation; the service enforces who decides what."""

from __future__ import annotations

from nicegui import ui
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.org import service as org_service
from zhijiao.security.permissions import sees_every_office
from zhijiao.supervision import forms
from zhijiao.supervision.sanctions import flows, service
from zhijiao.supervision.sanctions import rules as sanction_rules
from zhijiao.supervision.sanctions.models import ProposalStatus, SanctionStatus
from zhijiao.supervision.sanctions.schemas import (
    DecisionIn,
    EscalationCheckIn,
    ProposalDecisionIn,
    ProposalSendIn,
    SanctionCreate,
)
from zhijiao.ui import session
from zhijiao.ui.components.date_input import date_input
from zhijiao.ui.layout import section
from zhijiao.ui.session import PageContext

# What an office or the bureau records here (the rest are proposals to other bodies, Art. 28).
SANCTION_KINDS = {k.value: sanction_rules.SANCTION_LABELS[k] for k in (
    sanction_rules.SanctionKind.commendation, sanction_rules.SanctionKind.admonition,
    sanction_rules.SanctionKind.warning)}


def sanction_dialog(subject_id: int) -> None:
    def build():
        kind = ui.select(SANCTION_KINDS, value="admonition", label="类别").props("outlined dense").classes(
            "w-full").mark("sanction-kind")
        reason = ui.textarea("事实与理由").props("outlined dense autogrow").classes("w-full").mark("sanction-reason")
        return lambda: {"kind": kind.value, "reason": reason.value or ""}

    def save(db: Session, data: dict) -> str:
        row, _suggestions = flows.record_sanction(db_session=db, subject_id=subject_id,
                                                  sanction_in=SanctionCreate(**data))
        label = SANCTION_KINDS.get(row.kind, row.kind)
        return f"已决定{label}，文书已生成" if row.status == SanctionStatus.decided else f"已提请区司法局审批{label}"

    forms.form("奖惩（社区矫正法第二十八条）", "提交", "sanction", build, save)


def escalation_dialog(subject_id: int) -> None:
    """Verified facts (脱管 days, a penalty without change) → the escalation rules propose."""
    def build():
        since = date_input("脱管起始日期（经核实）").mark("escalation-from")
        until = date_input("脱管结束日期（仍未归案留空）").mark("escalation-until")
        penalty = ui.checkbox("受到治安管理处罚仍不改正").mark("escalation-penalty")
        return lambda: {"absconded_from": since.value or None, "absconded_until": until.value or None,
                        "police_penalty_unreformed": penalty.value}

    def save(db: Session, data: dict) -> str:
        created = service.evaluate_escalation(db_session=db, subject_id=subject_id,
                                              check_in=EscalationCheckIn(**data))
        return f"已生成 {len(created)} 项建议" if created else "未达到升级条件"

    forms.form("脱管等情形核实（按升级规则生成建议）", "核实并评估", "escalation", build, save)


PROPOSAL_ACTIONS = {ProposalStatus.suggested: "待决定是否提请", ProposalStatus.accepted: "已决定提请，待送达",
                    ProposalStatus.sent: "已送达，待决定机关答复", ProposalStatus.rejected: "不予提请"}


def proposals_card(ctx: PageContext, subject_id: int) -> None:
    rows = service.list_proposals(db_session=ctx.db, subject_id=subject_id)
    if not rows:
        return
    bureau = sees_every_office(ctx.actor)
    with ui.card().classes("zj-card min-w-[320px] p-4 gap-2").mark("proposals"):
        section("提请建议")
        for row in rows:
            item = service.proposal_read(ctx.db, row)
            ui.label(f"{item.label or item.kind}：{item.reason}").classes("text-sm font-medium")
            state = PROPOSAL_ACTIONS.get(item.status, item.status)
            if item.answer_due:
                state += f"（答复期限 {item.answer_due.isoformat()}{'，已逾期' if item.answer_overdue else ''}）"
            ui.label(state).classes("text-xs text-grey-7")
            if not bureau:
                continue
            with ui.row().classes("gap-2"):
                if item.status == ProposalStatus.suggested:
                    ui.button("采纳并提请", on_click=lambda i=item.id: _proposal(i, "accept")).props(
                        "dense unelevated color=primary").mark(f"proposal-accept-{item.id}")
                    ui.button("不予提请", on_click=lambda i=item.id: _proposal(i, "reject")).props(
                        "dense outline color=grey-8").mark(f"proposal-reject-{item.id}")
                elif item.status == ProposalStatus.accepted and item.decider != sanction_rules.Decider.bureau:
                    ui.button("登记送达", on_click=lambda i=item.id: _send(i)).props(
                        "dense unelevated color=primary").mark(f"proposal-send-{item.id}")
                elif item.status == ProposalStatus.sent:
                    for outcome, label in (("granted", "决定机关批准"), ("denied", "决定机关驳回")):
                        ui.button(label, on_click=lambda i=item.id, o=outcome: _outcome(i, o)).props(
                            "dense outline color=primary").mark(f"proposal-{outcome}-{item.id}")


def pending_sanctions_card(ctx: PageContext, subject_id: int) -> None:
    """The 司法所's records waiting for the bureau; the bureau approves them here (Art. 28)."""
    pending = [r for r in service.list_sanctions(db_session=ctx.db, subject_id=subject_id)
               if r.status == SanctionStatus.pending]
    if not pending:
        return
    with ui.card().classes("zj-card min-w-[320px] p-4 gap-3").mark("pending-sanctions"):
        section("待区司法局审批的奖惩")
        bureau = sees_every_office(ctx.actor)
        for row in pending:
            kind = sanction_rules.SANCTION_LABELS[sanction_rules.SanctionKind(row.kind)]
            ui.label(f"{kind}：{row.reason}").classes("text-sm")
            proposer = org_service.name_of(db_session=ctx.db, username=row.proposed_by)
            ui.label(f"司法所提请人：{proposer}").classes("text-xs text-grey-7")
            if bureau:
                with ui.row().classes("gap-2"):
                    ui.button("批准", on_click=lambda r=row.id: _decide_sanction(r, "approve")).props(
                        "unelevated dense color=positive").mark(f"sanction-approve-{row.id}")
                    ui.button("不批准", on_click=lambda r=row.id: _decide_sanction(r, "reject")).props(
                        "outline dense color=negative").mark(f"sanction-reject-{row.id}")


@session.action
def _proposal(db: Session, proposal_id: int, decision: str) -> None:
    flows.decide_proposal(db_session=db, proposal_id=proposal_id,
                          decision_in=ProposalDecisionIn(decision=decision))  # type: ignore[arg-type]
    ui.notify("已采纳" if decision == "accept" else "已决定不予提请", type="positive", position="top")
    ui.navigate.reload()


@session.action
def _send(db: Session, proposal_id: int) -> None:
    row = flows.send_proposal(db_session=db, proposal_id=proposal_id, send_in=ProposalSendIn())
    ui.notify(f"已登记送达{row.recipient or ''}，三十日内应作出决定", type="positive", position="top")
    ui.navigate.reload()


@session.action
def _outcome(db: Session, proposal_id: int, outcome: str) -> None:
    service.record_outcome(db_session=db, proposal_id=proposal_id, outcome=outcome, decided_on=clock.today_local(),
                           ruling_number=None, note=None)
    ui.notify("已登记决定机关的决定", type="positive", position="top")
    ui.navigate.reload()


@session.action
def _decide_sanction(db: Session, sanction_id: int, decision: str) -> None:
    row, _suggestions = flows.decide_sanction(db_session=db, sanction_id=sanction_id,
                                              decision_in=DecisionIn(decision=decision))  # type: ignore[arg-type]
    ui.notify("已批准，文书已生成" if row.status == SanctionStatus.decided else "已不予批准", type="positive", position="top")
    ui.navigate.reload()
