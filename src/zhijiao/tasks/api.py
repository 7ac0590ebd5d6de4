from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.tasks import service as tasks_service
from zhijiao.tasks.schemas import TaskDone, TaskPage, TaskRead, TaskSummary

router = APIRouter(prefix="/tasks", tags=["tasks"])


@router.get("", response_model=TaskPage, summary="任务与期限（按司法所、工作人员；含逾期数）")
def list_tasks(
    db_session: ScopedDb,
    office: Annotated[str | None, Query(max_length=16, description="司法所编码")] = None,
    office_id: Annotated[int | None, Query(ge=1, le=2**31)] = None,
    overdue: Annotated[bool | None, Query(description="true 只看逾期；false 不含逾期")] = None,
    status: Annotated[str | None, Query(pattern="^(open|done|cancelled|all)$")] = "open",
    assignee: Annotated[str | None, Query(pattern=r"^(me|none|\d{1,15})$", description="me、none 或工作人员编号")] = None,
    subject_id: Annotated[int | None, Query(ge=1, le=2**53)] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TaskPage:
    return tasks_service.search(
        db_session=db_session, office_code=office, office_id=office_id, overdue=overdue,
        status=None if status == "all" else status, assignee=assignee, subject_id=subject_id, kind=kind,
        page=page, size=size,
    )


@router.get("/summary", response_model=TaskSummary, summary="各司法所、工作人员的未办结与逾期任务数")
def task_summary(db_session: ScopedDb) -> TaskSummary:
    return tasks_service.summary(db_session=db_session)


@router.post("/{task_id}/done", response_model=TaskRead, summary="办结任务")
def complete_task(db_session: ScopedDb, task_id: IdPath, body: TaskDone | None = None) -> TaskRead:
    return tasks_service.complete(db_session=db_session, task_id=task_id, note=body.note if body else None)
