from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from zhijiao.api.deps import ScopedDb
from zhijiao.jobs import service as jobs_service
from zhijiao.security import audit
from zhijiao.security.actor import get_actor
from zhijiao.security.permissions import Perm, require

router = APIRouter(prefix="/jobs", tags=["system"])


@router.get("", summary="定时任务及最近一次运行（系统管理员）")
def list_jobs(db_session: ScopedDb) -> list[dict[str, Any]]:
    require(get_actor(db_session), Perm.settings_manage)
    return jobs_service.status(db_session=db_session)


@router.post("/{name}/run", summary="立即运行一个定时任务（系统管理员；运行将被审计）")
def run_job(db_session: ScopedDb, name: Annotated[str, Path(max_length=64)]) -> dict[str, Any]:
    actor = require(get_actor(db_session), Perm.settings_manage)
    job = jobs_service.get_job(name)
    audit.record(db_session, object_type="job", object_id=job.name, action="run")
    db_session.commit()
    ran = jobs_service.execute(job, force=True, requested_by=actor.username)
    row = next(r for r in jobs_service.status(db_session=db_session) if r["name"] == job.name)
    return {**row, "ran": ran}
