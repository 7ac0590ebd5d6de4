"""The entry announcement (入矫宣告, 社区矫正法 第二十二条): the record, its documents (宣告书,
告知书), the plan's task, a first level proposal, and (last) the lifecycle transition, in one unit
of work. A release announcement (第四十四条) goes on in :mod:`zhijiao.supervision.release.flows`.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, InvalidInput
from zhijiao.documents import service as documents_service
from zhijiao.security.permissions import Perm, require
from zhijiao.subjects import rules as subject_rules
from zhijiao.subjects.models import Subject
from zhijiao.subjects.schemas import SubjectStatus
from zhijiao.supervision import common
from zhijiao.supervision.levels import rules as level_rules
from zhijiao.supervision.levels import service as levels_service
from zhijiao.supervision.levels.schemas import LevelReviewCreate
from zhijiao.supervision.plans import rules as plan_rules
from zhijiao.supervision.reception.models import Announcement
from zhijiao.supervision.reception.schemas import AnnouncementCreate, AnnouncementKind
from zhijiao.supervision.release import flows as release_flows
from zhijiao.tasks import service as tasks_service

ENTRY_ITEMS = [
    "判决、裁定、决定书的主要内容",
    "社区矫正期限",
    "应当遵守的法律、行政法规和监督管理规定",
    "违反规定的法律后果",
    "依法享有的权利",
    "矫正小组人员组成及职责",
]


PLAN_TASK_TITLE = "制定矫正方案（《社区矫正法》第二十四条）"


def _report_rule(level: str) -> str:
    days = level_rules.duties_for(level_rules.SupervisionLevel(level)).in_person_report_interval_days
    return {7: "每周", 14: "每两周", 30: "每月", 60: "每两个月"}.get(days, f"每{days}日")


def _not_future_at(value, field: str):
    at = value or clock.now()
    if at > clock.now() + timedelta(minutes=10):
        raise InvalidInput("时间不能晚于当前时间", code="date_in_future", fields={field: "晚于当前时间"})
    return at


def announce(*, db_session: Session, subject_id: int, announcement_in: AnnouncementCreate) -> Announcement:
    actor = common.writer(db_session)
    require(actor, Perm.subjects_transition)
    s = common.open_subject(db_session, subject_id)
    kind = announcement_in.kind.value
    at = _not_future_at(announcement_in.at, "at")
    done = db_session.execute(select(Announcement.id).where(
        Announcement.subject_id == s.id, Announcement.kind == kind)).first()
    if done is not None:
        raise Conflict("已宣告，不能重复宣告", code="announcement_exists")
    host = common.staff_name(db_session, actor)
    row = Announcement(
        subject_id=s.id, kind=kind, at=at, place=announcement_in.place, host=host,
        present=list(announcement_in.present),
        items=list(announcement_in.items or (ENTRY_ITEMS if kind == AnnouncementKind.entry
                                             else release_flows.RELEASE_ITEMS)),
        reason=announcement_in.reason if kind == AnnouncementKind.release else None, note=announcement_in.note,
        created_by=actor.username,
    )
    if kind == AnnouncementKind.entry:
        _entry(db_session, s, row, announcement_in)
    else:
        release_flows.release(db_session, s, row, announcement_in)
    return row


def _entry(db_session: Session, s: Subject, row: Announcement, announcement_in: AnnouncementCreate) -> None:
    if s.status == SubjectStatus.pending_reception:
        raise Conflict("社区矫正对象尚未报到，不能入矫宣告", code="subject_not_reported")
    if s.status == SubjectStatus.reported:
        subject_rules.check_transition(s.status, SubjectStatus.under_correction, correction_type=s.correction_type)
    if s.correction_end_date is None:
        raise InvalidInput("请先在档案中填写矫正期限（起止日期）", code="correction_term_missing",
                           fields={"correction_end_date": "必填"})
    on = clock.to_local(row.at).date()
    if s.correction_start_date is None:
        s.correction_start_date = on
    db_session.add(row)
    db_session.flush()
    extra = {"officer": row.host, "place": row.place, "report_rule": _report_rule(s.supervision_level),
             "team_members": [f"{m.name}（{m.role}）" for m in s.team], "prohibition": s.prohibitions}
    for doc_kind in ("entry_announcement", "notice_of_obligations"):
        documents_service.generate(db_session=db_session, kind=doc_kind, subject=s, source_type="announcements",
                                   source_id=row.id, extra=extra, doc_date=on)
    tasks_service.close(db_session=db_session, key=f"report_overdue:{s.id}", note="已报到并入矫宣告")
    tasks_service.ensure(
        db_session=db_session, key=f"plan_due:{s.id}", kind="plan_due", title=PLAN_TASK_TITLE,
        due_on=plan_rules.plan_due(on), subject=s, source_type="announcements", source_id=row.id,
    )
    # 分类管理: a first proposal (严管 in the first months) for the officer to confirm.
    levels_service.propose_level(db_session=db_session, subject_id=s.id, review_in=LevelReviewCreate(), commit=False)
    if s.status == SubjectStatus.reported:
        common.transition(db_session, s, SubjectStatus.under_correction.value)
    else:
        db_session.commit()
