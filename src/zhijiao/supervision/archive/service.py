"""The subject's file (执行档案 / 工作档案): the archive export, the structured record of every
supervision record, and the timeline of events with their documents. 社区矫正法 第五十四条: a
minor's archive goes only to the assigned officers, and once sealed only for a judicial case or
a lawful inquiry."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import Forbidden
from zhijiao.documents import service as documents_service
from zhijiao.security import audit
from zhijiao.security.actor import Actor
from zhijiao.security.permissions import sees_every_office
from zhijiao.subjects import rules as subject_rules
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.models import Subject
from zhijiao.supervision import common
from zhijiao.supervision.archive.schemas import TimelineEntry
from zhijiao.supervision.daily import service as daily_service
from zhijiao.supervision.daily.schemas import MonthlyAssessmentRead, RecordRead
from zhijiao.supervision.leave import rules as leave_rules
from zhijiao.supervision.leave import service as leave_service
from zhijiao.supervision.levels import rules as level_rules
from zhijiao.supervision.levels import service as levels_service
from zhijiao.supervision.levels.models import LevelReviewStatus
from zhijiao.supervision.minors import rules as minors
from zhijiao.supervision.notices import service as notices_service
from zhijiao.supervision.plans import service as plans_service
from zhijiao.supervision.reception import service as reception_service
from zhijiao.supervision.reception.schemas import AnnouncementKind
from zhijiao.supervision.sanctions import rules as sanction_rules
from zhijiao.supervision.sanctions import service as sanctions_service
from zhijiao.supervision.sanctions.models import SanctionStatus
from zhijiao.supervision.transfer import service as transfer_service

SANCTION_STATES = {SanctionStatus.pending: "待审批", SanctionStatus.decided: "已决定", SanctionStatus.rejected: "未批准"}


# --- 档案 ----------------------------------------------------------------------------------------


def _check_minor_archive(s: Subject, actor: Actor, purpose: str | None, inquiry_ref: str | None) -> None:
    """社区矫正法 第五十四条: a minor's archive goes only to the assigned officers while in correction,
    and once sealed (after release) only for a judicial case or a lawful inquiry."""
    if not s.is_minor:
        return
    sealed = s.status in common.ENDED
    chosen = minors.AccessPurpose(purpose) if purpose else minors.AccessPurpose.supervision
    if sealed and chosen is minors.AccessPurpose.supervision:
        raise Forbidden("未成年社区矫正对象的档案已封存，仅限司法机关办案需要或依规定查询",
                        code="minor_archive_sealed")
    assigned = {s.responsible_staff_id} if s.responsible_staff_id else set()
    if not minors.can_view_minor(actor.staff_id or -1, assigned, chosen, inquiry_ref=inquiry_ref):
        raise Forbidden("未成年社区矫正对象的档案仅限负责的工作人员查阅（《社区矫正法》第五十四条）",
                        code="minor_archive_restricted")


def export_archive(*, db_session: Session, subject_id: int, purpose: str | None = None,
                   inquiry_ref: str | None = None) -> tuple[str, bytes]:
    """The subject's archive as a zip; the export is audited with the zip's SHA-256."""
    actor = common.reader(db_session)
    s = common.subject(db_session, subject_id)
    _check_minor_archive(s, actor, purpose, inquiry_ref)
    title = "社区矫正执行档案" if sees_every_office(actor) else "社区矫正工作档案"
    documents = documents_service.list_for_subject(db_session=db_session, subject_id=s.id)
    record = archive_record(db_session, s, documents)
    data, manifest = documents_service.build_archive(
        subject_name=s.name, bureau_name=documents_service.bureau_of(db_session, s).name, archive_title=title,
        documents=documents, record=record,
    )
    audit.access(db_session, object_type="subjects", object_id=s.id, action="export", detail={
        "archive": title, "files": len(manifest) + 1, "sha256": hashlib.sha256(data).hexdigest(),
        "purpose": purpose or "supervision", "inquiry_ref": inquiry_ref,
    })
    db_session.commit()
    return f"archive-{s.id}-{clock.today_local().strftime('%Y%m%d')}.zip", data


def archive_record(db_session: Session, s: Subject, documents: list) -> dict[str, Any]:
    """The structured record of the file (record.json)."""
    full = subjects_service.read_full(db_session=db_session, subject_id=s.id).model_dump(mode="json")
    return {
        "generated_at": clock.now().isoformat(),
        "subject": full,
        **record_sections(db_session, s),
        "documents": [
            {"id": d.id, "kind": d.kind, "title": d.title, "number": d.number, "doc_date": d.doc_date.isoformat(),
             "sha256": d.sha256, "path": f"documents/{documents_service.filename(d)}",
             "source_type": d.source_type, "source_id": d.source_id}
            for d in documents
        ],
    }


def record_sections(db_session: Session, s: Subject) -> dict[str, Any]:
    """Every supervision record of a subject, for the archive's record.json."""
    sid = s.id

    def dump(items: list) -> list[dict[str, Any]]:
        return [i.model_dump(mode="json") for i in items]

    row = reception_service.get_reception(db_session=db_session, subject_id=sid)
    return {
        "reception": reception_service.reception_read(s, row).model_dump(mode="json") if row else None,
        "announcements": dump([reception_service.announcement_read(db_session, a, s)
                               for a in reception_service.list_announcements(db_session=db_session, subject_id=sid)]),
        "correction_plans": dump([plans_service.plan_read(p)
                                  for p in plans_service.list_plans(db_session=db_session, subject_id=sid)]),
        "level_reviews": dump([levels_service.level_review_read(r)
                               for r in levels_service.list_level_reviews(db_session=db_session, subject_id=sid)]),
        "daily_records": dump([RecordRead.model_validate(r)
                               for r in daily_service.list_records(db_session=db_session, subject_id=sid)]),
        "monthly_assessments": dump([MonthlyAssessmentRead.model_validate(m) for m in
                                     daily_service.list_monthly_assessments(db_session=db_session, subject_id=sid)]),
        "leave_requests": dump([leave_service.leave_read(db_session, r)
                                for r in leave_service.list_leaves(db_session=db_session, subject_id=sid)]),
        "transfers": dump([transfer_service.transfer_read(db_session, t)
                           for t in transfer_service.list_transfers(db_session=db_session, subject_id=sid)]),
        "sanctions": dump([sanctions_service.sanction_read(db_session, r)
                           for r in sanctions_service.list_sanctions(db_session=db_session, subject_id=sid)]),
        "proposals": dump([sanctions_service.proposal_read(db_session, p)
                           for p in sanctions_service.list_proposals(db_session=db_session, subject_id=sid)]),
        "notifications": dump([notices_service.notification_read(n)
                               for n in notices_service.list_notifications(db_session=db_session, subject_id=sid)]),
    }


# --- the timeline --------------------------------------------------------------------------------

_RECORD_LABELS = {"report": "报告", "home_visit": "实地查访", "talk": "个别谈话", "remote_check": "信息化核查",
                  "visitor_approval": "会客审批", "education": "教育学习", "community_service": "公益活动"}

_CHANNEL_LABELS = {"in_person": "当面", "phone": "电话", "written": "书面"}


def _at(on: date) -> datetime:
    return clock.ensure_utc(datetime.combine(on, time(12), tzinfo=clock.SHANGHAI))


def timeline(db_session: Session, s: Subject) -> list[TimelineEntry]:
    """Every event of the file, newest first, with the documents each one produced."""
    docs: dict[tuple[str, int], list[int]] = {}
    documents = documents_service.list_for_subject(db_session=db_session, subject_id=s.id)
    for d in documents:
        docs.setdefault((d.source_type, d.source_id), []).append(d.id)
    out: list[TimelineEntry] = []
    rank: dict[int, int] = {}  # lifecycle order of steps recorded at the same moment

    def add(at: datetime | None, on: date | None, kind: str, label: str, summary: str, object_type: str,
            object_id: int, order: int = 0) -> None:
        if at is None and on is None:
            return
        at = at or _at(on)  # type: ignore[arg-type]
        out.append(TimelineEntry(on=on or clock.to_local(at).date(), at=at, kind=kind, label=label, summary=summary,
                                 object_type=object_type, object_id=object_id,
                                 document_ids=docs.get((object_type, object_id), [])))
        rank[id(out[-1])] = order

    states = subject_rules.STATE_LABELS
    for t in s.transitions:
        add(t.at, None, "transition", "状态变更",
            f"{states[subject_rules.SubjectState(t.from_status)]}→{states[subject_rules.SubjectState(t.to_status)]}",
            "subject_transitions", t.id, subject_rules.lifecycle_rank(t.from_status) + 1)
    row = reception_service.get_reception(db_session=db_session, subject_id=s.id)
    if row is not None:
        add(row.created_at, None, "reception", "交付接收", "登记接收法律文书", "receptions", row.id)
    for a in reception_service.list_announcements(db_session=db_session, subject_id=s.id):
        add(a.at, None, f"announcement_{a.kind}", "入矫宣告" if a.kind == AnnouncementKind.entry else "解矫宣告", a.place,
            "announcements", a.id)
    for p in plans_service.list_plans(db_session=db_session, subject_id=s.id):
        add(p.created_at, None, "plan", "矫正方案", f"第{p.version}版", "correction_plans", p.id)
        for r in p.reviews:
            add(None, r.reviewed_on, "plan_review", "方案复查", r.findings[:60], "plan_reviews", r.id)
    for r in levels_service.list_level_reviews(db_session=db_session, subject_id=s.id):
        if r.status == LevelReviewStatus.confirmed and r.decided_at is not None:
            level = level_rules.LEVEL_LABELS[level_rules.SupervisionLevel(r.decided_level or r.proposed_level)]
            add(r.decided_at, None, "level", "管理等级", f"确定为{level}", "level_reviews", r.id)
    for r in daily_service.list_records(db_session=db_session, subject_id=s.id):
        label = _CHANNEL_LABELS.get(r.channel or "", "") + _RECORD_LABELS.get(r.kind, r.kind)
        add(None, r.occurred_on, r.kind, label, r.summary[:60], "daily_records", r.id)
    for m in daily_service.list_monthly_assessments(db_session=db_session, subject_id=s.id):
        add(m.assessed_at, None, "monthly_assessment", "月度考核",
            f"{m.month.strftime('%Y-%m')}：{m.score}分（{'合格' if m.passed else '不合格'}）", "monthly_assessments", m.id)
    for lv in leave_service.list_leaves(db_session=db_session, subject_id=s.id):
        label = leave_rules.LEAVE_STATUS_LABELS[leave_rules.LeaveStatus(lv.status)]
        add(lv.decided_at or lv.created_at, None, "leave", "外出请假",
            f"{lv.destination}，{lv.start.isoformat()}至{lv.end.isoformat()}（{label}）", "leave_requests", lv.id)
    for t in transfer_service.list_transfers(db_session=db_session, subject_id=s.id):
        add(t.created_at, None, "transfer", "执行地变更", f"{t.to_agency}（{transfer_service.TRANSFER_LABELS[t.status]}）",
            "transfers", t.id)
    for x in sanctions_service.list_sanctions(db_session=db_session, subject_id=s.id):
        label = sanction_rules.SANCTION_LABELS[sanction_rules.SanctionKind(x.kind)]
        state = SANCTION_STATES.get(x.status, x.status)
        add(x.decided_at or x.created_at, None, "sanction", label, f"{x.reason[:60]}（{state}）", "sanctions", x.id)
    for p in sanctions_service.list_proposals(db_session=db_session, subject_id=s.id):
        label = sanction_rules.SANCTION_LABELS[sanction_rules.SanctionKind(p.kind)]
        add(p.decided_at or p.created_at, None, "proposal", label, p.reason[:60], "proposals", p.id)
    # Documents of other domains' events (e.g. 使用电子定位装置决定书): listed on their own.
    shown = {(e.object_type, e.object_id) for e in out}
    for d in documents:
        if (d.source_type, d.source_id) not in shown:
            shown.add((d.source_type, d.source_id))
            add(d.created_at, None, "document", d.title, d.number, d.source_type, d.source_id)
    # newest first; at the same moment the later lifecycle step first (在矫 above 已报到)
    return sorted(out, key=lambda e: (clock.ensure_utc(e.at), rank[id(e)], e.object_id), reverse=True)
