"""What every workflow of supervision shares: who acts, the subject it acts on, dates a person
types, the linked documents of a record, and the small schema types of the sub-packages.

Kept small on purpose: anything that belongs to one workflow lives in that workflow's package.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from zhijiao.documents import service as documents_service
from zhijiao.documents.schemas import DocumentRead
from zhijiao.org import service as org_service
from zhijiao.security.actor import Actor, get_actor
from zhijiao.security.permissions import Perm, has_perm, require, sees_every_office
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.models import Subject
from zhijiao.subjects.schemas import SubjectStatus, TransitionIn

ENDED = (SubjectStatus.released.value, SubjectStatus.terminated.value)
ACTIVE = (SubjectStatus.reported.value, SubjectStatus.under_correction.value)

# --- schema types --------------------------------------------------------------------------------

Text = Annotated[str, Field(min_length=2, max_length=2000)]
ShortText = Annotated[str, Field(min_length=2, max_length=200)]
Note = Annotated[str | None, Field(default=None, max_length=2000)]
# Dates a person types: bounded, so a typo like 0001-01-01 or 9999-12-31 is a 422, not an overflow.
Day = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2099, 12, 31))]
Basis = Annotated[str | None, Field(default=None, min_length=4, max_length=256, description="法律依据；省略时按规则填入")]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- who acts ------------------------------------------------------------------------------------


def writer(db_session: Session) -> Actor:
    return require(get_actor(db_session), Perm.workflows_write)


def reader(db_session: Session) -> Actor:
    return require(get_actor(db_session), Perm.subjects_read)


def decider(db_session: Session) -> Actor:
    """Someone who may decide: an officer (workflows) or a leader (final approvals)."""
    actor = get_actor(db_session)
    if has_perm(actor, Perm.workflows_write) or has_perm(actor, Perm.approvals_final):
        assert actor is not None
        return actor
    raise Forbidden(code="permission_denied", message="您的角色无权执行该操作")


def require_bureau(actor: Actor, what: str) -> Actor:
    """Checked after the object is found, so another office's object stays a 404."""
    if not sees_every_office(actor):
        raise Forbidden(f"{what}由区司法局决定，司法所可提出意见", code="bureau_decides")
    return actor


def staff_name(db_session: Session, actor: Actor) -> str:
    if actor.staff_id is not None:
        staff = org_service.find_staff(db_session=db_session, staff_id=actor.staff_id)
        if staff is not None:
            return staff.display_name
    return actor.username


# --- the subject acted on ------------------------------------------------------------------------


def subject(db_session: Session, subject_id: int) -> Subject:
    return subjects_service.get(db_session=db_session, subject_id=subject_id)


def open_subject(db_session: Session, subject_id: int) -> Subject:
    s = subject(db_session, subject_id)
    if s.status in ENDED:
        raise Conflict("已解除或终止矫正，不能再办理", code="subject_closed")
    return s


def active_subject(db_session: Session, subject_id: int) -> Subject:
    s = open_subject(db_session, subject_id)
    if s.status not in ACTIVE:
        raise Conflict("社区矫正对象尚未报到，不能办理该事项", code="subject_not_reported")
    return s


def one(db_session: Session, model: type, object_id: int, message: str, code: str) -> Any:
    """A row by id through the scoped session: another office's row is a 404 like a missing one."""
    row = db_session.execute(select(model).where(model.id == object_id)).scalar_one_or_none()
    if row is None:
        raise NotFound(message, code=code)
    return row


def transition(db_session: Session, s: Subject, to: str, reason: str | None = None, basis: str | None = None,
               note: str | None = None) -> None:
    """The lifecycle step that ends a flow; it commits, so it is called last (the flow's records,
    documents and the new status commit or roll back together)."""
    subjects_service.transition(db_session=db_session, subject_id=s.id,
                                transition_in=TransitionIn(to=to, reason=reason, basis=basis, note=note))


# --- dates, documents ----------------------------------------------------------------------------


def not_future(value: date, field: str) -> date:
    if value > clock.today_local():
        raise InvalidInput("日期不能晚于今天", code="date_in_future", fields={field: "晚于今天"})
    return value


def local_date(value: datetime) -> date:
    return clock.to_local(value).date()


def documents_of(db_session: Session, source_type: str, source_id: int) -> list[DocumentRead]:
    return [DocumentRead.model_validate(d) for d in
            documents_service.for_source(db_session=db_session, source_type=source_type, source_id=source_id)]


def procuratorate_of(bureau_name: str) -> str:
    """The procuratorate at the bureau's level: 淄博市临淄区司法局 → 淄博市临淄区人民检察院."""
    return bureau_name.removesuffix("司法局") + "人民检察院" if bureau_name.endswith("司法局") else "同级人民检察院"
