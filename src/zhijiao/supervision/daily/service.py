"""Daily supervision (社区矫正法 第二十六条、第三十五条至第四十三条) and the monthly assessment
(第二十八条): a record fulfils the duty task of the level whose window holds it; the month's score
is proposed from the records and the measures decided in the month."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, InvalidInput
from zhijiao.subjects.models import Subject
from zhijiao.supervision import common
from zhijiao.supervision.daily import rules as scoring
from zhijiao.supervision.daily.models import DailyRecord, MonthlyAssessment
from zhijiao.supervision.daily.schemas import MonthlyAssessmentCreate, RecordIn
from zhijiao.supervision.levels import rules as level_rules
from zhijiao.supervision.levels import service as levels_service
from zhijiao.supervision.sanctions import service as sanctions_service
from zhijiao.supervision.sanctions.rules import SanctionKind
from zhijiao.tasks import service as tasks_service

_DUTY_OF_RECORD = {("report", "in_person"): level_rules.DutyKind.in_person_report,
                   ("report", "written"): level_rules.DutyKind.written_report,
                   ("talk", None): level_rules.DutyKind.talk}


def add_record(*, db_session: Session, subject_id: int, record_in: RecordIn) -> DailyRecord:
    actor = common.writer(db_session)
    s = common.active_subject(db_session, subject_id)
    occurred_on = common.not_future(record_in.occurred_on, "occurred_on")
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
    review = levels_service.current_level_review(db_session, s.id)
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
    common.subject(db_session, subject_id)
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
    actor = common.writer(db_session)
    s = common.active_subject(db_session, subject_id)
    first, last = _month_bounds(assessment_in.month)
    today = clock.today_local()
    if first > today:
        raise InvalidInput("不能考核尚未开始的月份", code="month_in_future", fields={"month": "尚未开始"})
    if s.correction_start_date is None or last < s.correction_start_date:
        raise InvalidInput("该月份不在矫正期内", code="month_out_of_term", fields={"month": "不在矫正期内"})
    review = levels_service.current_level_review(db_session, s.id)
    start = max(review.effective_on if review and review.effective_on else s.correction_start_date, first)
    level = s.supervision_level
    duties = level_rules.duty_schedule(level, review.effective_on if review and review.effective_on
                                       else s.correction_start_date, min(last, s.correction_end_date or last))
    required = scoring.requirements([d for d in duties if d.window_start >= start or d.due >= start], first, last)
    records = list_records(db_session=db_session, subject_id=s.id, month=assessment_in.month)
    sanctions = [r for r in sanctions_service.decided_sanctions(db_session, s.id)
                 if r.decided_at is not None and first <= common.local_date(r.decided_at) <= last]
    facts = scoring.MonthFacts(
        required=required,
        in_person_reports=sum(r.kind == "report" and r.channel == "in_person" for r in records),
        written_reports=sum(r.kind == "report" and r.channel == "written" for r in records),
        education_hours=sum(r.hours or 0 for r in records if r.kind == "education"),
        community_service_hours=sum(r.hours or 0 for r in records if r.kind == "community_service"),
        admonitions=sum(r.kind == SanctionKind.admonition for r in sanctions),
        warnings=sum(r.kind == SanctionKind.warning for r in sanctions),
        commendations=sum(r.kind == SanctionKind.commendation for r in sanctions),
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
    common.subject(db_session, subject_id)
    return list(db_session.execute(
        select(MonthlyAssessment).where(MonthlyAssessment.subject_id == subject_id)
        .order_by(MonthlyAssessment.month)
    ).scalars())
