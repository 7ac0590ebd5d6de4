"""Read models: rows to the *Read schemas (with derived flags, labels and linked documents).

Shared by the API and the archive's ``record.json``.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.documents import service as documents_service
from zhijiao.documents.schemas import DocumentRead
from zhijiao.subjects import rules as subject_rules
from zhijiao.supervision import levels as level_rules
from zhijiao.subjects.models import Subject
from zhijiao.supervision import service
from zhijiao.supervision import leave as leave_rules
from zhijiao.supervision import reception as reception_rules
from zhijiao.supervision import sanctions as sanction_rules
from zhijiao.supervision import transfer as transfer_rules
from zhijiao.supervision.models import (
    Announcement,
    CorrectionPlan,
    LeaveRequest,
    LevelReview,
    Notification,
    PreSentenceAssessment,
    Proposal,
    Reception,
    Sanction,
    Transfer,
)
from zhijiao.supervision.schemas import (
    AnnouncementRead,
    AssessmentRead,
    LeaveRead,
    LevelReviewRead,
    MonthlyAssessmentRead,
    NotificationRead,
    PlanRead,
    ProposalRead,
    ReceptionRead,
    RecordRead,
    SanctionRead,
    TimelineEntry,
    TransferRead,
)


def _documents(db_session: Session, source_type: str, source_id: int) -> list[DocumentRead]:
    return [DocumentRead.model_validate(d) for d in
            documents_service.for_source(db_session=db_session, source_type=source_type, source_id=source_id)]


def assessment(row: PreSentenceAssessment, *, in_list: bool = False) -> AssessmentRead:
    out = AssessmentRead.model_validate(row)
    out.overdue = row.status == "open" and clock.today_local() > row.deadline
    if in_list:
        out.person_name = service.assessment_display_name(row)  # 社区矫正法 第五十四条
    return out


def reception(s: Subject, row: Reception) -> ReceptionRead:
    check = service.delivery_check(s, row)
    reported_on = clock.to_local(s.reported_at).date() if s.reported_at else None
    return ReceptionRead(
        id=row.id, subject_id=row.subject_id, notified_on=row.notified_on,
        documents_received_on=row.documents_received_on, documents=row.documents,
        identity_verified=row.identity_verified, received_by=row.received_by, note=row.note,
        notice_deadline=check.notice_deadline, documents_deadline=check.documents_deadline,
        notice_late=check.notice_late, documents_late=check.documents_late,
        missing_documents=list(check.missing_documents),
        reporting_deadline=subject_rules.reporting_deadline(s.judgment_effective_date),
        report_overdue=subject_rules.is_report_overdue(s.judgment_effective_date, reported_on=reported_on),
        legal_basis=reception_rules.LEGAL_BASIS["delivery"],
    )


def notification(row: Notification) -> NotificationRead:
    return NotificationRead(
        id=row.id, subject_id=row.subject_id, event=row.event, source_id=row.source_id, body=row.body,
        body_label=service.notification_body_label(row), sender=row.sender, ours=row.sender == "bureau",
        action=row.action, legal_basis=row.legal_basis, status=row.status, done_on=row.done_on,
        done_by=row.done_by, note=row.note,
    )


def announcement(db_session: Session, row: Announcement, s: Subject) -> AnnouncementRead:
    notices = service.list_notifications(db_session=db_session, subject_id=s.id, event="release", source_id=row.id) \
        if row.kind == "release" else []
    return AnnouncementRead(
        id=row.id, subject_id=row.subject_id, kind=row.kind, at=row.at, place=row.place, host=row.host,
        present=row.present, items=row.items, reason=row.reason, note=row.note, subject_status=s.status,
        documents=_documents(db_session, "announcements", row.id),
        notifications=[notification(n) for n in notices],
    )


def plan(row: CorrectionPlan) -> PlanRead:
    return PlanRead.model_validate(row)


def level_review(row: LevelReview, tasks_created: int = 0) -> LevelReviewRead:
    out = LevelReviewRead.model_validate(row)
    out.tasks_created = tasks_created
    return out


def leave(db_session: Session, row: LeaveRequest) -> LeaveRead:
    status = leave_rules.LeaveStatus(row.status)
    return LeaveRead(
        id=row.id, subject_id=row.subject_id, office_id=row.office_id, status=row.status,
        status_label=leave_rules.LEAVE_STATUS_LABELS[status], start=row.start, end=row.end, days=row.days,
        frequent=row.frequent, destination=row.destination, reason=row.reason, companions=row.companions,
        approver_level=row.approver_level, requested_by=row.requested_by, decided_by=row.decided_by,
        decided_at=row.decided_at, decision_note=row.decision_note, returned_on=row.returned_on,
        returned_late=row.returned_on is not None and row.returned_on > row.end,
        return_confirmed_by=row.return_confirmed_by, created_at=row.created_at,
        documents=_documents(db_session, "leave_requests", row.id),
    )


def transfer(db_session: Session, row: Transfer) -> TransferRead:
    out = TransferRead.model_validate(row)
    out.consult_overdue = row.status == "consulting" and row.consult_sent_on is not None and \
        transfer_rules.is_consult_reply_overdue(row.consult_sent_on)
    out.notifications = [notification(n) for n in service.list_notifications(
        db_session=db_session, subject_id=row.subject_id, event="transfer", source_id=row.id)]
    return out


def proposal(db_session: Session, row: Proposal, sanction_id: int | None = None) -> ProposalRead:
    kind = sanction_rules.SanctionKind(row.kind)
    out = ProposalRead.model_validate(row)
    out.label = sanction_rules.SANCTION_LABELS[kind]
    out.decider_label = sanction_rules.DECIDER_LABELS[sanction_rules.Decider(row.decider)]
    out.answer_overdue = service.proposal_answer_overdue(row)
    out.documents = _documents(db_session, "proposals", row.id)
    out.sanction_id = sanction_id
    return out


def sanction(db_session: Session, row: Sanction, suggestions: list[Proposal] | None = None) -> SanctionRead:
    out = SanctionRead.model_validate(row)
    out.label = sanction_rules.SANCTION_LABELS[sanction_rules.SanctionKind(row.kind)]
    out.documents = _documents(db_session, "sanctions", row.id)
    out.suggestions = [proposal(db_session, p) for p in suggestions or []]
    return out


def record_sections(db_session: Session, s: Subject) -> dict[str, Any]:
    """Every supervision record of a subject, for the archive's record.json."""
    sid = s.id

    def dump(items: list) -> list[dict[str, Any]]:
        return [i.model_dump(mode="json") for i in items]

    row = service.get_reception(db_session=db_session, subject_id=sid)
    return {
        "reception": reception(s, row).model_dump(mode="json") if row else None,
        "announcements": dump([announcement(db_session, a, s)
                               for a in service.list_announcements(db_session=db_session, subject_id=sid)]),
        "correction_plans": dump([plan(p) for p in service.list_plans(db_session=db_session, subject_id=sid)]),
        "level_reviews": dump([level_review(r) for r in service.list_level_reviews(db_session=db_session,
                                                                                 subject_id=sid)]),
        "daily_records": dump([RecordRead.model_validate(r) for r in service.list_records(db_session=db_session,
                                                                                          subject_id=sid)]),
        "monthly_assessments": dump([MonthlyAssessmentRead.model_validate(m) for m in
                                     service.list_monthly_assessments(db_session=db_session, subject_id=sid)]),
        "leave_requests": dump([leave(db_session, r) for r in service.list_leaves(db_session=db_session,
                                                                                  subject_id=sid)]),
        "transfers": dump([transfer(db_session, t) for t in service.list_transfers(db_session=db_session,
                                                                                  subject_id=sid)]),
        "sanctions": dump([sanction(db_session, r) for r in service.list_sanctions(db_session=db_session,
                                                                                   subject_id=sid)]),
        "proposals": dump([proposal(db_session, p) for p in service.list_proposals(db_session=db_session,
                                                                                   subject_id=sid)]),
        "notifications": dump([notification(n) for n in service.list_notifications(db_session=db_session,
                                                                                   subject_id=sid)]),
    }


_RECORD_LABELS = {"report": "报告", "home_visit": "实地查访", "talk": "个别谈话", "remote_check": "信息化核查",
                  "visitor_approval": "会客审批", "education": "教育学习", "community_service": "公益活动"}
_CHANNEL_LABELS = {"in_person": "当面", "phone": "电话", "written": "书面"}


def _at(on: date) -> datetime:
    return clock.ensure_utc(datetime.combine(on, time(12), tzinfo=clock.SHANGHAI))


def timeline(db_session: Session, s: Subject) -> list[TimelineEntry]:
    """Every event of the file, newest first, with the documents each one produced."""
    docs: dict[tuple[str, int], list[int]] = {}
    for d in documents_service.list_for_subject(db_session=db_session, subject_id=s.id):
        docs.setdefault((d.source_type, d.source_id), []).append(d.id)
    out: list[TimelineEntry] = []

    def add(at: datetime | None, on: date | None, kind: str, label: str, summary: str, object_type: str,
            object_id: int) -> None:
        if at is None and on is None:
            return
        at = at or _at(on)  # type: ignore[arg-type]
        out.append(TimelineEntry(on=on or clock.to_local(at).date(), at=at, kind=kind, label=label, summary=summary,
                                 object_type=object_type, object_id=object_id,
                                 document_ids=docs.get((object_type, object_id), [])))

    states = subject_rules.STATE_LABELS
    for t in s.transitions:
        add(t.at, None, "transition", "状态变更",
            f"{states[subject_rules.SubjectState(t.from_status)]}→{states[subject_rules.SubjectState(t.to_status)]}",
            "subject_transitions", t.id)
    row = service.get_reception(db_session=db_session, subject_id=s.id)
    if row is not None:
        add(row.created_at, None, "reception", "交付接收", "登记接收法律文书", "receptions", row.id)
    for a in service.list_announcements(db_session=db_session, subject_id=s.id):
        add(a.at, None, f"announcement_{a.kind}", "入矫宣告" if a.kind == "entry" else "解矫宣告", a.place,
            "announcements", a.id)
    for p in service.list_plans(db_session=db_session, subject_id=s.id):
        add(p.created_at, None, "plan", "矫正方案", f"第{p.version}版", "correction_plans", p.id)
        for r in p.reviews:
            add(None, r.reviewed_on, "plan_review", "方案复查", r.findings[:60], "plan_reviews", r.id)
    for r in service.list_level_reviews(db_session=db_session, subject_id=s.id):
        if r.status == "confirmed" and r.decided_at is not None:
            level = level_rules.LEVEL_LABELS[level_rules.SupervisionLevel(r.decided_level or r.proposed_level)]
            add(r.decided_at, None, "level", "管理等级", f"确定为{level}", "level_reviews", r.id)
    for r in service.list_records(db_session=db_session, subject_id=s.id):
        label = _CHANNEL_LABELS.get(r.channel or "", "") + _RECORD_LABELS.get(r.kind, r.kind)
        add(None, r.occurred_on, r.kind, label, r.summary[:60], "daily_records", r.id)
    for m in service.list_monthly_assessments(db_session=db_session, subject_id=s.id):
        add(m.assessed_at, None, "monthly_assessment", "月度考核",
            f"{m.month.strftime('%Y-%m')}：{m.score}分（{'合格' if m.passed else '不合格'}）", "monthly_assessments", m.id)
    for lv in service.list_leaves(db_session=db_session, subject_id=s.id):
        label = leave_rules.LEAVE_STATUS_LABELS[leave_rules.LeaveStatus(lv.status)]
        add(lv.decided_at or lv.created_at, None, "leave", "外出请假",
            f"{lv.destination}，{lv.start.isoformat()}至{lv.end.isoformat()}（{label}）", "leave_requests", lv.id)
    for t in service.list_transfers(db_session=db_session, subject_id=s.id):
        add(t.created_at, None, "transfer", "执行地变更", f"{t.to_agency}（{service.TRANSFER_LABELS[t.status]}）",
            "transfers", t.id)
    for x in service.list_sanctions(db_session=db_session, subject_id=s.id):
        label = sanction_rules.SANCTION_LABELS[sanction_rules.SanctionKind(x.kind)]
        state = {"pending": "待审批", "decided": "已决定", "rejected": "未批准"}.get(x.status, x.status)
        add(x.decided_at or x.created_at, None, "sanction", label, f"{x.reason[:60]}（{state}）", "sanctions", x.id)
    for p in service.list_proposals(db_session=db_session, subject_id=s.id):
        label = sanction_rules.SANCTION_LABELS[sanction_rules.SanctionKind(p.kind)]
        add(p.decided_at or p.created_at, None, "proposal", label, p.reason[:60], "proposals", p.id)
    return sorted(out, key=lambda e: (e.at, e.object_id), reverse=True)
