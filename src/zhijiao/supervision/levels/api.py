"""Routes of classified management."""

from __future__ import annotations

from fastapi import APIRouter

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.supervision.levels import service
from zhijiao.supervision.levels.schemas import LevelDecisionIn, LevelReviewCreate, LevelReviewRead

router = APIRouter(tags=["supervision"])


@router.post("/subjects/{subject_id}/level-reviews", response_model=LevelReviewRead, status_code=201,
             summary="提出管理等级建议（附理由）")
def propose_level(db_session: ScopedDb, subject_id: IdPath, review_in: LevelReviewCreate) -> LevelReviewRead:
    return service.level_review_read(service.propose_level(db_session=db_session, subject_id=subject_id,
                                                           review_in=review_in))


@router.get("/subjects/{subject_id}/level-reviews", response_model=list[LevelReviewRead], summary="管理等级评定记录")
def list_level_reviews(db_session: ScopedDb, subject_id: IdPath) -> list[LevelReviewRead]:
    return [service.level_review_read(r)
            for r in service.list_level_reviews(db_session=db_session, subject_id=subject_id)]


@router.post("/level-reviews/{review_id}/decisions", response_model=LevelReviewRead,
             summary="确认或不采纳等级建议（确认后生成分类管理任务）")
def decide_level(db_session: ScopedDb, review_id: IdPath, decision_in: LevelDecisionIn) -> LevelReviewRead:
    review, created = service.decide_level(db_session=db_session, review_id=review_id, decision_in=decision_in)
    return service.level_review_read(review, created)
