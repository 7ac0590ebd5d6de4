"""Supervision records, one entity at a time. No HTTP; scoping by the session; the law's rules
come from the pure modules of this package. Multi-step workflows (with documents, lifecycle
transitions and escalation) are in :mod:`zhijiao.supervision.flows`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhijiao.core import clock, events
from zhijiao.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from zhijiao.org import service as org_service
from zhijiao.security.actor import Actor, get_actor
from zhijiao.security.permissions import ALL_OFFICE_ROLES, Perm, Role, has_perm, require
from zhijiao.subjects import idcard, rules as subject_rules
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.models import CorrectionTeamMember, Subject
from zhijiao.subjects.schemas import SubjectStatus
from zhijiao.supervision import leave as leave_rules
from zhijiao.supervision import levels as level_rules
from zhijiao.supervision import minors
from zhijiao.supervision import reception as reception_rules
from zhijiao.supervision import sanctions as sanction_rules
from zhijiao.supervision import scoring
from zhijiao.supervision import transfer as transfer_rules
from zhijiao.supervision.models import (
    Announcement,
    CorrectionPlan,
    DailyRecord,
    LeaveRequest,
    LevelReview,
    MonthlyAssessment,
    Notification,
    PlanReview,
    PreSentenceAssessment,
    Proposal,
    Reception,
    Sanction,
    Transfer,
)
from zhijiao.supervision.notices import BODY_LABELS, Body
from zhijiao.supervision.notices import Notification as NoticeRule
from zhijiao.supervision.schemas import (
    ActiveLeave,
    AssessmentCreate,
    AssessmentFindings,
    EscalationCheckIn,
    LevelDecisionIn,
    LeaveCreate,
    LevelReviewCreate,
    MonthlyAssessmentCreate,
    PlanCreate,
    PlanReviewCreate,
    ProposalCreate,
    ReceptionIn,
    RecordIn,
    TeamIn,
    TransferAnswerIn,
    TransferConsultIn,
    TransferCreate,
)
from zhijiao.tasks import service as tasks_service

ENDED = (SubjectStatus.released.value, SubjectStatus.terminated.value)
ACTIVE = (SubjectStatus.reported.value, SubjectStatus.under_correction.value)
SANCTION_DECISION_DAYS = 7  # practice: the bureau decides a 司法所's proposal within a week
TASK_HORIZON_DAYS = 92  # duty tasks are kept this far ahead (a rolling quarter)


# --- who acts ------------------------------------------------------------------------------------


def writer(db_session: Session) -> Actor:
    return require(get_actor(db_session), Perm.workflows_write)


def reader(db_session: Session) -> Actor:
    return require(get_actor(db_session), Perm.subjects_read)


def decider(db_session: Session) -> Actor:
    """Someone who may decide: an officer (workflows) or a leader (final approvals)."""
    actor = get_actor(db_session)
    if has_perm(actor, Perm.workflows_write) or has_perm(actor, Perm.approvals_final):
        assert actor is not None
        return actor
    raise Forbidden(code="permission_denied", message="您的角色无权执行该操作")


def is_bureau(actor: Actor) -> bool:
    return actor.is_system or actor.role in ALL_OFFICE_ROLES


def require_bureau(actor: Actor, what: str) -> Actor:
    """Checked after the object is found, so another office's object stays a 404."""
    if not is_bureau(actor):
        raise Forbidden(f"{what}由区司法局决定，司法所可提出意见", code="bureau_decides")
    return actor


def staff_name(db_session: Session, actor: Actor) -> str:
    if actor.staff_id is not None:
        staff = org_service.find_staff(db_session=db_session, staff_id=actor.staff_id)
        if staff is not None:
            return staff.display_name
    return actor.username


def subject(db_session: Session, subject_id: int) -> Subject:
    return subjects_service.get(db_session=db_session, subject_id=subject_id)


def open_subject(db_session: Session, subject_id: int) -> Subject:
    s = subject(db_session, subject_id)
    if s.status in ENDED:
        raise Conflict("已解除或终止矫正，不能再办理", code="subject_closed")
    return s


def active_subject(db_session: Session, subject_id: int) -> Subject:
    s = open_subject(db_session, subject_id)
    if s.status not in ACTIVE:
        raise Conflict("社区矫正对象尚未报到，不能办理该事项", code="subject_not_reported")
    return s


def _one(db_session: Session, model: type, object_id: int, message: str, code: str) -> Any:
    row = db_session.execute(select(model).where(model.id == object_id)).scalar_one_or_none()
    if row is None:
        raise NotFound(message, code=code)
    return row


def not_future(value: date, field: str) -> date:
    if value > clock.today_local():
        raise InvalidInput("日期不能晚于今天", code="date_in_future", fields={field: "晚于今天"})
    return value


def local_date(value: datetime) -> date:
    return clock.to_local(value).date()


# --- settings [configurable] ---------------------------------------------------------------------


def leave_settings() -> leave_rules.LeaveSettings:
    """The bureau's leave limits from the settings store where this build has one, else the defaults."""
    try:
        from zhijiao.settings import service as settings_service  # type: ignore[import-not-found]
    except ImportError:
        return leave_rules.LeaveSettings()
    return leave_rules.LeaveSettings(
        office_max_days=settings_service.value("rules.leave_office_max_days"),
        max_days_per_approval=settings_service.value("rules.leave_max_days"),
    )


# --- 调查评估 (Law Art. 18) ----------------------------------------------------------------------


def create_assessment(*, db_session: Session, assessment_in: AssessmentCreate) -> PreSentenceAssessment:
    actor = writer(db_session)
    if actor.role == Role.office_officer:
        if assessment_in.office_id not in (None, actor.office_id):
            raise Forbidden("司法所工作人员只能登记本所承办的调查评估", code="office_out_of_scope")
        office_id = actor.office_id
    else:
        if assessment_in.office_id is None:
            raise InvalidInput("请选择承办司法所", code="office_required", fields={"office_id": "必填"})
        office_id = org_service.get_office(db_session=db_session, office_id=assessment_in.office_id).id
    linked = subject(db_session, assessment_in.subject_id) if assessment_in.subject_id else None
    is_minor = False
    if assessment_in.id_number:
        info = idcard.parse_id_number(assessment_in.id_number)
        is_minor = minors.age_on(info.birth_date, assessment_in.entrusted_on) < 18
    deadline = subject_rules.assessment_deadline(assessment_in.entrusted_on, expedited=assessment_in.expedited)
    row = PreSentenceAssessment(
        office_id=office_id, subject_id=linked.id if linked else None, person_name=assessment_in.person_name,
        person_id_number=assessment_in.id_number, is_minor=is_minor,
        entrusting_organ=assessment_in.entrusting_organ, entrusted_on=assessment_in.entrusted_on,
        expedited=assessment_in.expedited, deadline=deadline,
        proposed_correction_type=assessment_in.proposed_correction_type.value, crime=assessment_in.crime,
        request_note=assessment_in.request_note, status="open", created_by=actor.username,
    )
    db_session.add(row)
    db_session.flush()
    tasks_service.ensure(
        db_session=db_session, key=f"assessment:{row.id}", kind="assessment_due",
        title=f"调查评估意见须于{deadline.isoformat()}前提交委托机关", due_on=deadline, subject=linked,
        office_id=office_id, source_type="pre_sentence_assessments", source_id=row.id,
    )
    db_session.commit()
    return row


def get_assessment(*, db_session: Session, assessment_id: int) -> PreSentenceAssessment:
    reader(db_session)
    return _one(db_session, PreSentenceAssessment, assessment_id, "调查评估不存在或不在您的管辖范围内",
                "assessment_not_found")


def list_assessments(*, db_session: Session, status: str | None = None, limit: int = 200
                     ) -> list[PreSentenceAssessment]:
    reader(db_session)
    stmt = select(PreSentenceAssessment).order_by(PreSentenceAssessment.deadline.desc(), PreSentenceAssessment.id)
    if status:
        stmt = stmt.where(PreSentenceAssessment.status == status)
    return list(db_session.execute(stmt.limit(limit)).scalars())


def complete_assessment(
    *, db_session: Session, assessment_id: int, findings_in: AssessmentFindings
) -> PreSentenceAssessment:
    actor = writer(db_session)
    row = get_assessment(db_session=db_session, assessment_id=assessment_id)
    if row.status != "open":
        raise Conflict("该调查评估已完成", code="assessment_completed")
    completed_on = not_future(findings_in.completed_on or clock.today_local(), "completed_on")
    if completed_on < row.entrusted_on:
        raise InvalidInput("完成日期不能早于委托日期", code="date_order", fields={"completed_on": "早于委托日期"})
    row.findings, row.opinion, row.opinion_note = findings_in.findings, findings_in.opinion.value, findings_in.opinion_note
    row.completed_on, row.completed_by, row.status = completed_on, actor.username, "completed"
    tasks_service.close(db_session=db_session, key=f"assessment:{row.id}", note="已提交评估意见")
    db_session.commit()
    return row


def assessment_display_name(row: PreSentenceAssessment) -> str:
    return idcard.mask_minor_name(row.person_name) if row.is_minor else row.person_name


# --- 交付接收 (Law Arts. 20–22) ------------------------------------------------------------------


def get_reception(*, db_session: Session, subject_id: int) -> Reception | None:
    subject(db_session, subject_id)
    return db_session.execute(select(Reception).where(Reception.subject_id == subject_id)).scalar_one_or_none()


def delivery_check(s: Subject, row: Reception) -> reception_rules.DeliveryCheck:
    return reception_rules.delivery_check(
        s.judgment_effective_date, s.correction_type, notified_on=row.notified_on,
        documents_received_on=row.documents_received_on,
        received_documents=[d["name"] for d in row.documents], today=clock.today_local(),
    )


def record_reception(*, db_session: Session, subject_id: int, reception_in: ReceptionIn) -> Reception:
    actor = writer(db_session)
    s = open_subject(db_session, subject_id)
    for name, value in (("notified_on", reception_in.notified_on),
                        ("documents_received_on", reception_in.documents_received_on)):
        if value is not None:
            not_future(value, name)
            if value < s.judgment_effective_date:
                raise InvalidInput("日期不能早于判决、裁定生效日期", code="date_order", fields={name: "早于生效日期"})
    row = get_reception(db_session=db_session, subject_id=subject_id)
    if row is None:
        row = Reception(subject_id=s.id, received_by=actor.username)
        db_session.add(row)
    row.notified_on = reception_in.notified_on
    row.documents_received_on = reception_in.documents_received_on
    row.documents = [d.model_dump(mode="json") for d in reception_in.documents]
    row.identity_verified = reception_in.identity_verified
    row.note = reception_in.note
    row.received_by = actor.username
    db_session.flush()
    check = delivery_check(s, row)
    key = f"reception_documents:{s.id}"
    if check.missing_documents or row.documents_received_on is None:
        tasks_service.ensure(
            db_session=db_session, key=key, kind="reception_documents",
            title="催收决定机关法律文书：" + ("、".join(check.missing_documents) or "送达日期未登记"),
            due_on=max(check.documents_deadline, clock.today_local()), subject=s,
            source_type="receptions", source_id=row.id,
        )
    else:
        tasks_service.close(db_session=db_session, key=key, note="法律文书已齐全")
    db_session.commit()
    return row


def ensure_report_task(db_session: Session, s: Subject, today: date | None = None) -> bool:
    """An overdue report (Law Art. 21) raises a task for the responsible officer; True if overdue."""
    today = today or clock.today_local()
    if s.status != SubjectStatus.pending_reception or not subject_rules.is_report_overdue(
            s.judgment_effective_date, today=today):
        return False
    deadline = subject_rules.reporting_deadline(s.judgment_effective_date)
    tasks_service.ensure(
        db_session=db_session, key=f"report_overdue:{s.id}", kind="report_overdue",
        title=f"逾期未报到（应于{deadline.isoformat()}前报到），立即查找并通报决定机关", due_on=today,
        subject=s, source_type="subjects", source_id=s.id,
    )
    return True


def list_announcements(*, db_session: Session, subject_id: int) -> list[Announcement]:
    subject(db_session, subject_id)
    return list(db_session.execute(
        select(Announcement).where(Announcement.subject_id == subject_id).order_by(Announcement.at)).scalars())


# --- 矫正小组 (Law Art. 25) ----------------------------------------------------------------------


def set_team(*, db_session: Session, subject_id: int, team_in: TeamIn) -> list[CorrectionTeamMember]:
    """Replace the team, enforcing Art. 25 (a female member for a female subject)."""
    writer(db_session)
    s = open_subject(db_session, subject_id)
    members = [m.model_dump(mode="json") for m in team_in.members]
    reception_rules.check_team(
        s.gender, [reception_rules.TeamMemberFacts(m["name"], m["role"], m.get("gender")) for m in members])
    s.team = [CorrectionTeamMember(**m) for m in members]
    db_session.commit()
    return list(s.team)


# --- 矫正方案 (Law Art. 24) ----------------------------------------------------------------------


def list_plans(*, db_session: Session, subject_id: int) -> list[CorrectionPlan]:
    subject(db_session, subject_id)
    return list(db_session.execute(
        select(CorrectionPlan).where(CorrectionPlan.subject_id == subject_id).order_by(CorrectionPlan.version)
    ).scalars())


def create_plan(*, db_session: Session, subject_id: int, plan_in: PlanCreate) -> CorrectionPlan:
    actor = writer(db_session)
    s = active_subject(db_session, subject_id)
    plans = list_plans(db_session=db_session, subject_id=subject_id)
    for old in plans:
        if old.status == "active":
            old.status = "superseded"
    today = clock.today_local()
    plan = CorrectionPlan(
        subject_id=s.id, version=(plans[-1].version + 1) if plans else 1, status="active",
        circumstances=plan_in.circumstances, goals=plan_in.goals, measures=plan_in.measures,
        next_review_on=reception_rules.plan_review_due(today), created_by=actor.username,
    )
    db_session.add(plan)
    db_session.flush()
    tasks_service.close(db_session=db_session, key=f"plan_due:{s.id}", note="已制定矫正方案")
    tasks_service.close(db_session=db_session, key_prefix=f"plan_review:{s.id}:", status="cancelled",
                        note="方案已修订")
    _plan_review_task(db_session, s, plan)
    try:
        db_session.commit()
    except IntegrityError:
        db_session.rollback()
        raise Conflict("矫正方案已被他人修订，请刷新后重试", code="stale_version") from None
    return plan


def _plan_review_task(db_session: Session, s: Subject, plan: CorrectionPlan) -> None:
    tasks_service.ensure(
        db_session=db_session, key=f"plan_review:{s.id}:{plan.id}:{plan.next_review_on.isoformat()}",
        kind="plan_review", title=f"复查矫正方案（第{plan.version}版）", due_on=plan.next_review_on, subject=s,
        source_type="correction_plans", source_id=plan.id,
    )


def review_plan(*, db_session: Session, plan_id: int, review_in: PlanReviewCreate) -> CorrectionPlan:
    actor = writer(db_session)
    plan = _one(db_session, CorrectionPlan, plan_id, "矫正方案不存在或不在您的管辖范围内", "plan_not_found")
    s = active_subject(db_session, plan.subject_id)
    if plan.status != "active":
        raise Conflict("该方案已被新版本取代，请复查现行方案", code="plan_superseded")
    reviewed_on = not_future(review_in.reviewed_on or clock.today_local(), "reviewed_on")
    plan.reviews.append(PlanReview(subject_id=s.id, reviewed_on=reviewed_on, findings=review_in.findings,
                                   adjustments=review_in.adjustments, reviewed_by=actor.username))
    tasks_service.close(db_session=db_session, key_prefix=f"plan_review:{s.id}:{plan.id}:", note="已复查")
    plan.next_review_on = reception_rules.plan_review_due(reviewed_on)
    _plan_review_task(db_session, s, plan)
    db_session.commit()
    return plan


# --- 分类管理 ------------------------------------------------------------------------------------


def decided_sanctions(db_session: Session, subject_id: int) -> list[Sanction]:
    return list(db_session.execute(
        select(Sanction).where(Sanction.subject_id == subject_id, Sanction.status == "decided")
        .order_by(Sanction.decided_at, Sanction.id)
    ).scalars())


def _level_since(db_session: Session, s: Subject) -> date:
    last = db_session.execute(
        select(LevelReview).where(LevelReview.subject_id == s.id, LevelReview.status == "confirmed")
        .order_by(LevelReview.decided_at.desc(), LevelReview.id.desc()).limit(1)
    ).scalar_one_or_none()
    if last is not None and last.effective_on is not None:
        return last.effective_on
    assert s.correction_start_date is not None
    return s.correction_start_date


def level_facts(db_session: Session, s: Subject, risk_level: str) -> level_rules.LevelFacts:
    if s.correction_start_date is None:
        raise Conflict("尚未入矫宣告，不能评定管理等级", code="subject_not_under_correction")
    sanctions = decided_sanctions(db_session, s.id)
    consecutive = 0
    for row in reversed(sanctions):
        if row.kind != "commendation":
            break
        consecutive += 1
    penalties = db_session.execute(
        select(func.count(Proposal.id)).where(Proposal.subject_id == s.id, Proposal.kind == "police_penalty",
                                              Proposal.outcome == "granted")
    ).scalar_one()
    months = list(db_session.execute(
        select(MonthlyAssessment).where(MonthlyAssessment.subject_id == s.id)
        .order_by(MonthlyAssessment.month.desc()).limit(3)
    ).scalars())
    return level_rules.LevelFacts(
        correction_start=s.correction_start_date, today=clock.today_local(),
        current_level=level_rules.SupervisionLevel(s.supervision_level), level_since=_level_since(db_session, s),
        risk_level=level_rules.RiskLevel(risk_level),
        admonitions=sum(r.kind == "admonition" for r in sanctions),
        warnings=sum(r.kind == "warning" for r in sanctions),
        police_penalties=penalties,
        failed_monthly_assessment=bool(months) and not months[0].passed,
        quarterly_average_score=sum(m.score for m in months) / len(months) if months else None,
        consecutive_commendations=consecutive,
    )


def _facts_json(facts: level_rules.LevelFacts) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else (v.value if hasattr(v, "value") else v))
            for k, v in ((f, getattr(facts, f)) for f in facts.__dataclass_fields__)}


def propose_level(
    *, db_session: Session, subject_id: int, review_in: LevelReviewCreate, commit: bool = True
) -> LevelReview:
    actor = writer(db_session)
    s = active_subject(db_session, subject_id)
    facts = level_facts(db_session, s, review_in.risk_level)
    proposal = level_rules.propose_level(facts)
    for old in db_session.execute(select(LevelReview).where(LevelReview.subject_id == s.id,
                                                            LevelReview.status == "proposed")).scalars():
        old.status = "superseded"
    review = LevelReview(
        subject_id=s.id, current_level=s.supervision_level, proposed_level=proposal.level.value,
        reasons=list(proposal.reasons), facts=_facts_json(facts), status="proposed", note=review_in.note,
        created_by=actor.username,
    )
    db_session.add(review)
    db_session.flush()
    tasks_service.close(db_session=db_session, key_prefix=f"level_confirm:{s.id}:", status="cancelled",
                        note="已有新的等级建议")
    tasks_service.ensure(
        db_session=db_session, key=f"level_confirm:{s.id}:{review.id}", kind="level_confirm",
        title=f"确认管理等级（建议：{level_rules.LEVEL_LABELS[proposal.level]}）", due_on=clock.today_local(),
        subject=s, source_type="level_reviews", source_id=review.id,
    )
    if commit:
        db_session.commit()
    return review


def list_level_reviews(*, db_session: Session, subject_id: int) -> list[LevelReview]:
    subject(db_session, subject_id)
    return list(db_session.execute(
        select(LevelReview).where(LevelReview.subject_id == subject_id).order_by(LevelReview.id)
    ).scalars())


def schedule_duties(db_session: Session, s: Subject, review: LevelReview, today: date | None = None) -> int:
    """Dated tasks for the duties of the confirmed level, a rolling quarter ahead (idempotent)."""
    today = today or clock.today_local()
    start = review.effective_on or today
    end = s.correction_end_date or (start + timedelta(days=366))
    created = 0
    for duty in level_rules.duty_schedule(review.decided_level or review.proposed_level, start, end):
        if duty.window_start > today + timedelta(days=TASK_HORIZON_DAYS) or duty.due < today:
            continue
        key = f"duty:{s.id}:{review.id}:{duty.kind.value}:{duty.due.isoformat()}"
        hours = f"{duty.hours}小时" if duty.hours is not None else ""
        task = tasks_service.ensure(
            db_session=db_session, key=key, kind="duty",
            title=f"{duty.label}{hours}（{duty.window_start.isoformat()}至{duty.due.isoformat()}）",
            due_on=duty.due, subject=s, source_type="level_reviews", source_id=review.id,
        )
        created += task in db_session.new
    return created


def decide_level(*, db_session: Session, review_id: int, decision_in: LevelDecisionIn) -> tuple[LevelReview, int]:
    actor = writer(db_session)
    review = _one(db_session, LevelReview, review_id, "等级建议不存在或不在您的管辖范围内", "level_review_not_found")
    s = active_subject(db_session, review.subject_id)
    if review.status != "proposed":
        raise Conflict("该等级建议已处理", code="level_review_state")
    level = decision_in.level.value if decision_in.level else review.proposed_level
    if decision_in.decision == "reject" and not decision_in.note:
        raise InvalidInput("不采纳等级建议须说明理由", code="reason_required", fields={"note": "必填"})
    if decision_in.decision == "confirm" and level != review.proposed_level and not decision_in.note:
        raise InvalidInput("确定的等级与建议不同，须说明理由", code="reason_required", fields={"note": "必填"})
    review.decided_by, review.decided_at, review.note = actor.username, clock.now(), decision_in.note or review.note
    tasks_service.close(db_session=db_session, key=f"level_confirm:{s.id}:{review.id}", note="已处理")
    created = 0
    if decision_in.decision == "reject":
        review.status = "rejected"
    else:
        review.status, review.decided_level, review.effective_on = "confirmed", level, clock.today_local()
        s.supervision_level = level  # audited as a change of the subject by the flush listener
        tasks_service.close(db_session=db_session, key_prefix=f"duty:{s.id}:", due_from=clock.today_local(),
                            status="cancelled", note="管理等级已调整")
        created = schedule_duties(db_session, s, review)
    db_session.commit()
    return review, created


def current_level_review(db_session: Session, subject_id: int) -> LevelReview | None:
    return db_session.execute(
        select(LevelReview).where(LevelReview.subject_id == subject_id, LevelReview.status == "confirmed")
        .order_by(LevelReview.decided_at.desc(), LevelReview.id.desc()).limit(1)
    ).scalar_one_or_none()


# --- 日常监管记录, 月度考核 ------------------------------------------------------------------------

_DUTY_OF_RECORD = {("report", "in_person"): level_rules.DutyKind.in_person_report,
                   ("report", "written"): level_rules.DutyKind.written_report,
                   ("talk", None): level_rules.DutyKind.talk}


def add_record(*, db_session: Session, subject_id: int, record_in: RecordIn) -> DailyRecord:
    actor = writer(db_session)
    s = active_subject(db_session, subject_id)
    occurred_on = not_future(record_in.occurred_on, "occurred_on")
    data = record_in.model_dump()
    row = DailyRecord(
        subject_id=s.id, kind=record_in.kind, occurred_on=occurred_on, channel=data.get("channel"),
        hours=data.get("hours"), place=data.get("place"), counterpart=data.get("counterpart"),
        result=data.get("result"), summary=record_in.summary, staff_id=actor.staff_id,
        recorded_by=actor.username, recorded_at=clock.now(),
    )
    db_session.add(row)
    db_session.flush()
    _complete_duties(db_session, s, row)
    db_session.commit()
    return row


def _complete_duties(db_session: Session, s: Subject, row: DailyRecord) -> None:
    """A record fulfils the open duty task whose window holds it (hours once the month's total is met)."""
    review = current_level_review(db_session, s.id)
    if review is None or review.effective_on is None:
        return
    level = review.decided_level or review.proposed_level
    end = s.correction_end_date or (review.effective_on + timedelta(days=366))
    kind = _DUTY_OF_RECORD.get((row.kind, row.channel if row.kind == "report" else None))
    if row.kind in ("education", "community_service"):
        kind = level_rules.DutyKind(row.kind)
    if kind is None:
        return
    for duty in level_rules.duty_schedule(level, review.effective_on, end):
        if duty.kind is not kind or not duty.window_start <= row.occurred_on <= duty.due:
            continue
        if duty.hours is not None:
            done = db_session.execute(
                select(func.coalesce(func.sum(DailyRecord.hours), 0)).where(
                    DailyRecord.subject_id == s.id, DailyRecord.kind == row.kind,
                    DailyRecord.occurred_on >= duty.window_start, DailyRecord.occurred_on <= duty.due)
            ).scalar_one()
            if float(done) < duty.hours:
                return
        tasks_service.close(db_session=db_session,
                            key=f"duty:{s.id}:{review.id}:{kind.value}:{duty.due.isoformat()}",
                            note=f"已完成（记录 {row.id}）")
        return


def list_records(
    *, db_session: Session, subject_id: int, kind: str | None = None, month: str | None = None
) -> list[DailyRecord]:
    subject(db_session, subject_id)
    stmt = select(DailyRecord).where(DailyRecord.subject_id == subject_id)
    if kind:
        stmt = stmt.where(DailyRecord.kind == kind)
    if month:
        first, last = _month_bounds(month)
        stmt = stmt.where(DailyRecord.occurred_on >= first, DailyRecord.occurred_on <= last)
    return list(db_session.execute(stmt.order_by(DailyRecord.occurred_on.desc(), DailyRecord.id.desc())).scalars())


def _month_bounds(month: str) -> tuple[date, date]:
    year, mon = (int(p) for p in month.split("-"))
    first = date(year, mon, 1)
    last = (date(year + (mon == 12), mon % 12 + 1, 1)) - timedelta(days=1)
    return first, last


def assess_month(
    *, db_session: Session, subject_id: int, assessment_in: MonthlyAssessmentCreate
) -> MonthlyAssessment:
    actor = writer(db_session)
    s = active_subject(db_session, subject_id)
    first, last = _month_bounds(assessment_in.month)
    today = clock.today_local()
    if first > today:
        raise InvalidInput("不能考核尚未开始的月份", code="month_in_future", fields={"month": "尚未开始"})
    if s.correction_start_date is None or last < s.correction_start_date:
        raise InvalidInput("该月份不在矫正期内", code="month_out_of_term", fields={"month": "不在矫正期内"})
    review = current_level_review(db_session, s.id)
    start = max(review.effective_on if review and review.effective_on else s.correction_start_date, first)
    level = s.supervision_level
    duties = level_rules.duty_schedule(level, review.effective_on if review and review.effective_on
                                       else s.correction_start_date, min(last, s.correction_end_date or last))
    required = scoring.requirements([d for d in duties if d.window_start >= start or d.due >= start], first, last)
    records = list_records(db_session=db_session, subject_id=s.id, month=assessment_in.month)
    sanctions = [r for r in decided_sanctions(db_session, s.id)
                 if r.decided_at is not None and first <= local_date(r.decided_at) <= last]
    facts = scoring.MonthFacts(
        required=required,
        in_person_reports=sum(r.kind == "report" and r.channel == "in_person" for r in records),
        written_reports=sum(r.kind == "report" and r.channel == "written" for r in records),
        education_hours=sum(r.hours or 0 for r in records if r.kind == "education"),
        community_service_hours=sum(r.hours or 0 for r in records if r.kind == "community_service"),
        admonitions=sum(r.kind == "admonition" for r in sanctions),
        warnings=sum(r.kind == "warning" for r in sanctions),
        commendations=sum(r.kind == "commendation" for r in sanctions),
    )
    result = scoring.monthly_score(facts)
    score = assessment_in.score if assessment_in.score is not None else result.score
    if score != result.score and not assessment_in.note:
        raise InvalidInput(f"考核分与建议分{result.score}分不同，须说明理由", code="reason_required",
                           fields={"note": "必填"})
    row = MonthlyAssessment(
        subject_id=s.id, month=first, computed_score=result.score, score=score, passed=scoring.passes(score),
        breakdown=[{"reason": reason, "points": points} for reason, points in result.deductions],
        note=assessment_in.note, assessed_by=actor.username, assessed_at=clock.now(),
    )
    db_session.add(row)
    try:
        db_session.commit()
    except IntegrityError:
        db_session.rollback()
        raise Conflict("该月份已考核", code="month_assessed", fields={"month": "已考核"}) from None
    return row


def list_monthly_assessments(*, db_session: Session, subject_id: int) -> list[MonthlyAssessment]:
    subject(db_session, subject_id)
    return list(db_session.execute(
        select(MonthlyAssessment).where(MonthlyAssessment.subject_id == subject_id)
        .order_by(MonthlyAssessment.month)
    ).scalars())


# --- 外出请假 (Law Art. 27) ----------------------------------------------------------------------


def get_leave(*, db_session: Session, leave_id: int) -> LeaveRequest:
    reader(db_session)
    return _one(db_session, LeaveRequest, leave_id, "外出申请不存在或不在您的管辖范围内", "leave_not_found")


def list_leaves(*, db_session: Session, subject_id: int | None = None, status: str | None = None,
                limit: int | None = None) -> list[LeaveRequest]:
    reader(db_session)
    stmt = select(LeaveRequest)
    if subject_id is not None:
        subject(db_session, subject_id)
        stmt = stmt.where(LeaveRequest.subject_id == subject_id)
    if status:
        stmt = stmt.where(LeaveRequest.status == status)
    stmt = stmt.order_by(LeaveRequest.start.desc(), LeaveRequest.id.desc())
    return list(db_session.execute(stmt.limit(limit) if limit else stmt).scalars())


def leave_rule(row: LeaveRequest) -> leave_rules.LeaveRequest:
    return leave_rules.LeaveRequest(
        subject_id=row.subject_id, office_id=row.office_id, requested_by=row.requested_by_id or 0,
        start=row.start, end=row.end, status=leave_rules.LeaveStatus(row.status), returned_on=row.returned_on,
        frequent=row.frequent,
    )


def approver_of(actor: Actor) -> leave_rules.Approver:
    role = {Role.office_officer: leave_rules.StaffRole.office_officer,
            Role.bureau_officer: leave_rules.StaffRole.bureau_officer,
            Role.leader: leave_rules.StaffRole.bureau_leader}.get(Role(actor.role)) if actor.role else None
    if role is None or actor.staff_id is None:
        raise Forbidden("您的角色无权审批外出申请", code="permission_denied")
    return leave_rules.Approver(staff_id=actor.staff_id, role=role, office_id=actor.office_id)


def active_leaves(db_session: Session, subject_id: int, at: datetime) -> list[ActiveLeave]:
    """Approved leaves in force at ``at``: destination text and dates, for monitoring's area rules.

    A leave covers whole local days, from 00:00 of its first day to 24:00 of its last
    (Asia/Shanghai). An overdue leave no longer covers anything: the subject should be back.
    """
    day = clock.to_local(clock.ensure_utc(at)).date()
    rows = db_session.execute(
        select(LeaveRequest).where(LeaveRequest.subject_id == subject_id, LeaveRequest.status == "approved",
                                   LeaveRequest.start <= day, LeaveRequest.end >= day)
        .order_by(LeaveRequest.start)
    ).scalars().all()
    return [leave_window(r) for r in rows]


def leave_window(row: LeaveRequest) -> ActiveLeave:
    start_at = datetime.combine(row.start, time.min, tzinfo=clock.SHANGHAI)
    end_at = datetime.combine(row.end + timedelta(days=1), time.min, tzinfo=clock.SHANGHAI)
    return ActiveLeave(id=row.id, subject_id=row.subject_id, destination=row.destination, start=row.start,
                       end=row.end, start_at=clock.ensure_utc(start_at), end_at=clock.ensure_utc(end_at))


def approved_leaves(db_session: Session, subject_id: int, since: date | None = None) -> list[ActiveLeave]:
    """Every approved leave of a subject ending on or after ``since`` (for rebuilding rule state)."""
    stmt = select(LeaveRequest).where(LeaveRequest.subject_id == subject_id, LeaveRequest.status == "approved")
    if since is not None:
        stmt = stmt.where(LeaveRequest.end >= since)
    return [leave_window(r) for r in db_session.execute(stmt.order_by(LeaveRequest.start)).scalars()]


def leave_windows(db_session: Session, since: date) -> list[ActiveLeave]:
    """Every approved leave ending on or after ``since``, all subjects (the positioning rules'
    context; the caller's actor is the pipeline's system actor)."""
    stmt = select(LeaveRequest).where(LeaveRequest.status == "approved", LeaveRequest.end >= since)
    return [leave_window(r) for r in db_session.execute(stmt.order_by(LeaveRequest.start)).scalars()]


def leaves_changed(db_session: Session, row: LeaveRequest) -> None:
    """Tell the positioning rules, once committed, that a subject's leaves changed."""
    from zhijiao.core.topics import DIRECTORY as DIRECTORY_TOPIC

    events.publish_on_commit(db_session, DIRECTORY_TOPIC, lambda: {"subject_id": row.subject_id, "leave_id": row.id})


def request_leave(*, db_session: Session, subject_id: int, leave_in: LeaveCreate) -> LeaveRequest:
    actor = writer(db_session)
    s = active_subject(db_session, subject_id)
    settings = leave_settings()
    rule = leave_rules.new_leave_request(
        subject_id=s.id, office_id=s.office_id, requested_by=actor.staff_id or 0, start=leave_in.start,
        end=leave_in.end, frequent=leave_in.frequent, settings=settings,
    )
    overlap = db_session.execute(
        select(LeaveRequest.id).where(LeaveRequest.subject_id == s.id,
                                      LeaveRequest.status.in_(("pending", "approved", "overdue")),
                                      LeaveRequest.start <= leave_in.end, LeaveRequest.end >= leave_in.start)
    ).first()
    if overlap is not None:
        raise Conflict("该时段已有待审批或已批准的外出申请", code="leave_overlap", fields={"start": "时段重叠"})
    level = leave_rules.required_level(rule, settings=settings)
    row = LeaveRequest(
        subject_id=s.id, office_id=s.office_id, start=leave_in.start, end=leave_in.end, days=rule.days,
        frequent=leave_in.frequent, destination=leave_in.destination, reason=leave_in.reason,
        companions=leave_in.companions, contact_phone=leave_in.contact_phone, approver_level=level.value,
        status="pending", requested_by_id=actor.staff_id, requested_by=actor.username,
    )
    db_session.add(row)
    db_session.flush()
    tasks_service.ensure(
        db_session=db_session, key=f"leave_decision:{row.id}", kind="leave_decision",
        title=f"审批外出申请（{leave_rules.APPROVER_LEVEL_LABELS[level]}审批，{row.days}日）",
        due_on=max(row.start - timedelta(days=1), clock.today_local()), subject=s,
        assignee_id=None if level is leave_rules.ApproverLevel.bureau else s.responsible_staff_id,
        source_type="leave_requests", source_id=row.id,
    )
    db_session.commit()
    return row


def confirm_return(*, db_session: Session, leave_id: int, returned_on: date | None, note: str | None) -> LeaveRequest:
    actor = writer(db_session)
    row = get_leave(db_session=db_session, leave_id=leave_id)
    s = subject(db_session, row.subject_id)
    back = not_future(returned_on or clock.today_local(), "returned_on")
    if row.status == "approved" and leave_rules.is_overdue(leave_rule(row)):
        leave_rules.mark_overdue(leave_rule(row))
    moved = leave_rules.mark_returned(leave_rule(row), returned_on=back)
    row.status, row.returned_on = moved.status.value, back
    row.return_confirmed_by, row.return_note = actor.username, note
    tasks_service.close(db_session=db_session, key=f"leave_overdue:{row.id}", note="已销假")
    leaves_changed(db_session, row)
    if moved.returned_late:
        tasks_service.ensure(
            db_session=db_session, key=f"leave_late_return:{row.id}", kind="leave_late_return",
            title=f"外出逾期{(back - row.end).days}日返回，核实原因并依法处理（训诫等）",
            due_on=clock.today_local() + timedelta(days=3), subject=s,
            source_type="leave_requests", source_id=row.id,
        )
    db_session.commit()
    return row


# --- 执行地变更 ----------------------------------------------------------------------------------


def get_transfer(*, db_session: Session, transfer_id: int) -> Transfer:
    reader(db_session)
    return _one(db_session, Transfer, transfer_id, "执行地变更申请不存在或不在您的管辖范围内", "transfer_not_found")


def list_transfers(*, db_session: Session, subject_id: int) -> list[Transfer]:
    subject(db_session, subject_id)
    return list(db_session.execute(
        select(Transfer).where(Transfer.subject_id == subject_id).order_by(Transfer.id)).scalars())


def _transfer_state(row: Transfer, *expected: str) -> None:
    if row.status not in expected:
        raise Conflict(f"执行地变更当前为“{TRANSFER_LABELS.get(row.status, row.status)}”，不能办理该步骤",
                       code="transfer_state")


TRANSFER_LABELS = {"applied": "已申请", "consulting": "征求意见中", "answered": "已回复", "approved": "已批准",
                   "rejected": "未批准", "completed": "已移交"}


def apply_transfer(*, db_session: Session, subject_id: int, transfer_in: TransferCreate) -> Transfer:
    actor = writer(db_session)
    s = active_subject(db_session, subject_id)
    busy = db_session.execute(select(Transfer.id).where(
        Transfer.subject_id == s.id, Transfer.status.in_(("applied", "consulting", "answered", "approved")))).first()
    if busy is not None:
        raise Conflict("该对象已有正在办理的执行地变更", code="transfer_in_progress")
    row = Transfer(subject_id=s.id, to_agency=transfer_in.to_agency, to_address=transfer_in.to_address,
                   reason=transfer_in.reason,
                   applied_on=not_future(transfer_in.applied_on or clock.today_local(), "applied_on"),
                   status="applied", created_by=actor.username)
    db_session.add(row)
    db_session.commit()
    return row


def consult_transfer(*, db_session: Session, transfer_id: int, consult_in: TransferConsultIn) -> Transfer:
    writer(db_session)
    row = get_transfer(db_session=db_session, transfer_id=transfer_id)
    s = open_subject(db_session, row.subject_id)
    _transfer_state(row, "applied")
    sent_on = not_future(consult_in.sent_on or clock.today_local(), "sent_on")
    row.consult_sent_on, row.status = sent_on, "consulting"
    row.consult_deadline = transfer_rules.consult_reply_deadline(sent_on)
    tasks_service.ensure(
        db_session=db_session, key=f"transfer_consult:{row.id}", kind="transfer_consult",
        title=f"新执行地（{row.to_agency}）应于{row.consult_deadline.isoformat()}前回复意见",
        due_on=row.consult_deadline, subject=s, source_type="transfers", source_id=row.id,
    )
    db_session.commit()
    return row


def answer_transfer(*, db_session: Session, transfer_id: int, answer_in: TransferAnswerIn) -> Transfer:
    writer(db_session)
    row = get_transfer(db_session=db_session, transfer_id=transfer_id)
    open_subject(db_session, row.subject_id)
    _transfer_state(row, "consulting")
    answered_on = not_future(answer_in.answered_on or clock.today_local(), "answered_on")
    if row.consult_sent_on and answered_on < row.consult_sent_on:
        raise InvalidInput("回复日期不能早于征求意见日期", code="date_order", fields={"answered_on": "早于征求意见"})
    row.answer, row.answered_on, row.status = answer_in.answer, answered_on, "answered"
    row.note = answer_in.note or row.note
    tasks_service.close(db_session=db_session, key=f"transfer_consult:{row.id}", note="已回复")
    db_session.commit()
    return row


def record_notifications(
    db_session: Session, s: Subject, event: str, source_id: int | None, rules_: Sequence[NoticeRule]
) -> list[Notification]:
    rows = []
    for n in rules_:
        row = Notification(subject_id=s.id, event=event, source_id=source_id, body=n.body.value,
                           sender=n.sender.value, action=n.action, legal_basis=n.legal_basis,
                           status="pending" if n.sender is Body.bureau else "others", created_at=clock.now())
        db_session.add(row)
        rows.append(row)
    return rows


def list_notifications(*, db_session: Session, subject_id: int, event: str | None = None,
                       source_id: int | None = None) -> list[Notification]:
    subject(db_session, subject_id)
    stmt = select(Notification).where(Notification.subject_id == subject_id)
    if event:
        stmt = stmt.where(Notification.event == event)
    if source_id is not None:
        stmt = stmt.where(Notification.source_id == source_id)
    return list(db_session.execute(stmt.order_by(Notification.id)).scalars())


def notification_done(*, db_session: Session, notification_id: int, done_on: date | None, note: str | None) -> Notification:
    actor = writer(db_session)
    row = _one(db_session, Notification, notification_id, "通知事项不存在或不在您的管辖范围内", "notification_not_found")
    if row.status != "pending":
        raise Conflict("该事项已办结或由其他机关办理", code="notification_state")
    row.status, row.done_on, row.done_by, row.note = "done", not_future(done_on or clock.today_local(), "done_on"), \
        actor.username, note
    db_session.commit()
    return row


def notification_body_label(row: Notification) -> str:
    return BODY_LABELS[Body(row.body)]


def decide_transfer(*, db_session: Session, transfer_id: int, decision: str, decided_on: date | None,
                    note: str | None) -> Transfer:
    actor = decider(db_session)
    row = get_transfer(db_session=db_session, transfer_id=transfer_id)
    require_bureau(actor, "执行地变更")
    s = open_subject(db_session, row.subject_id)
    _transfer_state(row, "answered", "applied", "consulting")
    if decision == "approve" and row.answer != "agree":
        raise Conflict("新执行地社区矫正机构同意接收后才能批准变更", code="transfer_not_agreed")
    on = not_future(decided_on or clock.today_local(), "decided_on")
    row.decision, row.decided_on, row.decided_by = decision, on, actor.username
    row.note = note or row.note
    tasks_service.close(db_session=db_session, key=f"transfer_consult:{row.id}", status="cancelled", note="已决定")
    if decision == "reject":
        row.status = "rejected"
    else:
        row.status = "approved"
        row.report_deadline = transfer_rules.new_place_report_deadline(on)
        row.handover_deadline = transfer_rules.handover_deadline(on)
        record_notifications(db_session, s, "transfer", row.id, transfer_rules.transfer_notifications())
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
    writer(db_session)
    row = get_transfer(db_session=db_session, transfer_id=transfer_id)
    open_subject(db_session, row.subject_id)
    _transfer_state(row, "approved")
    row.handed_over_on = not_future(handed_over_on or clock.today_local(), "handed_over_on")
    tasks_service.close(db_session=db_session, key=f"transfer_handover:{row.id}", note="已移交")
    if reported_on is not None:
        row.new_place_reported_on = not_future(reported_on, "new_place_reported_on")
        tasks_service.close(db_session=db_session, key=f"transfer_report:{row.id}", note="已在新执行地报到")
        row.status = "completed"
    row.note = note or row.note
    db_session.commit()
    return row


# --- 奖惩, 提请 ----------------------------------------------------------------------------------


def get_sanction(*, db_session: Session, sanction_id: int) -> Sanction:
    reader(db_session)
    return _one(db_session, Sanction, sanction_id, "奖惩记录不存在或不在您的管辖范围内", "sanction_not_found")


def list_sanctions(*, db_session: Session, subject_id: int) -> list[Sanction]:
    subject(db_session, subject_id)
    return list(db_session.execute(
        select(Sanction).where(Sanction.subject_id == subject_id).order_by(Sanction.id)).scalars())


def get_proposal(*, db_session: Session, proposal_id: int) -> Proposal:
    reader(db_session)
    return _one(db_session, Proposal, proposal_id, "提请建议不存在或不在您的管辖范围内", "proposal_not_found")


def list_proposals(*, db_session: Session, subject_id: int) -> list[Proposal]:
    subject(db_session, subject_id)
    return list(db_session.execute(
        select(Proposal).where(Proposal.subject_id == subject_id).order_by(Proposal.id)).scalars())


def violation_history(db_session: Session, s: Subject, flags: EscalationCheckIn | None = None
                      ) -> sanction_rules.ViolationHistory:
    records = [sanction_rules.SanctionRecord(sanction_rules.SanctionKind(r.kind), local_date(r.decided_at))
               for r in decided_sanctions(db_session, s.id) if r.decided_at is not None]
    for p in db_session.execute(select(Proposal).where(
            Proposal.subject_id == s.id, Proposal.kind.in_([k.value for k in sanction_rules.PROPOSALS]),
            Proposal.status.in_(("accepted", "sent", "court_decided")))).scalars():
        if p.decided_at is not None:
            records.append(sanction_rules.SanctionRecord(sanction_rules.SanctionKind(p.kind), local_date(p.decided_at)))
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
                       basis=suggestion.legal_basis, decider=rule.decider.value, status="suggested",
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
    writer(db_session)
    s = open_subject(db_session, subject_id)
    if check_in.absconded_until and not check_in.absconded_from:
        raise InvalidInput("请填写脱管起始日期", code="abscond_from_required", fields={"absconded_from": "必填"})
    if check_in.absconded_from:
        not_future(check_in.absconded_from, "absconded_from")
        if check_in.absconded_until and check_in.absconded_until < check_in.absconded_from:
            raise InvalidInput("脱管结束日期不能早于起始日期", code="date_order", fields={"absconded_until": "早于起始"})
    rows = store_suggestions(db_session, s, violation_history(db_session, s, check_in))
    db_session.commit()
    return rows


def create_proposal(*, db_session: Session, subject_id: int, proposal_in: ProposalCreate) -> Proposal:
    actor = writer(db_session)
    s = open_subject(db_session, subject_id)
    kind = sanction_rules.SanctionKind(proposal_in.kind)
    if kind in sanction_rules.REVOCATION_KINDS and kind is not sanction_rules.revocation_kind(s.correction_type):
        raise Conflict(
            f"“{sanction_rules.SANCTION_LABELS[kind]}”不适用于"
            f"{subject_rules.CORRECTION_TYPE_LABELS[subject_rules.CorrectionType(s.correction_type)]}社区矫正对象",
            code="proposal_kind_mismatch")
    rule = sanction_rules.who_decides(kind)
    row = Proposal(subject_id=s.id, kind=kind.value, source="officer", reason=proposal_in.reason,
                   basis=proposal_in.basis or rule.legal_basis, decider=rule.decider.value, status="suggested",
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
    return row.status == "sent" and row.answer_due is not None and (today or clock.today_local()) > row.answer_due


def record_outcome(*, db_session: Session, proposal_id: int, outcome: str, decided_on: date,
                   ruling_number: str | None, note: str | None) -> Proposal:
    """Record the court's (or other organ's) decision on a proposal that was sent."""
    writer(db_session)
    row = get_proposal(db_session=db_session, proposal_id=proposal_id)
    s = open_subject(db_session, row.subject_id)
    if row.status != "sent":
        raise Conflict("只能登记已送达的提请建议的决定结果", code="proposal_state")
    on = not_future(decided_on, "decided_on")
    if row.sent_on and on < row.sent_on:
        raise InvalidInput("决定日期不能早于送达日期", code="date_order", fields={"decided_on": "早于送达日期"})
    row.status, row.outcome, row.outcome_on, row.outcome_ref, row.outcome_note = \
        "court_decided", outcome, on, ruling_number, note
    tasks_service.close(db_session=db_session, key=f"court_answer:{row.id}", note="已收到决定")
    kind = sanction_rules.SanctionKind(row.kind)
    if outcome == "granted" and kind in sanction_rules.REVOCATION_KINDS:
        tasks_service.ensure(
            db_session=db_session, key=f"termination_followup:{row.id}", kind="termination_followup",
            title=f"{sanction_rules.DECIDER_LABELS[sanction_rules.Decider(row.decider)]}已决定"
                  f"{sanction_rules.SANCTION_LABELS[kind].removeprefix('提请')}，办理终止矫正并通知有关机关",
            due_on=clock.today_local(), subject=s, source_type="proposals", source_id=row.id,
        )
    db_session.commit()
    return row
