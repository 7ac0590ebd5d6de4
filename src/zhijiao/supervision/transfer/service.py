"""Change of the place of execution (执行地变更, 社区矫正法 第二十七条; 实施办法 第三十条、
第三十一条): apply, consult the new place (5 days), record its answer, the bureau decides, then the
files are handed over and the subject reports at the new place (7 days)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, InvalidInput
from zhijiao.supervision import common
from zhijiao.supervision.notices import service as notices_service
from zhijiao.supervision.transfer import rules as transfer_rules
from zhijiao.supervision.transfer.models import Transfer, TransferStatus
from zhijiao.supervision.transfer.schemas import TransferAnswerIn, TransferConsultIn, TransferCreate, TransferRead
from zhijiao.tasks import service as tasks_service


def get_transfer(*, db_session: Session, transfer_id: int) -> Transfer:
    common.reader(db_session)
    return common.one(db_session, Transfer, transfer_id, "执行地变更申请不存在或不在您的管辖范围内", "transfer_not_found")


def list_transfers(*, db_session: Session, subject_id: int) -> list[Transfer]:
    common.subject(db_session, subject_id)
    return list(db_session.execute(
        select(Transfer).where(Transfer.subject_id == subject_id).order_by(Transfer.id)).scalars())


IN_PROGRESS = (TransferStatus.applied, TransferStatus.consulting, TransferStatus.answered, TransferStatus.approved)
TRANSFER_LABELS = {TransferStatus.applied: "已申请", TransferStatus.consulting: "征求意见中",
                   TransferStatus.answered: "已回复", TransferStatus.approved: "已批准",
                   TransferStatus.rejected: "未批准", TransferStatus.completed: "已移交"}


def _transfer_state(row: Transfer, *expected: TransferStatus) -> None:
    if row.status not in expected:
        raise Conflict(f"执行地变更当前为“{TRANSFER_LABELS.get(row.status, row.status)}”，不能办理该步骤",
                       code="transfer_state")


def apply_transfer(*, db_session: Session, subject_id: int, transfer_in: TransferCreate) -> Transfer:
    actor = common.writer(db_session)
    s = common.active_subject(db_session, subject_id)
    busy = db_session.execute(select(Transfer.id).where(
        Transfer.subject_id == s.id, Transfer.status.in_(IN_PROGRESS))).first()
    if busy is not None:
        raise Conflict("该对象已有正在办理的执行地变更", code="transfer_in_progress")
    row = Transfer(subject_id=s.id, to_agency=transfer_in.to_agency, to_address=transfer_in.to_address,
                   reason=transfer_in.reason,
                   applied_on=common.not_future(transfer_in.applied_on or clock.today_local(), "applied_on"),
                   status=TransferStatus.applied.value, created_by=actor.username)
    db_session.add(row)
    db_session.commit()
    return row


def consult_transfer(*, db_session: Session, transfer_id: int, consult_in: TransferConsultIn) -> Transfer:
    common.writer(db_session)
    row = get_transfer(db_session=db_session, transfer_id=transfer_id)
    s = common.open_subject(db_session, row.subject_id)
    _transfer_state(row, TransferStatus.applied)
    sent_on = common.not_future(consult_in.sent_on or clock.today_local(), "sent_on")
    row.consult_sent_on, row.status = sent_on, TransferStatus.consulting.value
    row.consult_deadline = transfer_rules.consult_reply_deadline(sent_on)
    tasks_service.ensure(
        db_session=db_session, key=f"transfer_consult:{row.id}", kind="transfer_consult",
        title=f"新执行地（{row.to_agency}）应于{row.consult_deadline.isoformat()}前回复意见",
        due_on=row.consult_deadline, subject=s, source_type="transfers", source_id=row.id,
    )
    db_session.commit()
    return row


def answer_transfer(*, db_session: Session, transfer_id: int, answer_in: TransferAnswerIn) -> Transfer:
    common.writer(db_session)
    row = get_transfer(db_session=db_session, transfer_id=transfer_id)
    common.open_subject(db_session, row.subject_id)
    _transfer_state(row, TransferStatus.consulting)
    answered_on = common.not_future(answer_in.answered_on or clock.today_local(), "answered_on")
    if row.consult_sent_on and answered_on < row.consult_sent_on:
        raise InvalidInput("回复日期不能早于征求意见日期", code="date_order", fields={"answered_on": "早于征求意见"})
    row.answer, row.answered_on, row.status = answer_in.answer, answered_on, TransferStatus.answered.value
    row.note = answer_in.note or row.note
    tasks_service.close(db_session=db_session, key=f"transfer_consult:{row.id}", note="已回复")
    db_session.commit()
    return row


def decide_transfer(*, db_session: Session, transfer_id: int, decision: str, decided_on: date | None,
                    note: str | None) -> Transfer:
    actor = common.decider(db_session)
    row = get_transfer(db_session=db_session, transfer_id=transfer_id)
    common.require_bureau(actor, "执行地变更")
    s = common.open_subject(db_session, row.subject_id)
    _transfer_state(row, TransferStatus.answered, TransferStatus.applied, TransferStatus.consulting)
    if decision == "approve" and row.answer != "agree":
        raise Conflict("新执行地社区矫正机构同意接收后才能批准变更", code="transfer_not_agreed")
    on = common.not_future(decided_on or clock.today_local(), "decided_on")
    row.decision, row.decided_on, row.decided_by = decision, on, actor.username
    row.note = note or row.note
    tasks_service.close(db_session=db_session, key=f"transfer_consult:{row.id}", status="cancelled", note="已决定")
    if decision == "reject":
        row.status = TransferStatus.rejected.value
    else:
        row.status = TransferStatus.approved.value
        row.report_deadline = transfer_rules.new_place_report_deadline(on)
        row.handover_deadline = transfer_rules.handover_deadline(on)
        notices_service.record_notifications(db_session, s, "transfer", row.id, transfer_rules.transfer_notifications())
        tasks_service.ensure(
            db_session=db_session, key=f"transfer_handover:{row.id}", kind="transfer_handover",
            title=f"向{row.to_agency}移交档案材料", due_on=row.handover_deadline, subject=s,
            source_type="transfers", source_id=row.id,
        )
        tasks_service.ensure(
            db_session=db_session, key=f"transfer_report:{row.id}", kind="transfer_report",
            title=f"核实对象于{row.report_deadline.isoformat()}前到新执行地报到", due_on=row.report_deadline,
            subject=s, source_type="transfers", source_id=row.id,
        )
    db_session.commit()
    return row


def hand_over_transfer(*, db_session: Session, transfer_id: int, handed_over_on: date | None,
                       reported_on: date | None, note: str | None) -> Transfer:
    common.writer(db_session)
    row = get_transfer(db_session=db_session, transfer_id=transfer_id)
    common.open_subject(db_session, row.subject_id)
    _transfer_state(row, TransferStatus.approved)
    row.handed_over_on = common.not_future(handed_over_on or clock.today_local(), "handed_over_on")
    tasks_service.close(db_session=db_session, key=f"transfer_handover:{row.id}", note="已移交")
    if reported_on is not None:
        row.new_place_reported_on = common.not_future(reported_on, "new_place_reported_on")
        tasks_service.close(db_session=db_session, key=f"transfer_report:{row.id}", note="已在新执行地报到")
        row.status = TransferStatus.completed.value
    row.note = note or row.note
    db_session.commit()
    return row


def transfer_read(db_session: Session, row: Transfer) -> TransferRead:
    out = TransferRead.model_validate(row)
    out.consult_overdue = row.status == TransferStatus.consulting and row.consult_sent_on is not None and \
        transfer_rules.is_consult_reply_overdue(row.consult_sent_on)
    out.notifications = [notices_service.notification_read(n) for n in notices_service.list_notifications(
        db_session=db_session, subject_id=row.subject_id, event="transfer", source_id=row.id)]
    return out
