"""Screens of the supervision workflows: leave (外出请假) and its approval, rewards and
punishments (奖惩), the task list (待办任务), the file's timeline with its documents (文书).

Every action calls the service layer with the page's actor-bound session; the service enforces
the law (who may approve what, Art. 27; who decides a warning, Art. 28) and its refusals come
back as Chinese notifications.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from nicegui import ui
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from zhijiao.api.errors import translate
from zhijiao.core import clock
from zhijiao.core.errors import DomainError
from zhijiao.documents import service as documents_service
from zhijiao.security.permissions import Perm
from zhijiao.subjects.schemas import SubjectRead
from zhijiao.supervision import flows, service, views
from zhijiao.supervision import sanctions as sanction_rules
from zhijiao.supervision.schemas import (
    AnnouncementCreate,
    AssessmentCreate,
    AssessmentFindings,
    DecisionIn,
    EscalationCheckIn,
    LeaveCreate,
    LeaveDecisionIn,
    LevelDecisionIn,
    LevelReviewCreate,
    MonthlyAssessmentCreate,
    PlanCreate,
    PlanReviewCreate,
    ProposalDecisionIn,
    ProposalSendIn,
    ReceptionIn,
    RecordIn,
    SanctionCreate,
    TeamIn,
    TerminationIn,
    TransferAnswerIn,
    TransferConsultIn,
    TransferCreate,
)
from zhijiao.tasks import service as tasks_service
from zhijiao.ui import labels, menu, session
from zhijiao.ui.components.date_input import date_input
from zhijiao.ui.layout import error_notice, frame, section
from zhijiao.ui.session import PageContext, protected_page

# What an office or the bureau records here (the rest are proposals to other bodies, Art. 28).
SANCTION_KINDS = {k.value: sanction_rules.SANCTION_LABELS[k] for k in (
    sanction_rules.SanctionKind.commendation, sanction_rules.SanctionKind.admonition,
    sanction_rules.SanctionKind.warning)}


def _invalid(exc: ValidationError) -> None:
    fields, _ = translate(exc.errors())
    ui.notify("请检查填写内容：" + "；".join(f"{k}：{v}" for k, v in fields.items()), type="warning", position="top",
              multi_line=True)


# --- on the subject page ----------------------------------------------------------------------------


def subject_sections(ctx: PageContext, s: SubjectRead, ended: bool) -> None:
    """The workflow actions for one subject and the file's full timeline with its documents."""
    with ui.row().classes("w-full gap-3 items-stretch no-wrap max-lg:flex-wrap"):
        if ctx.can(Perm.subjects_write) and not ended:
            with ui.card().classes("zj-card min-w-[260px] p-4 gap-3").mark("workflow-actions"):
                section("监管事务")
                ui.button("外出请假", icon="luggage", on_click=lambda: leave_dialog(s.id)).props(
                    "outline color=primary").classes("w-full").mark("open-leave")
                ui.button("奖惩", icon="gavel", on_click=lambda: sanction_dialog(s.id)).props(
                    "outline color=primary").classes("w-full").mark("open-sanction")
                ui.button("日常监管记录", icon="edit_note", on_click=lambda: record_dialog(s.id)).props(
                    "outline color=primary").classes("w-full").mark("open-record")
                ui.button("管理等级评定", icon="tune", on_click=lambda: level_dialog(s.id)).props(
                    "outline color=primary").classes("w-full").mark("open-level")
                ui.button("矫正小组", icon="groups", on_click=lambda: team_dialog(s.id)).props(
                    "outline color=primary").classes("w-full").mark("open-team")
                ui.button("月度考核", icon="fact_check", on_click=lambda: month_dialog(s.id)).props(
                    "outline color=primary").classes("w-full").mark("open-month")
                if s.status in ("pending_reception", "reported"):
                    ui.button("交付接收登记", icon="inventory", on_click=lambda: reception_dialog(s.id)).props(
                        "outline color=primary").classes("w-full").mark("open-reception")
                if s.status == "reported":
                    ui.button("入矫宣告", icon="campaign", on_click=lambda: announce_dialog(s.id, "entry")).props(
                        "outline color=primary").classes("w-full").mark("open-entry")
                if s.status == "under_correction":
                    ui.button("矫正方案", icon="assignment", on_click=lambda: plan_dialog(s.id)).props(
                        "outline color=primary").classes("w-full").mark("open-plan")
                    ui.button("执行地变更", icon="moving", on_click=lambda: transfer_dialog(s.id)).props(
                        "outline color=primary").classes("w-full").mark("open-transfer")
                    ui.button("解矫宣告", icon="task_alt", on_click=lambda: announce_dialog(s.id, "release")).props(
                        "outline color=primary").classes("w-full").mark("open-release")
                    ui.button("脱管等情形核实", icon="report", on_click=lambda: escalation_dialog(s.id)).props(
                        "outline color=primary").classes("w-full").mark("open-escalation")
                    if service.is_bureau(ctx.actor):
                        ui.button("终止矫正", icon="block", on_click=lambda: termination_dialog(s.id)).props(
                            "outline color=negative").classes("w-full").mark("open-termination")
        if ctx.can(Perm.subjects_read):
            with ui.card().classes("zj-card min-w-[200px] p-4 gap-3"):
                section("档案")
                ui.link("导出执行档案（zip，将被审计）", f"/subjects/{s.id}/archive.zip", new_tab=True).mark(
                    "archive-export")
        pending = [r for r in service.list_sanctions(db_session=ctx.db, subject_id=s.id) if r.status == "pending"]
        if pending:
            with ui.card().classes("zj-card min-w-[320px] p-4 gap-3").mark("pending-sanctions"):
                section("待区司法局审批的奖惩")
                bureau = service.is_bureau(ctx.actor)
                for row in pending:
                    kind = sanction_rules.SANCTION_LABELS[sanction_rules.SanctionKind(row.kind)]
                    ui.label(f"{kind}：{row.reason}").classes("text-sm")
                    ui.label(f"司法所提请人：{row.proposed_by}").classes("text-xs text-grey-7")
                    if bureau:
                        with ui.row().classes("gap-2"):
                            ui.button("批准", on_click=lambda r=row.id: _decide_sanction(r, "approve")).props(
                                "unelevated dense color=positive").mark(f"sanction-approve-{row.id}")
                            ui.button("不批准", on_click=lambda r=row.id: _decide_sanction(r, "reject")).props(
                                "outline dense color=negative").mark(f"sanction-reject-{row.id}")
    with ui.row().classes("w-full gap-3 items-stretch no-wrap max-lg:flex-wrap"):
        _leaves_card(ctx, s.id, ended)
        _proposals_card(ctx, s.id)
        _transfers_card(ctx, s.id)
        _plans_card(ctx, s.id, ended)
        _notifications_card(ctx, s.id)
        with ui.card().classes("zj-card flex-1 min-w-[320px] p-4 gap-3"):
            section("档案时间线（事件与文书）")
            _file_timeline(ctx.db, s.id)


def _leaves_card(ctx: PageContext, subject_id: int, ended: bool) -> None:
    rows = service.list_leaves(db_session=ctx.db, subject_id=subject_id)
    if not rows:
        return
    with ui.card().classes("zj-card min-w-[300px] p-4 gap-2").mark("leaves"):
        section("外出记录")
        for row in rows[-5:]:
            item = views.leave(ctx.db, row)
            with ui.row().classes("items-center gap-2"):
                ui.label(f"{item.start.isoformat()}–{item.end.isoformat()} {item.destination}").classes("text-sm")
                ui.badge(item.status_label).props("outline")
                if item.status in ("approved", "overdue") and not ended and ctx.can(Perm.subjects_write):
                    ui.button("销假", on_click=lambda i=item.id: _return(i)).props("dense flat color=primary").mark(
                        f"leave-return-{item.id}")


def _plans_card(ctx: PageContext, subject_id: int, ended: bool) -> None:
    plans = service.list_plans(db_session=ctx.db, subject_id=subject_id)
    if not plans:
        return
    current = plans[-1]
    with ui.card().classes("zj-card min-w-[300px] p-4 gap-2").mark("plan"):
        section(f"矫正方案（第 {current.version} 版）")
        ui.label(f"目标：{current.goals}").classes("text-sm")
        ui.label(f"措施：{current.measures}").classes("text-sm")
        due = current.next_review_on
        ui.label(f"下次复查：{due.isoformat()}" + ("（已到期）" if due <= clock.today_local() else "")).classes(
            "text-xs text-grey-7")
        if not ended and ctx.can(Perm.subjects_write):
            ui.button("复查方案", on_click=lambda: plan_review_dialog(current.id)).props(
                "dense outline color=primary").mark(f"plan-review-{current.id}")


def plan_review_dialog(plan_id: int) -> None:
    def build():
        findings = ui.textarea("复查情况").props("outlined dense autogrow").classes("w-full").mark("review-findings")
        adjustments = ui.textarea("调整内容（无则留空）").props("outlined dense autogrow").classes("w-full")
        return lambda: {"findings": findings.value or "", "adjustments": adjustments.value or None}

    def save(db: Session, data: dict) -> str:
        plan = service.review_plan(db_session=db, plan_id=plan_id, review_in=PlanReviewCreate(**data))
        return f"已复查，下次复查 {plan.next_review_on.isoformat()}"

    _form("复查矫正方案（社区矫正法第二十四条）", "保存", "review", build, save)


def _notifications_card(ctx: PageContext, subject_id: int) -> None:
    rows = [views.notification(n) for n in service.list_notifications(db_session=ctx.db, subject_id=subject_id)]
    if not rows:
        return
    with ui.card().classes("zj-card min-w-[320px] p-4 gap-2").mark("notifications"):
        section("依法应通知事项")
        for n in rows:
            ui.label(f"{n.action}（{n.legal_basis}）").classes("text-sm")
            if n.status == "pending" and ctx.can(Perm.subjects_write):
                ui.button("已办结", on_click=lambda i=n.id: _notification_done(i)).props(
                    "dense flat color=primary").mark(f"notification-done-{n.id}")
            else:
                ui.label(f"已办结 {n.done_on.isoformat() if n.done_on else ''}").classes("text-xs text-grey-7")


@session.action
def _notification_done(db: Session, notification_id: int) -> None:
    service.notification_done(db_session=db, notification_id=notification_id, done_on=None, note=None)
    ui.notify("已办结", type="positive", position="top")
    ui.navigate.reload()


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

    _form("脱管等情形核实（按升级规则生成建议）", "核实并评估", "escalation", build, save)


TRANSFER_STATES = {"applied": "已申请，待征求新执行地意见", "consulting": "已征求意见，待回复", "answered": "新执行地已回复，待区局决定",
                   "approved": "已批准，待移交档案", "rejected": "不予变更", "completed": "已移交"}


def _transfers_card(ctx: PageContext, subject_id: int) -> None:
    rows = service.list_transfers(db_session=ctx.db, subject_id=subject_id)
    if not rows:
        return
    write, bureau = ctx.can(Perm.subjects_write), service.is_bureau(ctx.actor)
    with ui.card().classes("zj-card min-w-[320px] p-4 gap-2").mark("transfers"):
        section("执行地变更")
        for row in rows:
            item = views.transfer(ctx.db, row)
            ui.label(f"迁往 {item.to_agency}（{item.to_address}）").classes("text-sm font-medium")
            state = TRANSFER_STATES.get(item.status, item.status)
            if item.consult_deadline and item.status == "consulting":
                state += f"（答复期限 {item.consult_deadline.isoformat()}{'，已逾期' if item.consult_overdue else ''}）"
            ui.label(state).classes("text-xs text-grey-7").mark(f"transfer-state-{item.id}")
            steps: list[tuple[str, str, object]] = []
            if write and item.status == "applied":
                steps.append(("征求意见", "consult", lambda db, i=item.id: service.consult_transfer(
                    db_session=db, transfer_id=i, consult_in=TransferConsultIn())))
            if write and item.status == "consulting":
                for answer, label in (("agree", "新执行地同意"), ("disagree", "新执行地不同意")):
                    steps.append((label, answer, lambda db, i=item.id, a=answer: service.answer_transfer(
                        db_session=db, transfer_id=i, answer_in=TransferAnswerIn(answer=a))))
            if bureau and item.status == "answered":
                for decision, label in (("approve", "批准变更"), ("reject", "不予变更")):
                    steps.append((label, decision, lambda db, i=item.id, d=decision: service.decide_transfer(
                        db_session=db, transfer_id=i, decision=d, decided_on=None, note=None)))
            if write and item.status == "approved":
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


PROPOSAL_ACTIONS = {"suggested": "待决定是否提请", "accepted": "已决定提请，待送达", "sent": "已送达，待决定机关答复",
                    "rejected": "不予提请", "answered": "已答复"}


def _proposals_card(ctx: PageContext, subject_id: int) -> None:
    rows = service.list_proposals(db_session=ctx.db, subject_id=subject_id)
    if not rows:
        return
    bureau = service.is_bureau(ctx.actor)
    with ui.card().classes("zj-card min-w-[320px] p-4 gap-2").mark("proposals"):
        section("提请建议")
        for row in rows:
            item = views.proposal(ctx.db, row)
            ui.label(f"{item.label or item.kind}：{item.reason}").classes("text-sm font-medium")
            state = PROPOSAL_ACTIONS.get(item.status, item.status)
            if item.answer_due:
                state += f"（答复期限 {item.answer_due.isoformat()}{'，已逾期' if item.answer_overdue else ''}）"
            ui.label(state).classes("text-xs text-grey-7")
            if not bureau:
                continue
            with ui.row().classes("gap-2"):
                if item.status == "suggested":
                    ui.button("采纳并提请", on_click=lambda i=item.id: _proposal(i, "accept")).props(
                        "dense unelevated color=primary").mark(f"proposal-accept-{item.id}")
                    ui.button("不予提请", on_click=lambda i=item.id: _proposal(i, "reject")).props(
                        "dense outline color=grey-8").mark(f"proposal-reject-{item.id}")
                elif item.status == "accepted" and item.decider != "bureau":
                    ui.button("登记送达", on_click=lambda i=item.id: _send(i)).props(
                        "dense unelevated color=primary").mark(f"proposal-send-{item.id}")
                elif item.status == "sent":
                    for outcome, label in (("granted", "决定机关批准"), ("denied", "决定机关驳回")):
                        ui.button(label, on_click=lambda i=item.id, o=outcome: _outcome(i, o)).props(
                            "dense outline color=primary").mark(f"proposal-{outcome}-{item.id}")


def _file_timeline(db: Session, subject_id: int) -> None:
    try:
        entries = views.timeline(db, service.subject(db, subject_id))
    except DomainError as exc:
        error_notice(exc)
        return
    if not entries:
        ui.label("暂无记录").classes("text-grey-7").mark("file-timeline-empty")
        return
    with ui.timeline(side="right", layout="dense", color="primary").classes("w-full").mark("file-timeline"):
        for e in entries:
            with ui.timeline_entry(title=e.label, subtitle=e.on.isoformat()), ui.column().classes("gap-0.5"):
                if e.summary:
                    ui.label(e.summary).classes("text-sm")
                for doc_id in e.document_ids:
                    ui.link("查看文书（PDF）", f"/documents/{doc_id}/pdf", new_tab=True).classes("text-sm").mark(
                        f"document-{doc_id}")


def leave_dialog(subject_id: int) -> None:
    def build():
        start = date_input("外出日期", value=clock.today_local().isoformat()).mark("leave-start")
        end = date_input("返回日期", value=clock.today_local().isoformat()).mark("leave-end")
        destination = ui.input("目的地").props("outlined dense").classes("w-full").mark("leave-destination")
        reason = ui.textarea("事由").props("outlined dense autogrow").classes("w-full").mark("leave-reason")
        return lambda: {"start": start.value, "end": end.value, "destination": destination.value or "",
                        "reason": reason.value or ""}

    def save(db: Session, data: dict) -> str:
        row = service.request_leave(db_session=db, subject_id=subject_id, leave_in=LeaveCreate(**data))
        who = "司法所" if row.approver_level == "office" else "区司法局"
        return f"已提交外出申请（{row.days} 日），待{who}审批"

    _form("外出请假申请（社区矫正法第二十七条）", "提交", "leave", build, save)


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
        return f"已决定{label}，文书已生成" if row.status == "decided" else f"已提请区司法局审批{label}"

    _form("奖惩（社区矫正法第二十八条）", "提交", "sanction", build, save)


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _form(title: str, submit_label: str, marker: str, build, save) -> None:
    """A dialog: ``build()`` makes the fields and returns a function reading them into a dict;
    ``save(db, data)`` calls the service and returns the message to show."""
    with ui.dialog() as dialog, ui.card().classes("min-w-[460px] gap-3"):
        section(title)
        read = build()

        @session.action
        def submit(db: Session) -> None:
            try:
                message = save(db, read())
            except ValidationError as exc:
                _invalid(exc)
                return
            dialog.close()
            ui.notify(message, type="positive", position="top")
            ui.navigate.reload()

        with ui.row().classes("justify-end w-full"):
            ui.button("取消", on_click=dialog.close).props("flat")
            ui.button(submit_label, on_click=submit).props("unelevated color=primary").mark(f"{marker}-submit")
    dialog.open()


def announce_dialog(subject_id: int, kind: str) -> None:
    def build():
        place = ui.input("宣告地点", value="司法所宣告室").props("outlined dense").classes("w-full").mark(
            f"{kind}-place")
        present = ui.textarea("到场人员（每行一人，姓名及身份）").props("outlined dense autogrow").classes(
            "w-full").mark(f"{kind}-present")
        reason = ui.select({"term_completed": "矫正期满", "pardoned": "特赦"}, value="term_completed",
                           label="解矫原因").props("outlined dense").classes("w-full") if kind == "release" else None
        return lambda: {"kind": kind, "place": place.value, "present": _lines(present.value),
                        **({"reason": reason.value} if reason is not None else {})}

    def save(db: Session, data: dict) -> str:
        flows.announce(db_session=db, subject_id=subject_id, announcement_in=AnnouncementCreate(**data))
        return "已入矫宣告，宣告书和告知书已生成" if kind == "entry" else "已解矫宣告，文书已生成"

    _form("入矫宣告（社区矫正法第二十二条）" if kind == "entry" else "解矫宣告（社区矫正法第四十四条）", "宣告",
          kind, build, save)


def plan_dialog(subject_id: int) -> None:
    def build():
        fields = {key: ui.textarea(label).props("outlined dense autogrow").classes("w-full").mark(f"plan-{key}")
                  for key, label in (("circumstances", "基本情况（心理特点、犯罪原因、悔罪表现等）"),
                                     ("goals", "矫正目标"), ("measures", "矫正措施"))}
        return lambda: {k: f.value or "" for k, f in fields.items()}

    def save(db: Session, data: dict) -> str:
        service.create_plan(db_session=db, subject_id=subject_id, plan_in=PlanCreate(**data))
        return "已保存矫正方案"

    _form("矫正方案（社区矫正法第二十四条）", "保存", "plan", build, save)


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

    _form("执行地变更（社区矫正法第二十七条）", "提交", "transfer", build, save)


def reception_dialog(subject_id: int) -> None:
    def build():
        notified = date_input("收到决定机关通知的日期", value=clock.today_local().isoformat()).mark("reception-notified")
        received = date_input("法律文书送达日期", value=clock.today_local().isoformat()).mark("reception-received")
        docs = ui.textarea("收到的法律文书（每行一件）", value="判决书\n执行通知书\n结案登记表").props(
            "outlined dense autogrow").classes("w-full").mark("reception-documents")
        verified = ui.checkbox("已核对身份").mark("reception-verified")
        return lambda: {"notified_on": notified.value, "documents_received_on": received.value,
                        "documents": [{"name": n} for n in _lines(docs.value)], "identity_verified": verified.value}

    def save(db: Session, data: dict) -> str:
        service.record_reception(db_session=db, subject_id=subject_id, reception_in=ReceptionIn(**data))
        return "已登记交付接收"

    _form("交付接收（社区矫正法第二十条、第二十二条）", "保存", "reception", build, save)


GENDERS = {"男": "male", "女": "female"}


def team_dialog(subject_id: int) -> None:
    def build():
        ui.label("每行一人：姓名，身份，性别（男/女）。女性社区矫正对象的矫正小组应有女性成员。").classes(
            "text-sm text-grey-8")
        members = ui.textarea("成员").props("outlined dense autogrow").classes("w-full").mark("team-members")

        def read() -> dict:
            out = []
            for line in _lines(members.value):
                parts = [x.strip() for x in line.replace(",", "，").split("，")]
                out.append({"name": parts[0], "role": parts[1] if len(parts) > 1 else "",
                            "gender": GENDERS.get(parts[2]) if len(parts) > 2 else None})
            return {"members": out}
        return read

    def save(db: Session, data: dict) -> str:
        members = service.set_team(db_session=db, subject_id=subject_id, team_in=TeamIn(**data))
        return f"已确定矫正小组（{len(members)} 人）"

    _form("矫正小组（社区矫正法第二十五条）", "保存", "team", build, save)


def month_dialog(subject_id: int) -> None:
    last = clock.today_local().replace(day=1) - timedelta(days=1)

    def build():
        month = ui.input("考核月份（YYYY-MM）", value=last.strftime("%Y-%m")).props("outlined dense").mark("month-month")
        score = ui.number("分数（留空按记录建议）", min=0, max=100).props("outlined dense").mark("month-score")
        note = ui.input("说明").props("outlined dense").classes("w-full").mark("month-note")
        return lambda: {"month": month.value, "score": int(score.value) if score.value is not None else None,
                        "note": note.value or None}

    def save(db: Session, data: dict) -> str:
        row = service.assess_month(db_session=db, subject_id=subject_id,
                                   assessment_in=MonthlyAssessmentCreate(**data))
        return f"已考核：{row.score} 分（按记录建议 {row.computed_score} 分）"

    _form("月度考核", "保存", "month", build, save)


def assessment_dialog() -> None:
    def build():
        name = ui.input("被评估人姓名").props("outlined dense").classes("w-full").mark("assessment-name")
        number = ui.input("身份证号码").props("outlined dense maxlength=18").classes("w-full").mark("assessment-id")
        organ = ui.input("委托机关", value="淄博市临淄区人民法院").props("outlined dense").classes("w-full").mark(
            "assessment-organ")
        on = date_input("收到委托日期", value=clock.today_local().isoformat()).mark("assessment-on")
        kind = ui.select(labels.CORRECTION_TYPE, value="probation", label="拟适用").props("outlined dense").classes(
            "w-full").mark("assessment-type")
        crime = ui.input("罪名").props("outlined dense").classes("w-full").mark("assessment-crime")
        fast = ui.checkbox("速裁程序（五个工作日）").mark("assessment-fast")
        return lambda: {"person_name": name.value or "", "id_number": (number.value or "").strip() or None,
                        "entrusting_organ": organ.value or "", "entrusted_on": on.value, "expedited": fast.value,
                        "proposed_correction_type": kind.value, "crime": crime.value or ""}

    def save(db: Session, data: dict) -> str:
        row = service.create_assessment(db_session=db, assessment_in=AssessmentCreate(**data))
        return f"已登记，须于 {row.deadline.isoformat()} 前完成（社区矫正法第十八条）"

    _form("调查评估委托（社区矫正法第十八条）", "登记", "assessment", build, save)


def findings_dialog(assessment_id: int) -> None:
    def build():
        findings = ui.textarea("调查情况").props("outlined dense autogrow").classes("w-full").mark("findings-text")
        opinion = ui.select({"suitable": "适用社区矫正", "unsuitable": "不适用社区矫正"}, value="suitable",
                            label="评估意见").props("outlined dense").classes("w-full").mark("findings-opinion")
        return lambda: {"findings": findings.value or "", "opinion": opinion.value}

    def save(db: Session, data: dict) -> str:
        service.complete_assessment(db_session=db, assessment_id=assessment_id,
                                    findings_in=AssessmentFindings(**data))
        return "已提交评估意见"

    _form("调查评估意见", "提交", "findings", build, save)


def termination_dialog(subject_id: int) -> None:
    def build():
        reason = ui.select(labels.TERMINATION_REASON, value="revoked_probation", label="终止原因").props(
            "outlined dense").classes("w-full").mark("termination-reason")
        on = date_input("裁定、决定或死亡日期", value=clock.today_local().isoformat()).mark("termination-date")
        return lambda: {"reason": reason.value, "decided_on": on.value}

    def save(db: Session, data: dict) -> str:
        _s, notices = flows.terminate(db_session=db, subject_id=subject_id, termination_in=TerminationIn(**data))
        return f"已终止矫正，需通知 {len(notices)} 个机关"

    _form("终止矫正（社区矫正法第四十五条、第四十六条）", "确认终止", "termination", build, save)


RECORD_KINDS = {"report": "报告（当面）", "home_visit": "走访", "talk": "谈话", "education": "教育学习",
                "community_service": "公益活动"}


def record_dialog(subject_id: int) -> None:
    def build():
        kind = ui.select(RECORD_KINDS, value="report", label="类别").props("outlined dense").classes("w-full").mark(
            "record-kind")
        on = date_input("发生日期", value=clock.today_local().isoformat()).mark("record-date")
        hours = ui.number("时长（小时，教育学习、公益活动）", value=2, min=0.5, max=24, step=0.5).props(
            "outlined dense").classes("w-full").mark("record-hours")
        summary = ui.textarea("情况").props("outlined dense autogrow").classes("w-full").mark("record-summary")

        def read() -> dict:
            data = {"kind": kind.value, "occurred_on": on.value, "summary": summary.value or ""}
            if kind.value == "report":
                data["channel"] = "in_person"
            if kind.value in ("education", "community_service"):
                data["hours"] = hours.value
            return data
        return read

    def save(db: Session, data: dict) -> str:
        service.add_record(db_session=db, subject_id=subject_id, record_in=TypeAdapter(RecordIn).validate_python(data))
        return f"已记录{RECORD_KINDS[data['kind']]}"

    _form("日常监管记录", "保存", "record", build, save)


RISKS = {"high": "高", "medium": "中", "low": "低"}


def level_dialog(subject_id: int) -> None:
    """The rule set proposes a level with its reasons; the officer confirms it (or not)."""
    with ui.dialog() as dialog, ui.card().classes("min-w-[460px] gap-3"):
        section("管理等级评定")
        risk = ui.select(RISKS, value="medium", label="风险评估等级").props("outlined dense").classes("w-full").mark(
            "level-risk")
        result = ui.column().classes("w-full gap-1")

        @session.action
        def propose(db: Session) -> None:
            review = service.propose_level(db_session=db, subject_id=subject_id,
                                           review_in=LevelReviewCreate(risk_level=risk.value))
            result.clear()
            with result:
                ui.label(f"建议等级：{labels.SUPERVISION_LEVEL.get(review.proposed_level, review.proposed_level)}"
                         f"（现为{labels.SUPERVISION_LEVEL.get(review.current_level, review.current_level)}）").classes(
                    "text-lg font-bold").mark("level-proposed")
                for reason in review.reasons:
                    ui.label(f"· {reason}").classes("text-sm")
                ui.button("确认该等级", on_click=lambda r=review.id: confirm(r)).props(
                    "unelevated color=primary").mark("level-confirm")

        @session.action
        def confirm(db: Session, review_id: int) -> None:
            review, created = service.decide_level(db_session=db, review_id=review_id,
                                                   decision_in=LevelDecisionIn(decision="confirm"))
            dialog.close()
            ui.notify(f"已确定为{labels.SUPERVISION_LEVEL.get(review.decided_level or '', review.decided_level)}，"
                      f"生成监管任务 {created} 项", type="positive", position="top")
            ui.navigate.reload()

        with ui.row().classes("justify-end w-full"):
            ui.button("关闭", on_click=dialog.close).props("flat")
            ui.button("提出建议", on_click=propose).props("unelevated color=primary").mark("level-propose")
    dialog.open()


# --- pages ------------------------------------------------------------------------------------------------


def register() -> None:
    menu.add_menu_item("请假审批", "/leave", "event_available", menu.CASE, order=30)
    menu.add_menu_item("待办任务", "/tasks", "task", menu.CASE, order=32)

    @protected_page("/leave")
    def leave_page(ctx: PageContext) -> None:
        with frame("请假审批"):
            try:
                rows = service.list_leaves(db_session=ctx.db, status="pending")
                items = [views.leave(ctx.db, r) for r in rows]
                names = {r.id: service.subject(ctx.db, r.subject_id) for r in rows}
            except DomainError as exc:
                error_notice(exc)
                return
            if not items:
                ui.label("暂无待审批的外出申请").classes("text-grey-7").mark("leave-empty")
                return
            for item in items:
                subject = names[item.id]
                with ui.card().classes("zj-card w-full p-4 gap-2").mark(f"leave-{item.id}"):
                    with ui.row().classes("items-center gap-3 w-full"):
                        ui.link(subject.name if not subject.is_minor else "未成年人（姓名保密）",
                                f"/subjects/{item.subject_id}").classes("text-lg font-bold")
                        ui.label(f"{item.start.isoformat()} 至 {item.end.isoformat()}，共 {item.days} 日")
                        ui.label(f"目的地：{item.destination}")
                        ui.space()
                        ui.badge("司法所审批" if item.approver_level == "office" else "区司法局审批")
                    ui.label(f"事由：{item.reason}").classes("text-sm")
                    ui.label(f"申请人：{item.requested_by} · {clock.format_local(item.created_at)}").classes(
                        "text-xs text-grey-7")
                    note = ui.input("审批意见").props("outlined dense").classes("w-full").mark(f"leave-note-{item.id}")
                    with ui.row().classes("gap-2"):
                        ui.button("批准", on_click=lambda i=item.id, n=note: _decide(i, "approve", n.value)).props(
                            "unelevated color=positive").mark(f"leave-approve-{item.id}")
                        ui.button("不批准", on_click=lambda i=item.id, n=note: _decide(i, "reject", n.value)).props(
                            "outline color=negative").mark(f"leave-reject-{item.id}")

    menu.add_menu_item("调查评估", "/assessments", "assignment_ind", menu.CASE, order=34)

    @protected_page("/assessments")
    def assessments_page(ctx: PageContext) -> None:
        with frame("调查评估") as f:
            if ctx.can(Perm.subjects_write):
                with f.actions:
                    ui.button("登记委托", icon="add", on_click=assessment_dialog).props(
                        "unelevated dense color=primary").mark("open-assessment")
            try:
                items = [views.assessment(a, in_list=True)
                         for a in service.list_assessments(db_session=ctx.db, status=None, limit=200)]
            except DomainError as exc:
                error_notice(exc)
                return
            if not items:
                ui.label("暂无调查评估委托").classes("text-grey-7").mark("assessments-empty")
            for a in items:
                with ui.card().classes("zj-card w-full p-4 gap-1").mark(f"assessment-{a.id}"):
                    with ui.row().classes("items-center gap-3"):
                        ui.label(a.person_name).classes("text-lg font-bold")
                        ui.label(f"{a.entrusting_organ} 委托 · {a.crime}")
                        ui.badge("已完成" if a.status == "completed" else
                                 ("已逾期" if a.overdue else f"{a.deadline.isoformat()} 前完成")).props(
                            f"color={'grey' if a.status == 'completed' else ('negative' if a.overdue else 'primary')}")
                    if a.status != "completed" and ctx.can(Perm.subjects_write):
                        ui.button("提交评估意见", on_click=lambda i=a.id: findings_dialog(i)).props(
                            "dense outline color=primary").mark(f"assessment-findings-{a.id}")

    @protected_page("/tasks")
    def tasks_page(ctx: PageContext, overdue: str = "", mine: str = "") -> None:
        with frame("待办任务"):
            try:
                page = tasks_service.search(db_session=ctx.db, overdue=True if overdue == "1" else None,
                                            assignee="me" if mine == "1" else None, size=200)
            except DomainError as exc:
                error_notice(exc)
                return
            with ui.row().classes("items-center gap-4"):
                ui.label(f"未完成 {page.counts.open} 项").classes("text-lg")
                ui.label(f"已逾期 {page.counts.overdue} 项").classes("text-lg text-negative").mark("tasks-overdue")
                ui.link("只看逾期", "/tasks?overdue=1")
                ui.link("我的任务", "/tasks?mine=1")
                ui.link("全部", "/tasks")
            rows = [{"id": t.id, "due": t.due_on.isoformat(), "title": t.title, "kind": t.kind_label,
                     "subject": t.subject_name or "—", "office": t.office_name or "—",
                     "overdue": f"逾期 {t.days_overdue} 日" if t.overdue else "", "subject_id": t.subject_id}
                    for t in page.items]
            cols = [{"name": "due", "label": "期限", "field": "due", "align": "left"},
                    {"name": "overdue", "label": "", "field": "overdue", "align": "left"},
                    {"name": "kind", "label": "类别", "field": "kind", "align": "left"},
                    {"name": "title", "label": "事项", "field": "title", "align": "left"},
                    {"name": "subject", "label": "对象", "field": "subject", "align": "left"},
                    {"name": "office", "label": "司法所", "field": "office", "align": "left"}]
            table = ui.table(rows=rows, columns=cols, row_key="id").props("dense flat bordered").classes(
                "zj-table w-full").mark("tasks-table")
            table.on("rowClick", lambda e: e.args[1].get("subject_id") and ui.navigate.to(
                f"/subjects/{e.args[1]['subject_id']}"))

    @protected_page("/subjects/{subject_id}/archive.zip")
    def archive_zip(ctx: PageContext, subject_id: int) -> Response | None:
        try:
            name, data = flows.export_archive(db_session=ctx.db, subject_id=subject_id, purpose=None,
                                              inquiry_ref=None)
        except DomainError as exc:
            with frame("导出档案"):
                error_notice(exc)
            return None
        return Response(data, media_type="application/zip", headers={
            "Content-Disposition": f"attachment; filename=\"{name}\"", "Cache-Control": "no-store"})

    @protected_page("/documents/{document_id}/pdf")
    def document_pdf(ctx: PageContext, document_id: int) -> Response | None:
        try:
            document, content = documents_service.read_pdf(db_session=ctx.db, document_id=document_id)
        except DomainError as exc:
            with frame("文书"):
                error_notice(exc)
            return None
        name = quote(f"{document.number}{document.title}.pdf")
        return Response(content, media_type="application/pdf", headers={
            "Content-Disposition": f"inline; filename=\"{documents_service.filename(document)}\"; "
                                   f"filename*=UTF-8''{name}", "Cache-Control": "no-store"})


@session.action
def _return(db: Session, leave_id: int) -> None:
    row = service.confirm_return(db_session=db, leave_id=leave_id, returned_on=None, note=None)
    ui.notify("已销假" + ("（逾期返回，已生成核实任务）" if row.returned_on and row.returned_on > row.end else ""),
              type="positive", position="top")
    ui.navigate.reload()


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
    ui.notify("已批准，文书已生成" if row.status == "decided" else "已不予批准", type="positive", position="top")
    ui.navigate.reload()


@session.action
def _decide(db: Session, leave_id: int, decision: str, note: str | None) -> None:
    try:
        decision_in = LeaveDecisionIn(decision=decision, note=note or None)  # type: ignore[arg-type]
    except ValidationError as exc:
        _invalid(exc)
        return
    row = flows.decide_leave(db_session=db, leave_id=leave_id, decision_in=decision_in)
    ui.notify(f"已{'批准' if row.status == 'approved' else '不批准'}外出申请", type="positive", position="top")
    ui.navigate.reload()

