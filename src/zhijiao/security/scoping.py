"""Jurisdiction scoping: the one mechanism that filters every query of people.

Every ORM SELECT passes through :func:`_apply_scope`. For entities that belong to an
office (:class:`OfficeScoped`) or hang off a subject (:class:`SubjectOwned`) it adds
loader criteria from the session's actor, so no service, route or screen can forget the
office filter. A query of scoped entities without an actor is an error: system jobs
bind ``Actor.system(...)`` explicitly, which is visible in the code and in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import and_, event, false, or_, select, true
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from zhijiao.db.base import Base
from zhijiao.security.actor import Actor, ActorKind
from zhijiao.security.permissions import own_office_only, sees_every_office


class ScopeMissing(RuntimeError):
    """A scoped query ran without an actor on the session."""


class OfficeScoped:
    """Marker: rows with an ``office_id`` column, visible to that office."""


class SubjectOwned:
    """Marker: rows with a ``subject_id`` column, visible with their subject."""


class ScopeRoot(OfficeScoped):
    """Marker of the one entity the others hang off (the subject): its rows decide which
    :class:`SubjectOwned` rows an actor sees. Found by its marker, so security imports no domain."""


_root: list[type] = []


def _subject_model() -> type:
    if not _root:
        _root.append(next(m.class_ for m in Base.registry.mappers if issubclass(m.class_, ScopeRoot)))
    return _root[0]


def _scoped_classes() -> tuple[list[type], list[type]]:
    """Every mapped class under each marker (computed per call: cheap, and new modules register late)."""
    office, owned = [], []
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if issubclass(cls, OfficeScoped):
            office.append(cls)
        elif issubclass(cls, SubjectOwned):
            owned.append(cls)
    return office, owned


def _touches_scoped(state: ORMExecuteState) -> bool:
    return any(issubclass(m.class_, (OfficeScoped, SubjectOwned)) for m in state.all_mappers)


def _owned(cls: type, subject_ids, office_id: int | None = None):
    """Rows of the office's subjects; classes marked ``__scope_shared__`` add rows for everyone,
    and those marked ``__scope_office__`` add rows without a subject that belong to the office
    (a pre-sentence assessment's task, before the person has a file)."""
    if getattr(cls, "__scope_shared__", False):
        return or_(cls.subject_id.in_(subject_ids), cls.subject_id.is_(None))
    if getattr(cls, "__scope_office__", False) and office_id is not None:
        return or_(cls.subject_id.in_(subject_ids), and_(cls.subject_id.is_(None), cls.office_id == office_id))
    return cls.subject_id.in_(subject_ids)


def _not_owned(cls: type, hidden_ids):
    if getattr(cls, "__scope_shared__", False):
        return or_(cls.subject_id.is_(None), cls.subject_id.not_in(hidden_ids))
    return cls.subject_id.not_in(hidden_ids)


def _minor_visible(subject, actor: Actor):
    """A minor's file: only the assigned officer, and sealed after release (社区矫正法 第五十四条)."""
    return or_(
        subject.is_minor.is_(False),
        and_(subject.responsible_staff_id == actor.staff_id, subject.status.not_in(("released", "terminated"))),
    )


ANONYMISED = "scope_anonymised"


@contextmanager
def anonymised(session: Session) -> Iterator[Session]:
    """Queries for counts and masked boards: minors' rows count within the office scope.

    Law Art. 54 protects a minor's identity and file, not the fact that the district supervises
    them: the command center must count them and place them on the map. Callers inside this block
    return only aggregates or rows whose identity is masked (``subjects.service.display_name``);
    the file itself (card, track, documents) stays behind the normal rule.
    """
    previous = session.info.get(ANONYMISED, False)
    session.info[ANONYMISED] = True
    try:
        yield session
    finally:
        session.info[ANONYMISED] = previous


def _criteria(office_expr, owned_expr) -> list:
    office, owned = _scoped_classes()
    opts = [with_loader_criteria(cls, office_expr(cls), include_aliases=True) for cls in office]
    opts += [with_loader_criteria(cls, owned_expr(cls), include_aliases=True) for cls in owned]
    return opts


@event.listens_for(Session, "do_orm_execute")
def _apply_scope(state: ORMExecuteState) -> None:
    if not state.is_select or state.is_column_load or state.is_relationship_load:
        return
    if state.execution_options.get("skip_scope") or not _touches_scoped(state):
        return
    actor: Actor | None = state.session.info.get("actor")
    if actor is None:
        raise ScopeMissing("query of scoped data without an actor; bind Actor.system(job) for jobs")
    if actor.is_system:
        return
    subject = _subject_model()
    if state.session.info.get(ANONYMISED) and actor.kind == ActorKind.staff:
        if sees_every_office(actor):
            return  # the whole district, minors counted (see ``anonymised``)
        if own_office_only(actor) and actor.office_id:
            t = subject.__table__.c
            subject_ids = select(t.id).where(t.office_id == actor.office_id).scalar_subquery()
            state.statement = state.statement.options(*_criteria(
                lambda cls: cls.office_id == actor.office_id, lambda cls: _owned(cls, subject_ids, actor.office_id)))
            return
    if actor.kind == ActorKind.staff and sees_every_office(actor):
        # Every office, except minors' files not assigned to this person (few rows: NOT IN is cheap).
        # Subqueries use the table, not the entity, so the Subject criteria do not apply inside them.
        t = subject.__table__.c
        hidden = select(t.id).where(t.is_minor.is_(True), ~_minor_visible(t, actor)).scalar_subquery()
        opts = _criteria(
            lambda cls: _minor_visible(cls, actor) if cls is subject else true(),
            lambda cls: _not_owned(cls, hidden),
        )
    elif own_office_only(actor) and actor.office_id:
        t = subject.__table__.c
        subject_ids = select(t.id).where(t.office_id == actor.office_id, _minor_visible(t, actor)).scalar_subquery()
        opts = _criteria(
            lambda cls: and_(cls.office_id == actor.office_id, _minor_visible(cls, actor)) if cls is subject
            else cls.office_id == actor.office_id,
            lambda cls: _owned(cls, subject_ids, actor.office_id),
        )
    elif actor.kind == ActorKind.subject and actor.subject_id:
        opts = _criteria(lambda cls: false(), lambda cls: cls.subject_id == actor.subject_id)
    else:
        # Administrators (三员), kiosks and anyone else see no case file.
        opts = _criteria(lambda cls: false(), lambda cls: false())
    state.statement = state.statement.options(*opts)
