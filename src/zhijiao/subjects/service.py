"""Business rules of the case file. No HTTP here; scoping is applied by the session."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from zhijiao.core.pagination import Page, offset
from zhijiao.org import service as org_service
from zhijiao.security import audit
from zhijiao.security.actor import Actor, get_actor
from zhijiao.security.crypto import get_keyring
from zhijiao.security.permissions import Perm, own_office_only, require, sees_every_office
from zhijiao.subjects import counts, idcard, rules
from zhijiao.subjects.models import CorrectionTeamMember, Subject, SubjectTransition
from zhijiao.subjects.schemas import (
    Derived,
    MinorOverrideIn,
    SubjectCreate,
    SubjectListItem,
    SubjectRead,
    SubjectStatus,
    SubjectUpdate,
    TeamMemberRead,
    TransitionIn,
    TransitionRead,
)

ENDED = (SubjectStatus.released.value, SubjectStatus.terminated.value)


def _actor(db: Session, perm: Perm) -> Actor:
    return require(get_actor(db), perm)


def get(*, db_session: Session, subject_id: int) -> Subject:
    """A subject in the actor's jurisdiction, or 404 (never 403: existence is not revealed)."""
    _actor(db_session, Perm.subjects_read)
    subject = db_session.execute(select(Subject).where(Subject.id == subject_id)).unique().scalar_one_or_none()
    if subject is None:
        raise NotFound("社区矫正对象不存在或不在您的管辖范围内", code="subject_not_found")
    return subject


def derived(subject: Subject, today: date | None = None) -> Derived:
    today = today or clock.today_local()
    start, end = subject.correction_start_date, subject.correction_end_date
    reported_on = clock.to_local(subject.reported_at).date() if subject.reported_at else None
    return Derived(
        reporting_deadline=rules.reporting_deadline(subject.judgment_effective_date),
        report_overdue=rules.is_report_overdue(subject.judgment_effective_date, reported_on=reported_on, today=today),
        days_served=rules.days_served(start, today, end=end) if start else None,
        days_remaining=rules.days_remaining(end, today) if end and subject.status not in ENDED else None,
    )


def display_name(subject: Subject) -> str:
    """The name as lists and screens show it: a minor's is masked (社区矫正法 第五十四条)."""
    return idcard.mask_minor_name(subject.name) if subject.is_minor else subject.name


def to_list_item(subject: Subject, today: date | None = None) -> SubjectListItem:
    today = today or clock.today_local()
    return SubjectListItem(
        id=subject.id,
        name=display_name(subject),
        gender=subject.gender,
        id_number_masked=subject.id_number_masked,
        phone_masked=subject.phone_masked,
        office_id=subject.office_id,
        office_name=subject.office.name,
        correction_type=subject.correction_type,
        supervision_level=subject.supervision_level,
        status=subject.status,
        is_minor=subject.is_minor,
        correction_start_date=subject.correction_start_date,
        correction_end_date=subject.correction_end_date,
        responsible_staff_name=subject.responsible_staff.display_name if subject.responsible_staff else None,
        report_overdue=subject.status == SubjectStatus.pending_reception
        and rules.is_report_overdue(subject.judgment_effective_date, today=today),
    )


def read_full(*, db_session: Session, subject_id: int) -> SubjectRead:
    """The whole file with the full identity; the reveal is audited (PIPL, MLPS 安全审计)."""
    subject = get(db_session=db_session, subject_id=subject_id)
    item = to_list_item(subject)
    audit.access(db_session, object_type="subjects", object_id=subject.id, action="view_identity")
    db_session.commit()
    return SubjectRead(
        **item.model_dump(exclude={"name"}),
        name=subject.name,
        id_number=subject.id_number,
        birth_date=subject.birth_date,
        ethnicity=subject.ethnicity,
        phone=subject.phone,
        residence_address=subject.residence_address,
        household_address=subject.household_address,
        crime=subject.crime,
        sentence=subject.sentence,
        deciding_organ=subject.deciding_organ,
        judgment_effective_date=subject.judgment_effective_date,
        prohibitions=subject.prohibitions,
        responsible_staff_id=subject.responsible_staff_id,
        reported_at=subject.reported_at,
        ended_at=subject.ended_at,
        termination_reason=subject.termination_reason,
        version=subject.version,
        created_at=subject.created_at,
        updated_at=subject.updated_at,
        derived=derived(subject),
        team=[TeamMemberRead.model_validate(m) for m in subject.team],
        transitions=[TransitionRead.model_validate(t) for t in subject.transitions],
    )


def search(
    *, db_session: Session, q: str | None = None, office_id: int | None = None, office_code: str | None = None,
    status: str | None = None, correction_type: str | None = None, supervision_level: str | None = None,
    responsible_staff_id: int | None = None, page: int = 1, size: int = 20,
) -> Page[SubjectListItem]:
    _actor(db_session, Perm.subjects_read)
    stmt = select(Subject)
    if office_code:
        office = org_service.get_office_by_code(db_session=db_session, code=office_code)
        office_id = office.id
    stmt = counts.filtered(stmt, office_id=office_id, status=status, correction_type=correction_type,
                           supervision_level=supervision_level, responsible_staff_id=responsible_staff_id)
    if q:
        q = q.strip()
        if len(q) == 18:
            # Exact search through the keyed blind index: no plaintext ID in the database.
            stmt = stmt.where(Subject.id_number_index == get_keyring().blind_index(q))
        else:
            # Prefix match on the name index (officers type a surname or a full name); wildcards
            # are stripped so the LIKE stays index-friendly on SQLite and PostgreSQL.
            prefix = re.sub(r"[%_\\]", "", q)
            conds = [Subject.name.like(prefix + "%")] if prefix else []
            if q.isdigit() and len(q) == 4:
                conds.append(Subject.id_number_masked.endswith(q))
            stmt = stmt.where(or_(*conds) if conds else false())
    total = db_session.execute(stmt.with_only_columns(func.count(Subject.id)).order_by(None)).scalar_one()
    rows = db_session.execute(
        stmt.order_by(Subject.id.desc()).offset(offset(page, size)).limit(size)
    ).unique().scalars().all()
    today = clock.today_local()
    return Page(items=[to_list_item(s, today) for s in rows], total=total, page=page, size=size)


def _check_office(db: Session, actor: Actor, office_id: int | None) -> int:
    if own_office_only(actor):
        if office_id not in (None, actor.office_id):
            raise Forbidden("司法所工作人员只能在本所建档", code="office_out_of_scope")
        return actor.office_id  # type: ignore[return-value]
    if office_id is None:
        raise InvalidInput("请选择所属司法所", code="office_required", fields={"office_id": "必填"})
    org_service.get_office(db_session=db, office_id=office_id)
    return office_id


def _check_staff(db: Session, staff_id: int | None, office_id: int) -> None:
    if staff_id is None:
        return
    org_service.require_field_staff(db_session=db, staff_id=staff_id, office_id=office_id,
                                    field="responsible_staff_id")


def _apply_identity(subject: Subject, id_number: str) -> None:
    info = idcard.parse_id_number(id_number)
    subject.id_number = info.number
    subject.id_number_index = get_keyring().blind_index(info.number)
    subject.id_number_masked = idcard.mask_id_number(info.number)
    subject.birth_date = info.birth_date


def _apply_phone(subject: Subject, phone: str | None) -> None:
    subject.phone = phone
    subject.phone_masked = idcard.mask_phone(phone) if phone else None


def create(*, db_session: Session, subject_in: SubjectCreate) -> Subject:
    actor = _actor(db_session, Perm.subjects_write)
    office_id = _check_office(db_session, actor, subject_in.office_id)
    if subject_in.responsible_staff_id is None and own_office_only(actor):
        # The officer who opens the file is responsible until reassigned (a minor's file is
        # visible only to its responsible officer, so it must have one).
        subject_in = subject_in.model_copy(update={"responsible_staff_id": actor.staff_id})
    # Minor or not follows from the dates (issue 20 item 9); the writer's flag is not taken.
    minor = rules.minor_at_decision(idcard.parse_id_number(subject_in.id_number).birth_date,
                                    subject_in.judgment_effective_date)
    subject_in = subject_in.model_copy(update={"is_minor": minor})
    if subject_in.is_minor and subject_in.responsible_staff_id is None:
        raise InvalidInput("未成年社区矫正对象须指定责任工作人员", code="minor_needs_officer",
                           fields={"responsible_staff_id": "必填"})
    _check_staff(db_session, subject_in.responsible_staff_id, office_id)
    index = get_keyring().blind_index(subject_in.id_number)
    # The duplicate check must see every office, or a person could be registered twice.
    dup = db_session.execute(
        select(Subject.id).where(Subject.id_number_index == index, Subject.status.not_in(ENDED))
        .execution_options(skip_scope=True)
    ).first()
    if dup is not None:
        raise Conflict("该身份证号码已有在册社区矫正档案", code="duplicate_subject",
                       fields={"id_number": "已存在在册档案"})
    data = subject_in.model_dump(exclude={"id_number", "phone", "team", "office_id"})
    subject = Subject(**{k: (v.value if hasattr(v, "value") else v) for k, v in data.items()}, office_id=office_id)
    _apply_identity(subject, subject_in.id_number)
    _apply_phone(subject, subject_in.phone)
    subject.team = [CorrectionTeamMember(**m.model_dump(mode="json")) for m in subject_in.team]
    db_session.add(subject)
    db_session.commit()
    return subject


def update(*, db_session: Session, subject_id: int, subject_in: SubjectUpdate) -> Subject:
    actor = _actor(db_session, Perm.subjects_write)
    subject = get(db_session=db_session, subject_id=subject_id)
    if subject.status in ENDED:
        raise Conflict("已解除或终止矫正的档案不能修改", code="subject_closed")
    changes = subject_in.model_dump(exclude_unset=True)
    required = {c.key for c in Subject.__mapper__.column_attrs if not c.columns[0].nullable}
    blank = {k: "不能为空" for k, v in changes.items() if v is None and k in required | {"team"}}
    if blank:
        raise InvalidInput("必填项不能清空", code="validation_error", fields=blank)
    changes.pop("is_minor", None)  # derived from the dates; only the leader overrides it
    expected = changes.pop("version", None)
    if expected is not None and expected != subject.version:
        raise Conflict("档案已被他人修改，请刷新后重试", code="stale_version")
    if "office_id" in changes and changes["office_id"] != subject.office_id:
        if not sees_every_office(actor):
            raise Forbidden("变更所属司法所须由区局办理（执行地变更）", code="office_change_forbidden")
        org_service.get_office(db_session=db_session, office_id=changes["office_id"])
    office_id = changes.get("office_id", subject.office_id)
    if "responsible_staff_id" in changes:
        _check_staff(db_session, changes["responsible_staff_id"], office_id)
    start = changes.get("correction_start_date", subject.correction_start_date)
    end = changes.get("correction_end_date", subject.correction_end_date)
    if start and end and end <= start:
        raise InvalidInput("矫正结束日期必须晚于开始日期", code="date_order",
                           fields={"correction_end_date": "须晚于开始日期"})
    if "phone" in changes:
        _apply_phone(subject, changes.pop("phone"))
    if "team" in changes:
        team = changes.pop("team") or []
        subject.team = [CorrectionTeamMember(**m) for m in team]
    for key, value in changes.items():
        setattr(subject, key, value.value if hasattr(value, "value") else value)
    subject.is_minor = effective_minor(subject)
    if subject.is_minor and subject.responsible_staff_id is None:
        raise InvalidInput("未成年社区矫正对象须指定责任工作人员", code="minor_needs_officer",
                           fields={"responsible_staff_id": "必填"})
    try:
        db_session.commit()
    except StaleDataError:
        db_session.rollback()
        raise Conflict("档案已被他人修改，请刷新后重试", code="stale_version") from None
    return subject


def effective_minor(subject: Subject) -> bool:
    """The leader's override where there is one, else what the birth and decision dates give."""
    if subject.minor_override is not None:
        return subject.minor_override
    return rules.minor_at_decision(subject.birth_date, subject.judgment_effective_date)


def override_minor(*, db_session: Session, subject_id: int, override_in: MinorOverrideIn) -> Subject:
    """The bureau's leader records that a file is (or is not) a minor's, against its dates.

    A recorded act: who, when and why stay on the file and in the audit trail. Nobody else can
    change the minor status; a minor's file is hidden from most staff, so it must not be a flag
    any writer can clear (issue 20 item 9).
    """
    actor = _actor(db_session, Perm.subjects_read)
    if actor.role != "leader":
        audit.record(db_session, object_type="subjects", object_id=subject_id, action="denied",
                     detail={"minor_override": "only the leader"})
        db_session.commit()
        raise Forbidden("未成年身份的更正只能由局领导办理", code="minor_override_forbidden")
    # The leader acts for the whole bureau: a minor's file is found even where its name is hidden.
    subject = db_session.get(Subject, subject_id, execution_options={"skip_scope": True})
    if subject is None:
        raise NotFound("档案不存在", code="subject_not_found")
    subject.minor_override = override_in.is_minor
    subject.minor_override_reason = override_in.reason if override_in.is_minor is not None else None
    subject.minor_override_by = actor.username if override_in.is_minor is not None else None
    subject.minor_override_at = clock.now() if override_in.is_minor is not None else None
    subject.is_minor = effective_minor(subject)
    if subject.is_minor and subject.responsible_staff_id is None:
        raise InvalidInput("未成年社区矫正对象须指定责任工作人员", code="minor_needs_officer",
                           fields={"responsible_staff_id": "必填"})
    audit.record(db_session, object_type="subjects", object_id=subject.id, action="minor_override",
                 detail={"is_minor": override_in.is_minor, "reason": override_in.reason})
    db_session.commit()
    return subject


def transition(*, db_session: Session, subject_id: int, transition_in: TransitionIn) -> Subject:
    actor = _actor(db_session, Perm.subjects_transition)
    subject = get(db_session=db_session, subject_id=subject_id)
    target = transition_in.to.value
    reason = transition_in.reason
    basis = rules.check_transition(subject.status, target, correction_type=subject.correction_type, reason=reason)
    now = clock.now()
    db_session.add(SubjectTransition(
        subject_id=subject.id, from_status=subject.status, to_status=target, at=now,
        actor_id=actor.staff_id, actor_name=actor.username, reason=reason,
        basis=transition_in.basis or basis, note=transition_in.note,
    ))
    subject.status = target
    if target == SubjectStatus.reported:
        subject.reported_at = now
    elif target == SubjectStatus.under_correction and subject.correction_start_date is None:
        subject.correction_start_date = clock.today_local()
    elif target in ENDED:
        subject.ended_at = now
        subject.termination_reason = reason
    try:
        db_session.commit()
    except StaleDataError:
        db_session.rollback()
        raise Conflict("档案已被他人修改，请刷新后重试", code="stale_version") from None
    db_session.refresh(subject)
    return subject
