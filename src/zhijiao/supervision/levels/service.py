"""Classified management (分类管理, 社区矫正法 第二十四条、第二十八条): the rules propose a level
from the file's facts, the officer confirms it, and the confirmed level's duties become dated
tasks a rolling quarter ahead."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, InvalidInput
from zhijiao.subjects.models import Subject
from zhijiao.supervision import common
from zhijiao.supervision.daily.models import MonthlyAssessment
from zhijiao.supervision.levels import rules as level_rules
from zhijiao.supervision.levels.models import LevelReview, LevelReviewStatus
from zhijiao.supervision.levels.schemas import LevelDecisionIn, LevelReviewCreate, LevelReviewRead
from zhijiao.supervision.sanctions import service as sanctions_service
from zhijiao.supervision.sanctions.models import Proposal, ProposalOutcome
from zhijiao.supervision.sanctions.rules import SanctionKind
from zhijiao.tasks import service as tasks_service

TASK_HORIZON_DAYS = 92  # duty tasks are kept this far ahead (a rolling quarter)


def _level_since(db_session: Session, s: Subject) -> date:
    last = db_session.execute(
        select(LevelReview).where(LevelReview.subject_id == s.id, LevelReview.status == LevelReviewStatus.confirmed)
        .order_by(LevelReview.decided_at.desc(), LevelReview.id.desc()).limit(1)
    ).scalar_one_or_none()
    if last is not None and last.effective_on is not None:
        return last.effective_on
    assert s.correction_start_date is not None
    return s.correction_start_date


def level_facts(db_session: Session, s: Subject, risk_level: str) -> level_rules.LevelFacts:
    if s.correction_start_date is None:
        raise Conflict("尚未入矫宣告，不能评定管理等级", code="subject_not_under_correction")
    sanctions = sanctions_service.decided_sanctions(db_session, s.id)
    consecutive = 0
    for row in reversed(sanctions):
        if row.kind != SanctionKind.commendation:
            break
        consecutive += 1
    penalties = db_session.execute(
        select(func.count(Proposal.id)).where(Proposal.subject_id == s.id, Proposal.kind == SanctionKind.police_penalty,
                                              Proposal.outcome == ProposalOutcome.granted)
    ).scalar_one()
    months = list(db_session.execute(
        select(MonthlyAssessment).where(MonthlyAssessment.subject_id == s.id)
        .order_by(MonthlyAssessment.month.desc()).limit(3)
    ).scalars())
    return level_rules.LevelFacts(
        correction_start=s.correction_start_date, today=clock.today_local(),
        current_level=level_rules.SupervisionLevel(s.supervision_level), level_since=_level_since(db_session, s),
        risk_level=level_rules.RiskLevel(risk_level),
        admonitions=sum(r.kind == SanctionKind.admonition for r in sanctions),
        warnings=sum(r.kind == SanctionKind.warning for r in sanctions),
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
    actor = common.writer(db_session)
    s = common.active_subject(db_session, subject_id)
    facts = level_facts(db_session, s, review_in.risk_level)
    proposal = level_rules.propose_level(facts)
    for old in db_session.execute(select(LevelReview).where(LevelReview.subject_id == s.id,
                                                            LevelReview.status == LevelReviewStatus.proposed)).scalars():
        old.status = LevelReviewStatus.superseded.value
    review = LevelReview(
        subject_id=s.id, current_level=s.supervision_level, proposed_level=proposal.level.value,
        reasons=list(proposal.reasons), facts=_facts_json(facts), status=LevelReviewStatus.proposed.value,
        note=review_in.note,
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
    common.subject(db_session, subject_id)
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
    actor = common.writer(db_session)
    review = common.one(db_session, LevelReview, review_id, "等级建议不存在或不在您的管辖范围内", "level_review_not_found")
    s = common.active_subject(db_session, review.subject_id)
    if review.status != LevelReviewStatus.proposed:
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
        review.status = LevelReviewStatus.rejected.value
    else:
        review.status = LevelReviewStatus.confirmed.value
        review.decided_level, review.effective_on = level, clock.today_local()
        s.supervision_level = level  # audited as a change of the subject by the flush listener
        tasks_service.close(db_session=db_session, key_prefix=f"duty:{s.id}:", due_from=clock.today_local(),
                            status="cancelled", note="管理等级已调整")
        created = schedule_duties(db_session, s, review)
    db_session.commit()
    return review, created


def current_level_review(db_session: Session, subject_id: int) -> LevelReview | None:
    return db_session.execute(
        select(LevelReview).where(LevelReview.subject_id == subject_id, LevelReview.status == LevelReviewStatus.confirmed)
        .order_by(LevelReview.decided_at.desc(), LevelReview.id.desc()).limit(1)
    ).scalar_one_or_none()


def level_review_read(row: LevelReview, tasks_created: int = 0) -> LevelReviewRead:
    out = LevelReviewRead.model_validate(row)
    out.tasks_created = tasks_created
    return out
