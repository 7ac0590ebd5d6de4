"""Routes of daily supervision and the monthly assessment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.core.errors import InvalidInput
from zhijiao.supervision.daily import service
from zhijiao.supervision.daily.schemas import (
    RECORD_KINDS,
    MonthlyAssessmentCreate,
    MonthlyAssessmentRead,
    RecordIn,
    RecordRead,
)

router = APIRouter(tags=["supervision"])

Month = Annotated[str | None, Query(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


@router.post("/subjects/{subject_id}/records", response_model=RecordRead, status_code=201,
             summary="日常监管记录（报告、走访、谈话、核查、会客、教育、公益活动）")
def add_record(db_session: ScopedDb, subject_id: IdPath, record_in: RecordIn) -> RecordRead:
    return RecordRead.model_validate(service.add_record(db_session=db_session, subject_id=subject_id,
                                                        record_in=record_in))


@router.get("/subjects/{subject_id}/records", response_model=list[RecordRead], summary="日常监管记录")
def list_records(db_session: ScopedDb, subject_id: IdPath, kind: str | None = Query(default=None, max_length=24),
                 month: Month = None) -> list[RecordRead]:
    if kind is not None and kind not in RECORD_KINDS:
        raise InvalidInput(f"记录类型须为：{'、'.join(RECORD_KINDS)}", code="validation_error", fields={"kind": "取值不合法"})
    return [RecordRead.model_validate(r) for r in service.list_records(db_session=db_session, subject_id=subject_id,
                                                                      kind=kind, month=month)]


@router.post("/subjects/{subject_id}/monthly-assessments", response_model=MonthlyAssessmentRead, status_code=201,
             summary="月度考核（按记录建议分数）")
def assess_month(db_session: ScopedDb, subject_id: IdPath, assessment_in: MonthlyAssessmentCreate
                 ) -> MonthlyAssessmentRead:
    return MonthlyAssessmentRead.model_validate(service.assess_month(db_session=db_session, subject_id=subject_id,
                                                                     assessment_in=assessment_in))


@router.get("/subjects/{subject_id}/monthly-assessments", response_model=list[MonthlyAssessmentRead],
            summary="月度考核记录")
def list_monthly_assessments(db_session: ScopedDb, subject_id: IdPath) -> list[MonthlyAssessmentRead]:
    return [MonthlyAssessmentRead.model_validate(m)
            for m in service.list_monthly_assessments(db_session=db_session, subject_id=subject_id)]
