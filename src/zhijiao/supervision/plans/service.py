"""The correction team (矫正小组, 社区矫正法 第二十五条) and the correction plan (矫正方案,
第二十四条): a revision supersedes the previous version; each plan is reviewed a quarter on."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import Conflict
from zhijiao.subjects.models import CorrectionTeamMember, Subject
from zhijiao.supervision import common
from zhijiao.supervision.plans import rules as plan_rules
from zhijiao.supervision.plans.models import CorrectionPlan, PlanReview, PlanStatus
from zhijiao.supervision.plans.schemas import PlanCreate, PlanRead, PlanReviewCreate, TeamIn
from zhijiao.tasks import service as tasks_service


def set_team(*, db_session: Session, subject_id: int, team_in: TeamIn) -> list[CorrectionTeamMember]:
    """Replace the team, enforcing Art. 25 (a female member for a female subject)."""
    common.writer(db_session)
    s = common.open_subject(db_session, subject_id)
    members = [m.model_dump(mode="json") for m in team_in.members]
    plan_rules.check_team(
        s.gender, [plan_rules.TeamMemberFacts(m["name"], m["role"], m.get("gender")) for m in members])
    s.team = [CorrectionTeamMember(**m) for m in members]
    db_session.commit()
    return list(s.team)


def list_plans(*, db_session: Session, subject_id: int) -> list[CorrectionPlan]:
    common.subject(db_session, subject_id)
    return list(db_session.execute(
        select(CorrectionPlan).where(CorrectionPlan.subject_id == subject_id).order_by(CorrectionPlan.version)
    ).scalars())


def create_plan(*, db_session: Session, subject_id: int, plan_in: PlanCreate) -> CorrectionPlan:
    actor = common.writer(db_session)
    s = common.active_subject(db_session, subject_id)
    plans = list_plans(db_session=db_session, subject_id=subject_id)
    for old in plans:
        if old.status == PlanStatus.active:
            old.status = PlanStatus.superseded.value
    today = clock.today_local()
    plan = CorrectionPlan(
        subject_id=s.id, version=(plans[-1].version + 1) if plans else 1, status=PlanStatus.active.value,
        circumstances=plan_in.circumstances, goals=plan_in.goals, measures=plan_in.measures,
        next_review_on=plan_rules.plan_review_due(today), created_by=actor.username,
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
    actor = common.writer(db_session)
    plan = common.one(db_session, CorrectionPlan, plan_id, "矫正方案不存在或不在您的管辖范围内", "plan_not_found")
    s = common.active_subject(db_session, plan.subject_id)
    if plan.status != PlanStatus.active:
        raise Conflict("该方案已被新版本取代，请复查现行方案", code="plan_superseded")
    reviewed_on = common.not_future(review_in.reviewed_on or clock.today_local(), "reviewed_on")
    plan.reviews.append(PlanReview(subject_id=s.id, reviewed_on=reviewed_on, findings=review_in.findings,
                                   adjustments=review_in.adjustments, reviewed_by=actor.username))
    tasks_service.close(db_session=db_session, key_prefix=f"plan_review:{s.id}:{plan.id}:", note="已复查")
    plan.next_review_on = plan_rules.plan_review_due(reviewed_on)
    _plan_review_task(db_session, s, plan)
    db_session.commit()
    return plan


def plan_read(row: CorrectionPlan) -> PlanRead:
    return PlanRead.model_validate(row)
