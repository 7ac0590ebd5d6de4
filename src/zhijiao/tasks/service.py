"""Tasks and deadlines. Other domains create them through :func:`ensure` and close them through
:func:`close`, inside their own unit of work (no commit here except for the task routes)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, NotFound
from zhijiao.core.pagination import offset
from zhijiao.org import service as org_service
from zhijiao.org.models import Office, Staff
from zhijiao.security.actor import Actor, get_actor
from zhijiao.security.permissions import Perm, require
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.models import Subject
from zhijiao.tasks.models import Task
from zhijiao.tasks.schemas import TASK_KINDS, TaskCounts, TaskGroup, TaskPage, TaskRead, TaskSummary

OPEN = "open"


def ensure(
    *,
    db_session: Session,
    key: str,
    kind: str,
    title: str,
    due_on: date,
    subject: Subject | None = None,
    office_id: int | None = None,
    assignee_id: int | None = None,
    source_type: str | None = None,
    source_id: int | None = None,
) -> Task:
    """The task with ``key``, created when missing (idempotent; a closed one stays closed)."""
    existing = db_session.execute(
        select(Task).where(Task.key == key).execution_options(skip_scope=True)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    for pending in db_session.new:
        if isinstance(pending, Task) and pending.key == key:
            return pending
    task = Task(
        key=key, kind=kind, title=title, due_on=due_on,
        subject_id=subject.id if subject is not None else None,
        office_id=subject.office_id if subject is not None else office_id,
        assignee_id=assignee_id if assignee_id is not None else (subject.responsible_staff_id if subject else None),
        source_type=source_type, source_id=source_id, status=OPEN, created_at=clock.now(),
    )
    db_session.add(task)
    return task


def close(
    *,
    db_session: Session,
    key: str | None = None,
    key_prefix: str | None = None,
    source_type: str | None = None,
    source_id: int | None = None,
    kinds: tuple[str, ...] | None = None,
    subject_id: int | None = None,
    due_from: date | None = None,
    status: str = "done",
    note: str | None = None,
) -> int:
    """Close the open tasks that match; the caller has already authorised the source object."""
    stmt = select(Task).where(Task.status == OPEN)
    if key is not None:
        stmt = stmt.where(Task.key == key)
    if key_prefix is not None:
        stmt = stmt.where(Task.key.startswith(key_prefix, autoescape=True))
    if source_type is not None:
        stmt = stmt.where(Task.source_type == source_type, Task.source_id == source_id)
    if kinds:
        stmt = stmt.where(Task.kind.in_(kinds))
    if subject_id is not None:
        stmt = stmt.where(Task.subject_id == subject_id)
    if due_from is not None:
        stmt = stmt.where(Task.due_on >= due_from)
    actor = get_actor(db_session)
    rows = db_session.execute(stmt.execution_options(skip_scope=True)).scalars().all()
    for task in rows:
        task.status, task.closed_at, task.note = status, clock.now(), note or task.note
        task.closed_by = actor.username if actor else None
    return len(rows)


def open_tasks(*, db_session: Session, kind: str) -> list[Task]:
    """Every open task of a kind (for system jobs; the session's scope applies)."""
    return list(db_session.execute(select(Task).where(Task.status == OPEN, Task.kind == kind)).scalars())


def _filters(
    db_session: Session, actor: Actor, *, office_code: str | None, office_id: int | None, assignee: str | None,
    subject_id: int | None, kind: str | None,
) -> list:
    conds = []
    if office_code:
        office_id = org_service.get_office_by_code(db_session=db_session, code=office_code).id
    if office_id is not None:
        conds.append(Task.office_id == office_id)
    if assignee == "me":
        conds.append(Task.assignee_id == actor.staff_id)
    elif assignee == "none":
        conds.append(Task.assignee_id.is_(None))
    elif assignee:
        conds.append(Task.assignee_id == int(assignee))
    if subject_id is not None:
        conds.append(Task.subject_id == subject_id)
    if kind:
        conds.append(Task.kind == kind)
    return conds


def _read(tasks: list[Task], db_session: Session, today: date) -> list[TaskRead]:
    subject_ids = {t.subject_id for t in tasks if t.subject_id}
    subjects = {s.id: s for s in db_session.execute(
        select(Subject).where(Subject.id.in_(subject_ids))).unique().scalars()} if subject_ids else {}
    office_ids = {t.office_id for t in tasks if t.office_id}
    offices = {o.id: o.name for o in db_session.execute(select(Office).where(Office.id.in_(office_ids))).scalars()}
    staff_ids = {t.assignee_id for t in tasks if t.assignee_id}
    staff = {s.id: s.display_name for s in db_session.execute(select(Staff).where(Staff.id.in_(staff_ids))).scalars()}
    out = []
    for t in tasks:
        overdue = t.status == OPEN and t.due_on < today
        subject = subjects.get(t.subject_id) if t.subject_id else None
        out.append(TaskRead(
            id=t.id, kind=t.kind, kind_label=TASK_KINDS.get(t.kind, t.kind), title=t.title, due_on=t.due_on,
            status=t.status, overdue=overdue, days_overdue=(today - t.due_on).days if overdue else 0,
            subject_id=t.subject_id, subject_name=subjects_service.display_name(subject) if subject else None,
            office_id=t.office_id, office_name=offices.get(t.office_id), assignee_id=t.assignee_id,
            assignee_name=staff.get(t.assignee_id), source_type=t.source_type, source_id=t.source_id,
            created_at=t.created_at, closed_at=t.closed_at, closed_by=t.closed_by, note=t.note,
        ))
    return out


def search(
    *,
    db_session: Session,
    office_code: str | None = None,
    office_id: int | None = None,
    overdue: bool | None = None,
    status: str | None = OPEN,
    assignee: str | None = None,
    subject_id: int | None = None,
    kind: str | None = None,
    page: int = 1,
    size: int = 50,
) -> TaskPage:
    """One list per officer (``assignee='me'``) or per office, with the overdue count."""
    actor = require(get_actor(db_session), Perm.subjects_read)
    today = clock.today_local()
    conds = _filters(db_session, actor, office_code=office_code, office_id=office_id, assignee=assignee,
                     subject_id=subject_id, kind=kind)
    is_overdue = and_(Task.status == OPEN, Task.due_on < today)
    counts = db_session.execute(
        select(func.count(Task.id).filter(Task.status == OPEN), func.count(Task.id).filter(is_overdue))
        .where(*conds)
    ).one()
    stmt = select(Task).where(*conds)
    if overdue is True:
        stmt = stmt.where(is_overdue)
    elif overdue is False:
        stmt = stmt.where(~and_(Task.status == OPEN, Task.due_on < today))
    if status and overdue is not True:
        stmt = stmt.where(Task.status == status)
    total = db_session.execute(stmt.with_only_columns(func.count(Task.id)).order_by(None)).scalar_one()
    rows = list(db_session.execute(
        stmt.order_by(Task.due_on, Task.id).offset(offset(page, size)).limit(size)
    ).scalars())
    return TaskPage(items=_read(rows, db_session, today), total=total, page=page, size=size,
                    counts=TaskCounts(open=counts[0], overdue=counts[1]))


def summary(*, db_session: Session) -> TaskSummary:
    """Open and overdue counts per office and per officer, for supervisors (工作督察)."""
    require(get_actor(db_session), Perm.subjects_read)
    today = clock.today_local()
    overdue = func.sum(case((Task.due_on < today, 1), else_=0))
    base = select(func.count(Task.id), overdue).where(Task.status == OPEN)
    by_office = db_session.execute(base.add_columns(Task.office_id).group_by(Task.office_id)).all()
    by_staff = db_session.execute(base.add_columns(Task.assignee_id).group_by(Task.assignee_id)).all()
    office_names = {o.id: o.name for o in db_session.execute(select(Office)).scalars()}
    staff_ids = [sid for *_, sid in by_staff if sid]
    staff_names = {s.id: s.display_name for s in db_session.execute(
        select(Staff).where(Staff.id.in_(staff_ids))).scalars()} if staff_ids else {}
    offices = sorted((TaskGroup(id=oid, name=office_names.get(oid, "区司法局") if oid else "区司法局",
                                open=n, overdue=int(o or 0)) for n, o, oid in by_office),
                     key=lambda g: (-g.overdue, g.name))
    staff = sorted((TaskGroup(id=sid, name=staff_names.get(sid, "未分配") if sid else "未分配",
                              open=n, overdue=int(o or 0)) for n, o, sid in by_staff),
                   key=lambda g: (-g.overdue, g.name))
    return TaskSummary(today=today, open=sum(g.open for g in offices), overdue=sum(g.overdue for g in offices),
                       offices=offices, staff=staff)


def complete(*, db_session: Session, task_id: int, note: str | None = None) -> TaskRead:
    actor = require(get_actor(db_session), Perm.workflows_write)
    task = db_session.execute(select(Task).where(Task.id == task_id)).scalar_one_or_none()
    if task is None:
        raise NotFound("任务不存在或不在您的管辖范围内", code="task_not_found")
    if task.status != OPEN:
        raise Conflict("该任务已办结", code="task_closed")
    task.status, task.closed_at, task.closed_by, task.note = "done", clock.now(), actor.username, note or task.note
    db_session.commit()
    return _read([task], db_session, clock.today_local())[0]
