"""Routes of the pre-sentence assessment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.supervision.assessments import service
from zhijiao.supervision.assessments.schemas import AssessmentCreate, AssessmentFindings, AssessmentRead

router = APIRouter(tags=["supervision"])


@router.post("/assessments", response_model=AssessmentRead, status_code=201, summary="登记调查评估委托")
def create_assessment(db_session: ScopedDb, assessment_in: AssessmentCreate) -> AssessmentRead:
    return service.assessment_read(service.create_assessment(db_session=db_session, assessment_in=assessment_in))


@router.get("/assessments", response_model=list[AssessmentRead], summary="调查评估（未成年人姓名隐去）")
def list_assessments(db_session: ScopedDb, status: Annotated[str | None, Query(pattern="^(open|completed)$")] = None,
                     limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[AssessmentRead]:
    return [service.assessment_read(a, in_list=True)
            for a in service.list_assessments(db_session=db_session, status=status, limit=limit)]


@router.get("/assessments/{assessment_id}", response_model=AssessmentRead, summary="调查评估详情")
def get_assessment(db_session: ScopedDb, assessment_id: IdPath) -> AssessmentRead:
    return service.assessment_read(service.get_assessment(db_session=db_session, assessment_id=assessment_id))


@router.post("/assessments/{assessment_id}/findings", response_model=AssessmentRead, summary="提交调查评估意见")
def complete_assessment(db_session: ScopedDb, assessment_id: IdPath, findings_in: AssessmentFindings) -> AssessmentRead:
    return service.assessment_read(service.complete_assessment(db_session=db_session, assessment_id=assessment_id,
                                                        findings_in=findings_in))
