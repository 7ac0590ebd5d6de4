"""Screens of the change of the place of execution (执行地变更, 社区矫正法 第二十七条)."""

from __future__ import annotations

from nicegui import ui
from sqlalchemy.orm import Session

from zhijiao.security.permissions import Perm, sees_every_office
from zhijiao.supervision import forms
from zhijiao.supervision.transfer import service
from zhijiao.supervision.transfer.models import TransferStatus
from zhijiao.supervision.transfer.schemas import TransferAnswerIn, TransferConsultIn, TransferCreate
from zhijiao.ui import session
from zhijiao.ui.layout import section
from zhijiao.ui.session import PageContext

TRANSFER_STATES = {TransferStatus.applied: "已申请，待征求新执行地意见", TransferStatus.consulting: "已征求意见，待回复",
                   TransferStatus.answered: "新执行地已回复，待区局决定", TransferStatus.approved: "已批准，待移交档案",
                   TransferStatus.rejected: "不予变更", TransferStatus.completed: "已移交"}


def transfers_card(ctx: PageContext, subject_id: int) -> None:
    rows = service.list_transfers(db_session=ctx.db, subject_id=subject_id)
    if not rows:
        return
    write, bureau = ctx.can(Perm.subjects_write), sees_every_office(ctx.actor)
    with ui.card().classes("zj-card min-w-[320px] p-4 gap-2").mark("transfers"):
        section("执行地变更")
        for row in rows:
            item = service.transfer_read(ctx.db, row)
            ui.label(f"迁往 {item.to_agency}（{item.to_address}）").classes("text-sm font-medium")
            state = TRANSFER_STATES.get(item.status, item.status)
            if item.consult_deadline and item.status == TransferStatus.consulting:
                state += f"（答复期限 {item.consult_deadline.isoformat()}{'，已逾期' if item.consult_overdue else ''}）"
            ui.label(state).classes("text-xs text-grey-7").mark(f"transfer-state-{item.id}")
            steps: list[tuple[str, str, object]] = []
            if write and item.status == TransferStatus.applied:
                steps.append(("征求意见", "consult", lambda db, i=item.id: service.consult_transfer(
                    db_session=db, transfer_id=i, consult_in=TransferConsultIn())))
            if write and item.status == TransferStatus.consulting:
                for answer, label in (("agree", "新执行地同意"), ("disagree", "新执行地不同意")):
                    steps.append((label, answer, lambda db, i=item.id, a=answer: service.answer_transfer(
                        db_session=db, transfer_id=i, answer_in=TransferAnswerIn(answer=a))))
            if bureau and item.status == TransferStatus.answered:
                for decision, label in (("approve", "批准变更"), ("reject", "不予变更")):
                    steps.append((label, decision, lambda db, i=item.id, d=decision: service.decide_transfer(
                        db_session=db, transfer_id=i, decision=d, decided_on=None, note=None)))
            if write and item.status == TransferStatus.approved:
                steps.append(("移交完成", "handover", lambda db, i=item.id: service.hand_over_transfer(
                    db_session=db, transfer_id=i, handed_over_on=None, reported_on=None, note=None)))
            with ui.row().classes("gap-2"):
                for label, key, call in steps:
                    ui.button(label, on_click=lambda c=call, lb=label: _transfer_step(c, lb)).props(
                        "dense outline color=primary").mark(f"transfer-{key}-{item.id}")


@session.action
def _transfer_step(db: Session, call, label: str) -> None:
    call(db)
    ui.notify(f"已{label}", type="positive", position="top")
    ui.navigate.reload()


def transfer_dialog(subject_id: int) -> None:
    def build():
        agency = ui.input("新执行地社区矫正机构").props("outlined dense").classes("w-full").mark("transfer-agency")
        address = ui.input("新居住地址").props("outlined dense").classes("w-full").mark("transfer-address")
        reason = ui.textarea("变更理由").props("outlined dense autogrow").classes("w-full").mark("transfer-reason")
        return lambda: {"to_agency": agency.value or "", "to_address": address.value or "",
                        "reason": reason.value or ""}

    def save(db: Session, data: dict) -> str:
        service.apply_transfer(db_session=db, subject_id=subject_id, transfer_in=TransferCreate(**data))
        return "已登记执行地变更申请，请征求新执行地意见"

    forms.form("执行地变更（社区矫正法第二十七条）", "提交", "transfer", build, save)
