"""The one definition of every count of subjects that a screen or the API shows.

在册 = 待接收 + 已报到 + 在矫; 在矫 is split by 管理等级 (严管/普管/宽管); 报到逾期 = 待接收 past the
reporting deadline (社区矫正法 第二十一条). Every number counts only the files the caller can open,
through the session's scoping (security/scoping.py): a minor's file is visible only to its
responsible officer and sealed after release (第五十四条). The files in the caller's jurisdiction
that the caller cannot open are counted separately (``hidden``), so a screen can say that its
numbers leave them out without showing anything about them.

The home page, the subjects list, the command center and ``GET /api/v1/subjects/counts`` all read
their numbers here.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.security import scoping
from zhijiao.security.actor import get_actor
from zhijiao.security.permissions import Perm, require
from zhijiao.subjects import rules
from zhijiao.subjects.models import Subject
from zhijiao.subjects.schemas import SubjectCounts, SubjectStatus, SubjectTally, SupervisionLevel

REGISTERED = (SubjectStatus.pending_reception.value, SubjectStatus.reported.value,
              SubjectStatus.under_correction.value)  # 在册
SEALED = (SubjectStatus.released.value, SubjectStatus.terminated.value)


def filtered(stmt: Select, *, office_id: int | None = None, status: str | None = None,
             correction_type: str | None = None, supervision_level: str | None = None,
             responsible_staff_id: int | None = None) -> Select:
    """The list's filters (everything but the name search), shared by the list and the counts."""
    if office_id is not None:
        stmt = stmt.where(Subject.office_id == office_id)
    if status:
        stmt = stmt.where(Subject.status == status)
    if correction_type:
        stmt = stmt.where(Subject.correction_type == correction_type)
    if supervision_level:
        stmt = stmt.where(Subject.supervision_level == supervision_level)
    if responsible_staff_id is not None:
        stmt = stmt.where(Subject.responsible_staff_id == responsible_staff_id)
    return stmt


def _grouped(db: Session, **filters) -> dict[tuple[str, str], int]:
    stmt = filtered(select(Subject.status, Subject.supervision_level, func.count(Subject.id)), **filters)
    return {(s, lv): n for s, lv, n in db.execute(stmt.group_by(Subject.status, Subject.supervision_level))}


def _overdue_count(db: Session, today: date) -> int:
    last_effective = today - timedelta(days=rules.REPORT_WITHIN_DAYS + 1)  # deadline = effective + 10 days
    return db.execute(select(func.count(Subject.id)).where(
        Subject.status == SubjectStatus.pending_reception.value,
        Subject.judgment_effective_date <= last_effective)).scalar_one()


def _in_jurisdiction(db: Session, fn, *args, **kwargs):
    """``fn`` run over the whole jurisdiction, minors' files included (numbers only, never rows)."""
    with scoping.anonymised(db):
        return fn(db, *args, **kwargs)


def counts(*, db_session: Session, today: date | None = None) -> SubjectCounts:
    """Every number of the home page and the command center for the session's actor."""
    require(get_actor(db_session), Perm.subjects_read)
    today = today or clock.today_local()
    seen = _grouped(db_session)
    everyone = _in_jurisdiction(db_session, _grouped)
    by_status = {s.value: 0 for s in SubjectStatus}
    for (status, _), n in seen.items():
        by_status[status] = by_status.get(status, 0) + n
    by_level = {lv.value: seen.get((SubjectStatus.under_correction.value, lv.value), 0) for lv in SupervisionLevel}
    hidden_active = sum(n - seen.get(k, 0) for k, n in everyone.items() if k[0] not in SEALED)
    hidden_sealed = sum(n - seen.get(k, 0) for k, n in everyone.items() if k[0] in SEALED)
    return SubjectCounts(
        registered=sum(by_status[s] for s in REGISTERED),
        under_correction=by_status[SubjectStatus.under_correction.value],
        by_status=by_status,
        by_level=by_level,
        total=sum(by_status.values()),
        report_overdue=_overdue_count(db_session, today),
        hidden_active=hidden_active,
        hidden_sealed=hidden_sealed,
    )


def tally(*, db_session: Session, **filters) -> SubjectTally:
    """The files matching the list's filters: those the caller can open, and those left out."""
    require(get_actor(db_session), Perm.subjects_read)

    def count(db: Session) -> dict[str, int]:
        stmt = filtered(select(Subject.status, func.count(Subject.id)), **filters).group_by(Subject.status)
        return dict(db.execute(stmt).all())

    seen = count(db_session)
    everyone = _in_jurisdiction(db_session, count)
    hidden = {s: n - seen.get(s, 0) for s, n in everyone.items()}
    return SubjectTally(
        visible=sum(seen.values()),
        hidden_active=sum(n for s, n in hidden.items() if s not in SEALED),
        hidden_sealed=sum(n for s, n in hidden.items() if s in SEALED),
    )
