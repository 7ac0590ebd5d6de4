"""Multi-step workflows: each command checks the rules first, then writes its records, its
documents, its tasks and (last) the lifecycle transition, in one unit of work.

``subjects_service.transition`` commits; it is called last so that the event, its documents
and the new status commit or roll back together.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, Forbidden, InvalidInput
from zhijiao.documents import service as documents_service
from zhijiao.security import audit
from zhijiao.security.actor import Actor
from zhijiao.security.permissions import Perm, Role, require
from zhijiao.subjects import rules as subject_rules
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.models import Subject
from zhijiao.subjects.schemas import SubjectStatus, TransitionIn
from zhijiao.supervision import levels as level_rules
from zhijiao.supervision import minors
from zhijiao.supervision import release as release_rules
from zhijiao.supervision import sanctions as sanction_rules
from zhijiao.supervision import service, views
from zhijiao.supervision.models import Announcement, LeaveRequest, Notification, Proposal, Sanction
from zhijiao.supervision.schemas import (
    AnnouncementCreate,
    DecisionIn,
    LeaveDecisionIn,
    LevelReviewCreate,
    ProposalDecisionIn,
    ProposalSendIn,
    SanctionCreate,
    TerminationIn,
)
from zhijiao.tasks import service as tasks_service

ENTRY_ITEMS = [
    "判决、裁定、决定书的主要内容",
    "社区矫正期限",
    "应当遵守的法律、行政法规和监督管理规定",
    "违反规定的法律后果",
    "依法享有的权利",
    "矫正小组人员组成及职责",
]
RELEASE_ITEMS = [
    "社区矫正期限届满，依法解除社区矫正",
    "对其矫正期间表现的鉴定意见",
    "对判处管制的，执行期满，解除管制；宣告缓刑的，缓刑考验期满，原判刑罚不再执行；"
    "裁定假释的，假释考验期满，原判刑罚视为已经执行完毕",
]
PLAN_TASK_TITLE = "制定矫正方案（《社区矫正法》第二十四条）"


def _report_rule(level: str) -> str:
    days = level_rules.duties_for(level_rules.SupervisionLevel(level)).in_person_report_interval_days
    return {7: "每周", 14: "每两周", 30: "每月", 60: "每两个月"}.get(days, f"每{days}日")


def _procuratorate(bureau_name: str) -> str:
    """The procuratorate at the bureau's level: 淄博市临淄区司法局 → 淄博市临淄区人民检察院."""
    return bureau_name.removesuffix("司法局") + "人民检察院" if bureau_name.endswith("司法局") else "同级人民检察院"


def _not_future_at(value, field: str):
    at = value or clock.now()
    if at > clock.now() + timedelta(minutes=10):
        raise InvalidInput("时间不能晚于当前时间", code="date_in_future", fields={field: "晚于当前时间"})
    return at


def _transition(db_session: Session, s: Subject, to: str, reason: str | None = None, basis: str | None = None,
                note: str | None = None) -> None:
    subjects_service.transition(db_session=db_session, subject_id=s.id,
                                transition_in=TransitionIn(to=to, reason=reason, basis=basis, note=note))


# --- 入矫宣告 / 解矫宣告 --------------------------------------------------------------------------


def announce(*, db_session: Session, subject_id: int, announcement_in: AnnouncementCreate) -> Announcement:
    actor = service.writer(db_session)
    require(actor, Perm.subjects_transition)
    s = service.open_subject(db_session, subject_id)
    kind = announcement_in.kind.value
    at = _not_future_at(announcement_in.at, "at")
    done = db_session.execute(select(Announcement.id).where(
        Announcement.subject_id == s.id, Announcement.kind == kind)).first()
    if done is not None:
        raise Conflict("已宣告，不能重复宣告", code="announcement_exists")
    host = service.staff_name(db_session, actor)
    row = Announcement(
        subject_id=s.id, kind=kind, at=at, place=announcement_in.place, host=host,
        present=list(announcement_in.present), items=list(announcement_in.items or
                                                          (ENTRY_ITEMS if kind == "entry" else RELEASE_ITEMS)),
        reason=announcement_in.reason if kind == "release" else None, note=announcement_in.note,
        created_by=actor.username,
    )
    if kind == "entry":
        _entry(db_session, s, row, announcement_in)
    else:
        _release(db_session, s, row, announcement_in)
    return row


def _entry(db_session: Session, s: Subject, row: Announcement, announcement_in: AnnouncementCreate) -> None:
    if s.status == SubjectStatus.pending_reception:
        raise Conflict("社区矫正对象尚未报到，不能入矫宣告", code="subject_not_reported")
    if s.status == SubjectStatus.reported:
        subject_rules.check_transition(s.status, SubjectStatus.under_correction, correction_type=s.correction_type)
    if s.correction_end_date is None:
        raise InvalidInput("请先在档案中填写矫正期限（起止日期）", code="correction_term_missing",
                           fields={"correction_end_date": "必填"})
    on = clock.to_local(row.at).date()
    if s.correction_start_date is None:
        s.correction_start_date = on
    db_session.add(row)
    db_session.flush()
    extra = {"officer": row.host, "place": row.place, "report_rule": _report_rule(s.supervision_level),
             "team_members": [f"{m.name}（{m.role}）" for m in s.team], "prohibition": s.prohibitions}
    for doc_kind in ("entry_announcement", "notice_of_obligations"):
        documents_service.generate(db_session=db_session, kind=doc_kind, subject=s, source_type="announcements",
                                   source_id=row.id, extra=extra, doc_date=on)
    tasks_service.close(db_session=db_session, key=f"report_overdue:{s.id}", note="已报到并入矫宣告")
    tasks_service.ensure(
        db_session=db_session, key=f"plan_due:{s.id}", kind="plan_due", title=PLAN_TASK_TITLE,
        due_on=service.reception_rules.plan_due(on), subject=s, source_type="announcements", source_id=row.id,
    )
    # 分类管理: a first proposal (严管 in the first months) for the officer to confirm.
    service.propose_level(db_session=db_session, subject_id=s.id, review_in=LevelReviewCreate(), commit=False)
    if s.status == SubjectStatus.reported:
        _transition(db_session, s, SubjectStatus.under_correction.value)
    else:
        db_session.commit()


def _release(db_session: Session, s: Subject, row: Announcement, announcement_in: AnnouncementCreate) -> None:
    reason = announcement_in.reason or subject_rules.ReleaseReason.term_completed.value
    subject_rules.check_transition(s.status, SubjectStatus.released, correction_type=s.correction_type, reason=reason)
    if reason == subject_rules.ReleaseReason.term_completed:
        if s.correction_end_date is None:
            raise InvalidInput("请先在档案中填写矫正结束日期", code="correction_term_missing",
                               fields={"correction_end_date": "必填"})
        if not release_rules.is_release_due(s.correction_end_date):
            raise Conflict(f"矫正期限至{s.correction_end_date.isoformat()}届满，届满之日方可解除矫正",
                           code="release_not_due")
    row.reason = reason
    db_session.add(row)
    db_session.flush()
    on = clock.to_local(row.at).date()
    bureau_name = documents_service.bureau_of(db_session, s).name
    extra: dict[str, Any] = {"officer": row.host, "place": row.place, "procuratorate": _procuratorate(bureau_name)}
    if announcement_in.performance:
        extra["performance"] = announcement_in.performance
    if reason == subject_rules.ReleaseReason.pardoned:
        extra["basis"] = f"《中华人民共和国社区矫正法》第四十四条（{subject_rules.RELEASE_REASON_LABELS[subject_rules.ReleaseReason.pardoned]}）"
    for doc_kind in ("release_announcement", "release_certificate"):
        documents_service.generate(db_session=db_session, kind=doc_kind, subject=s, source_type="announcements",
                                   source_id=row.id, extra=extra, doc_date=on)
    service.record_notifications(db_session, s, "release", row.id, release_rules.release_notifications(reason))
    tasks_service.close(db_session=db_session, subject_id=s.id, status="cancelled", note="已解除矫正")
    _transition(db_session, s, SubjectStatus.released.value, reason=reason)


# --- 终止矫正 (Law Art. 45) ----------------------------------------------------------------------


def terminate(*, db_session: Session, subject_id: int, termination_in: TerminationIn) -> tuple[Subject, list[Notification]]:
    actor = service.writer(db_session)
    require(actor, Perm.subjects_transition)
    s = service.open_subject(db_session, subject_id)
    basis = subject_rules.check_transition(s.status, SubjectStatus.terminated, correction_type=s.correction_type,
                                           reason=termination_in.reason)
    if termination_in.decided_on is not None:
        service.not_future(termination_in.decided_on, "decided_on")
    if termination_in.proposal_id is not None:
        proposal = service.get_proposal(db_session=db_session, proposal_id=termination_in.proposal_id)
        expected = {"revoked_probation": "revoke_probation", "revoked_parole": "revoke_parole",
                    "recommitted": "recommit"}.get(termination_in.reason)
        if proposal.subject_id != s.id or proposal.kind != expected or proposal.outcome != "granted":
            raise Conflict("所引用的提请建议与终止原因不符，或尚未获得批准", code="proposal_mismatch")
        tasks_service.close(db_session=db_session, key=f"termination_followup:{proposal.id}", note="已终止矫正")
    notifications = service.record_notifications(
        db_session, s, "termination", termination_in.proposal_id,
        release_rules.release_notifications(termination_in.reason))
    tasks_service.close(db_session=db_session, subject_id=s.id, status="cancelled", note="已终止矫正")
    note = termination_in.note
    if termination_in.decided_on is not None:
        note = f"决定（裁定）日期：{termination_in.decided_on.isoformat()}" + (f"；{note}" if note else "")
    _transition(db_session, s, SubjectStatus.terminated.value, reason=termination_in.reason,
                basis=termination_in.basis or basis, note=note)
    return s, notifications


# --- 外出审批 (Law Art. 27) ----------------------------------------------------------------------


def decide_leave(*, db_session: Session, leave_id: int, decision_in: LeaveDecisionIn) -> LeaveRequest:
    actor = service.decider(db_session)
    row = service.get_leave(db_session=db_session, leave_id=leave_id)
    s = service.open_subject(db_session, row.subject_id)
    approve = decision_in.decision == "approve"
    moved = service.leave_rules.decide_leave(
        service.leave_rule(row), approver=service.approver_of(actor), approve=approve,
        note=decision_in.note or "", settings=service.leave_settings(),
    )
    row.status = moved.status.value
    row.decided_by_id, row.decided_by, row.decided_at = actor.staff_id, actor.username, clock.now()
    row.decision_note = decision_in.note
    name = service.staff_name(db_session, actor)
    opinion = ("同意" if approve else "不同意") + (f"。{decision_in.note}" if decision_in.note else "")
    today = clock.today_local()
    level = "office" if actor.role == Role.office_officer else "bureau"
    settings = service.leave_settings()
    extra = {
        "destination": row.destination, "reason": row.reason, "leave_start": row.start, "leave_end": row.end,
        "companions": row.companions, "contact_phone": row.contact_phone or s.phone,
        f"{level}_opinion": opinion, f"{level}_signer": name, f"{level}_opinion_date": today,
        "office_limit_days": settings.office_max_days, "max_leave_days": settings.max_days_per_approval,
    }
    if row.frequent:
        extra["basis"] = service.leave_rules.LEGAL_BASIS["frequent"]
    documents_service.generate(db_session=db_session, kind="leave_approval_form", subject=s,
                               source_type="leave_requests", source_id=row.id, extra=extra,
                               doc_date=service.local_date(row.created_at))
    tasks_service.close(db_session=db_session, key=f"leave_decision:{row.id}", note="已审批")
    service.leaves_changed(db_session, row)  # the area rules now allow (or still forbid) the trip
    db_session.commit()
    return row


# --- 奖惩 (Law Art. 28) --------------------------------------------------------------------------


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
    actor = service.decider(db_session)
    kind = sanction_rules.SanctionKind(sanction_in.kind)
    s = service.open_subject(db_session, subject_id)
    rule = sanction_rules.who_decides(kind)
    if rule.proposal_only:
        raise _decided_externally(kind)
    if sanction_in.occurred_on is not None:
        service.not_future(sanction_in.occurred_on, "occurred_on")
    row = Sanction(subject_id=s.id, kind=kind.value, reason=sanction_in.reason,
                   basis=sanction_in.basis or rule.legal_basis, occurred_on=sanction_in.occurred_on,
                   proposed_by_id=actor.staff_id, proposed_by=actor.username, status="pending")
    db_session.add(row)
    db_session.flush()
    suggestions = _settle_new_sanction(db_session, s, row, actor)
    db_session.commit()
    return row, suggestions


def _settle_new_sanction(db_session: Session, s: Subject, row: Sanction, actor: Actor) -> list[Proposal]:
    if service.is_bureau(actor):
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
    row.status, row.decided_by_id, row.decided_by, row.decided_at = "decided", actor.staff_id, actor.username, clock.now()
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
        if r.id == exclude_id or r.kind == "commendation" or r.decided_at is None:
            continue
        label = sanction_rules.SANCTION_LABELS[sanction_rules.SanctionKind(r.kind)]
        out.append(f"{service.local_date(r.decided_at).isoformat()}因{r.reason.rstrip('。')}受到{label}")
    return out


def decide_sanction(*, db_session: Session, sanction_id: int, decision_in: DecisionIn
                    ) -> tuple[Sanction, list[Proposal]]:
    actor = service.decider(db_session)
    row = service.get_sanction(db_session=db_session, sanction_id=sanction_id)
    service.require_bureau(actor, "表扬、训诫、警告")
    s = service.open_subject(db_session, row.subject_id)
    if row.status != "pending":
        raise Conflict("该奖惩已处理", code="sanction_state")
    if row.proposed_by_id is not None and row.proposed_by_id == actor.staff_id:
        raise Forbidden("不能审批本人提出的奖惩", code="self_approval")
    if decision_in.decision == "reject" and not decision_in.note:
        raise InvalidInput("不批准须说明理由", code="reason_required", fields={"note": "必填"})
    tasks_service.close(db_session=db_session, key=f"sanction_decision:{row.id}", note="已审批")
    suggestions: list[Proposal] = []
    if decision_in.decision == "reject":
        row.status, row.decided_by_id, row.decided_by, row.decided_at = "rejected", actor.staff_id, actor.username, clock.now()
    else:
        suggestions = _finish_sanction(db_session, s, row, actor)
    row.decision_note = decision_in.note
    db_session.commit()
    return row, suggestions


# --- 提请 (Law Arts. 28, 33, 46–49) ------------------------------------------------------------


def decide_proposal(*, db_session: Session, proposal_id: int, decision_in: ProposalDecisionIn
                    ) -> tuple[Proposal, Sanction | None]:
    actor = service.decider(db_session)
    row = service.get_proposal(db_session=db_session, proposal_id=proposal_id)
    kind = sanction_rules.SanctionKind(row.kind)
    rule = sanction_rules.who_decides(kind)
    if decision_in.decision in ("grant", "deny"):
        if rule.proposal_only:
            raise _decided_externally(kind)  # e.g. revoking probation: only the court (Law Art. 46)
        raise InvalidInput("请选择 accept（采纳）或 reject（不采纳）", code="invalid_decision",
                           fields={"decision": "取值不合法"})
    if rule.proposal_only:
        service.require_bureau(actor, "提请事项")
    s = service.open_subject(db_session, row.subject_id)
    if row.status != "suggested":
        raise Conflict("该建议已处理", code="proposal_state")
    if rule.proposal_only and row.source == "officer" and row.created_by == actor.username:
        raise Forbidden("不能审批本人提出的提请建议", code="self_approval")
    if decision_in.decision == "reject" and not decision_in.note:
        raise InvalidInput("不采纳建议须说明理由", code="reason_required", fields={"note": "必填"})
    tasks_service.close(db_session=db_session, key=f"proposal_review:{row.id}", note="已处理")
    row.decided_by, row.decided_at, row.decision_note = actor.username, clock.now(), decision_in.note
    sanction = None
    if decision_in.decision == "reject":
        row.status = "rejected"
    elif rule.proposal_only:
        row.status = "accepted"
        db_session.flush()
        if kind is sanction_rules.SanctionKind.revoke_probation:
            bureau_name = documents_service.bureau_of(db_session, s).name
            documents_service.generate(
                db_session=db_session, kind="revocation_proposal", subject=s, source_type="proposals",
                source_id=row.id, extra={"reason": row.reason, "procuratorate": _procuratorate(bureau_name),
                                         "court": s.deciding_organ,
                                         "prior_sanctions": _prior_sentences(db_session, s)},
            )
    else:  # an escalation to a 训诫 or 警告: the bureau's own measure
        row.status = "accepted"
        sanction = Sanction(subject_id=s.id, kind=kind.value, reason=row.reason, basis=row.basis,
                            proposed_by_id=actor.staff_id, proposed_by=actor.username, status="pending",
                            proposal_id=row.id)
        db_session.add(sanction)
        db_session.flush()
        _settle_new_sanction(db_session, s, sanction, actor)
    db_session.commit()
    return row, sanction


def send_proposal(*, db_session: Session, proposal_id: int, send_in: ProposalSendIn) -> Proposal:
    actor = service.decider(db_session)
    row = service.get_proposal(db_session=db_session, proposal_id=proposal_id)
    service.require_bureau(actor, "提请")
    s = service.open_subject(db_session, row.subject_id)
    kind = sanction_rules.SanctionKind(row.kind)
    rule = sanction_rules.who_decides(kind)
    if not rule.proposal_only:
        raise Conflict("训诫、警告由区司法局决定，无需送达", code="proposal_state")
    if row.status != "accepted":
        raise Conflict("只能送达已采纳的提请建议", code="proposal_state")
    sent_on = service.not_future(send_in.sent_on or clock.today_local(), "sent_on")
    row.status, row.sent_on = "sent", sent_on
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


# --- 档案 ----------------------------------------------------------------------------------------


def _check_minor_archive(s: Subject, actor: Actor, purpose: str | None, inquiry_ref: str | None) -> None:
    """社区矫正法 第五十四条: a minor's archive goes only to the assigned officers while in correction,
    and once sealed (after release) only for a judicial case or a lawful inquiry."""
    if not s.is_minor:
        return
    sealed = s.status in service.ENDED
    chosen = minors.AccessPurpose(purpose) if purpose else minors.AccessPurpose.supervision
    if sealed and chosen is minors.AccessPurpose.supervision:
        raise Forbidden("未成年社区矫正对象的档案已封存，仅限司法机关办案需要或依规定查询",
                        code="minor_archive_sealed")
    assigned = {s.responsible_staff_id} if s.responsible_staff_id else set()
    if not minors.can_view_minor(actor.staff_id or -1, assigned, chosen, inquiry_ref=inquiry_ref):
        raise Forbidden("未成年社区矫正对象的档案仅限负责的工作人员查阅（《社区矫正法》第五十四条）",
                        code="minor_archive_restricted")


def export_archive(*, db_session: Session, subject_id: int, purpose: str | None = None,
                   inquiry_ref: str | None = None) -> tuple[str, bytes]:
    """The subject's archive as a zip; the export is audited with the zip's SHA-256."""
    actor = service.reader(db_session)
    s = service.subject(db_session, subject_id)
    _check_minor_archive(s, actor, purpose, inquiry_ref)
    title = "社区矫正工作档案" if actor.role == Role.office_officer else "社区矫正执行档案"
    documents = documents_service.list_for_subject(db_session=db_session, subject_id=s.id)
    record = archive_record(db_session, s, documents)
    data, manifest = documents_service.build_archive(
        subject_name=s.name, bureau_name=documents_service.bureau_of(db_session, s).name, archive_title=title,
        documents=documents, record=record,
    )
    audit.access(db_session, object_type="subjects", object_id=s.id, action="export", detail={
        "archive": title, "files": len(manifest) + 1, "sha256": hashlib.sha256(data).hexdigest(),
        "purpose": purpose or "supervision", "inquiry_ref": inquiry_ref,
    })
    db_session.commit()
    return f"archive-{s.id}-{clock.today_local().strftime('%Y%m%d')}.zip", data


def archive_record(db_session: Session, s: Subject, documents: list) -> dict[str, Any]:
    """The structured record of the file (record.json)."""
    full = subjects_service.read_full(db_session=db_session, subject_id=s.id).model_dump(mode="json")
    return {
        "generated_at": clock.now().isoformat(),
        "subject": full,
        **views.record_sections(db_session, s),
        "documents": [
            {"id": d.id, "kind": d.kind, "title": d.title, "number": d.number, "doc_date": d.doc_date.isoformat(),
             "sha256": d.sha256, "path": f"documents/{documents_service.filename(d)}",
             "source_type": d.source_type, "source_id": d.source_id}
            for d in documents
        ],
    }
