from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.core.pagination import Page
from zhijiao.subjects import counts as subject_counts
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.schemas import (
    CorrectionType,
    MinorOverrideIn,
    MinorOverrideRead,
    SubjectCounts,
    SubjectCreate,
    SubjectListItem,
    SubjectRead,
    SubjectStatus,
    SubjectUpdate,
    SupervisionLevel,
    TransitionIn,
)

router = APIRouter(prefix="/subjects", tags=["subjects"])


@router.get("", response_model=Page[SubjectListItem], summary="社区矫正对象列表与检索")
def list_subjects(
    db_session: ScopedDb,
    q: Annotated[str | None, Query(max_length=50, description="姓名、身份证号或其后 4 位")] = None,
    office: Annotated[str | None, Query(max_length=16, description="司法所编码")] = None,
    office_id: Annotated[int | None, Query(ge=1, le=2**31)] = None,
    status: SubjectStatus | None = None,
    correction_type: CorrectionType | None = None,
    supervision_level: SupervisionLevel | None = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Page[SubjectListItem]:
    return subjects_service.search(
        db_session=db_session, q=q, office_code=office, office_id=office_id,
        status=status.value if status else None,
        correction_type=correction_type.value if correction_type else None,
        supervision_level=supervision_level.value if supervision_level else None, page=page, size=size,
    )


@router.get("/counts", response_model=SubjectCounts, summary="在册、在矫、管理等级等统计（与首页、列表、指挥中心一致）")
def get_counts(db_session: ScopedDb) -> SubjectCounts:
    """Only the files the caller can open are counted; ``hidden_*`` says how many others are left out."""
    return subject_counts.counts(db_session=db_session)


@router.post("", response_model=SubjectRead, status_code=201, summary="新建档案")
def create_subject(db_session: ScopedDb, subject_in: SubjectCreate) -> SubjectRead:
    subject = subjects_service.create(db_session=db_session, subject_in=subject_in)
    return subjects_service.read_full(db_session=db_session, subject_id=subject.id)


@router.get("/{subject_id}", response_model=SubjectRead, summary="档案详情（查看完整身份信息将被审计）")
def get_subject(db_session: ScopedDb, subject_id: IdPath) -> SubjectRead:
    return subjects_service.read_full(db_session=db_session, subject_id=subject_id)


@router.patch("/{subject_id}", response_model=SubjectRead, summary="修改档案")
def update_subject(db_session: ScopedDb, subject_id: IdPath, subject_in: SubjectUpdate) -> SubjectRead:
    subjects_service.update(db_session=db_session, subject_id=subject_id, subject_in=subject_in)
    return subjects_service.read_full(db_session=db_session, subject_id=subject_id)


@router.post("/{subject_id}/minor-override", response_model=MinorOverrideRead,
             summary="更正未成年身份（仅局领导，须说明理由，将被审计）")
def override_minor(db_session: ScopedDb, subject_id: IdPath, override_in: MinorOverrideIn) -> MinorOverrideRead:
    s = subjects_service.override_minor(db_session=db_session, subject_id=subject_id, override_in=override_in)
    return MinorOverrideRead(id=s.id, is_minor=s.is_minor, minor_override=s.minor_override,
                             reason=s.minor_override_reason, by=s.minor_override_by, at=s.minor_override_at)


@router.post("/{subject_id}/transitions", response_model=SubjectRead, summary="矫正状态流转")
def transition_subject(db_session: ScopedDb, subject_id: IdPath, transition_in: TransitionIn) -> SubjectRead:
    subjects_service.transition(db_session=db_session, subject_id=subject_id, transition_in=transition_in)
    return subjects_service.read_full(db_session=db_session, subject_id=subject_id)
