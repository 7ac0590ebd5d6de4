"""The pre-sentence assessment (调查评估, 社区矫正法 第十八条): entrusted by the deciding organ,
answered within 10 (expedited: 5) working days. A minor's name is masked in lists (第五十四条)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, Forbidden, InvalidInput
from zhijiao.org import service as org_service
from zhijiao.security.permissions import sees_every_office
from zhijiao.subjects import idcard
from zhijiao.subjects import rules as subject_rules
from zhijiao.supervision import common
from zhijiao.supervision.assessments.models import AssessmentStatus, PreSentenceAssessment
from zhijiao.supervision.assessments.schemas import AssessmentCreate, AssessmentFindings, AssessmentRead
from zhijiao.supervision.minors import rules as minors
from zhijiao.tasks import service as tasks_service


def create_assessment(*, db_session: Session, assessment_in: AssessmentCreate) -> PreSentenceAssessment:
    actor = common.writer(db_session)
    if not sees_every_office(actor):  # a 司法所 registers its own
        if assessment_in.office_id not in (None, actor.office_id):
            raise Forbidden("司法所工作人员只能登记本所承办的调查评估", code="office_out_of_scope")
        office_id = actor.office_id
    else:
        if assessment_in.office_id is None:
            raise InvalidInput("请选择承办司法所", code="office_required", fields={"office_id": "必填"})
        office_id = org_service.get_office(db_session=db_session, office_id=assessment_in.office_id).id
    linked = common.subject(db_session, assessment_in.subject_id) if assessment_in.subject_id else None
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
        request_note=assessment_in.request_note, status=AssessmentStatus.open.value, created_by=actor.username,
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
    common.reader(db_session)
    return common.one(db_session, PreSentenceAssessment, assessment_id, "调查评估不存在或不在您的管辖范围内",
                "assessment_not_found")


def list_assessments(*, db_session: Session, status: str | None = None, limit: int = 200
                     ) -> list[PreSentenceAssessment]:
    common.reader(db_session)
    stmt = select(PreSentenceAssessment).order_by(PreSentenceAssessment.deadline.desc(), PreSentenceAssessment.id)
    if status:
        stmt = stmt.where(PreSentenceAssessment.status == status)
    return list(db_session.execute(stmt.limit(limit)).scalars())


def complete_assessment(
    *, db_session: Session, assessment_id: int, findings_in: AssessmentFindings
) -> PreSentenceAssessment:
    actor = common.writer(db_session)
    row = get_assessment(db_session=db_session, assessment_id=assessment_id)
    if row.status != AssessmentStatus.open:
        raise Conflict("该调查评估已完成", code="assessment_completed")
    completed_on = common.not_future(findings_in.completed_on or clock.today_local(), "completed_on")
    if completed_on < row.entrusted_on:
        raise InvalidInput("完成日期不能早于委托日期", code="date_order", fields={"completed_on": "早于委托日期"})
    row.findings, row.opinion = findings_in.findings, findings_in.opinion.value
    row.opinion_note = findings_in.opinion_note
    row.completed_on, row.completed_by, row.status = completed_on, actor.username, AssessmentStatus.completed.value
    tasks_service.close(db_session=db_session, key=f"assessment:{row.id}", note="已提交评估意见")
    db_session.commit()
    return row


def assessment_display_name(row: PreSentenceAssessment) -> str:
    return idcard.mask_minor_name(row.person_name) if row.is_minor else row.person_name


def assessment_read(row: PreSentenceAssessment, *, in_list: bool = False) -> AssessmentRead:
    out = AssessmentRead.model_validate(row)
    out.overdue = row.status == AssessmentStatus.open and clock.today_local() > row.deadline
    if in_list:
        out.person_name = assessment_display_name(row)  # 社区矫正法 第五十四条
    return out
