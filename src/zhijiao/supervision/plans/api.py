"""Routes of the correction team and the correction plan."""

from __future__ import annotations

from fastapi import APIRouter

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.subjects.schemas import TeamMemberRead
from zhijiao.supervision.plans import service
from zhijiao.supervision.plans.schemas import PlanCreate, PlanRead, PlanReviewCreate, TeamIn

router = APIRouter(tags=["supervision"])


@router.put("/subjects/{subject_id}/team", response_model=list[TeamMemberRead], summary="矫正小组（第二十五条）")
def set_team(db_session: ScopedDb, subject_id: IdPath, team_in: TeamIn) -> list[TeamMemberRead]:
    return [TeamMemberRead.model_validate(m)
            for m in service.set_team(db_session=db_session, subject_id=subject_id, team_in=team_in)]


@router.post("/subjects/{subject_id}/plans", response_model=PlanRead, status_code=201, summary="制定或修订矫正方案")
def create_plan(db_session: ScopedDb, subject_id: IdPath, plan_in: PlanCreate) -> PlanRead:
    return service.plan_read(service.create_plan(db_session=db_session, subject_id=subject_id, plan_in=plan_in))


@router.get("/subjects/{subject_id}/plans", response_model=list[PlanRead], summary="矫正方案（含历次版本与复查）")
def list_plans(db_session: ScopedDb, subject_id: IdPath) -> list[PlanRead]:
    return [service.plan_read(p) for p in service.list_plans(db_session=db_session, subject_id=subject_id)]


@router.post("/plans/{plan_id}/reviews", response_model=PlanRead, status_code=201, summary="复查矫正方案")
def review_plan(db_session: ScopedDb, plan_id: IdPath, review_in: PlanReviewCreate) -> PlanRead:
    return service.plan_read(service.review_plan(db_session=db_session, plan_id=plan_id, review_in=review_in))
