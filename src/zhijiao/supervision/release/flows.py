"""The end of correction: the release announcement (解矫宣告, 社区矫正法 第四十四条) and termination
(终止矫正, 第四十五条、第四十八条、第四十九条、第五十一条). Each writes its documents, the notices the law
requires and (last) the lifecycle transition, in one unit of work.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import Conflict, InvalidInput
from zhijiao.documents import service as documents_service
from zhijiao.security.permissions import Perm, require
from zhijiao.subjects import rules as subject_rules
from zhijiao.subjects.models import Subject
from zhijiao.subjects.schemas import SubjectStatus
from zhijiao.supervision import common
from zhijiao.supervision.notices import service as notices_service
from zhijiao.supervision.notices.models import Notification
from zhijiao.supervision.reception.models import Announcement
from zhijiao.supervision.reception.schemas import AnnouncementCreate
from zhijiao.supervision.release import rules as release_rules
from zhijiao.supervision.release.schemas import TerminationIn
from zhijiao.supervision.sanctions import service as sanctions_service
from zhijiao.supervision.sanctions.models import ProposalOutcome
from zhijiao.tasks import service as tasks_service

RELEASE_ITEMS = [
    "社区矫正期限届满，依法解除社区矫正",
    "对其矫正期间表现的鉴定意见",
    "对判处管制的，执行期满，解除管制；宣告缓刑的，缓刑考验期满，原判刑罚不再执行；"
    "裁定假释的，假释考验期满，原判刑罚视为已经执行完毕",
]


def release(db_session: Session, s: Subject, row: Announcement, announcement_in: AnnouncementCreate) -> None:
    """The release announcement (解矫宣告, 第四十四条): on the last day of the term at the earliest;
    the announcement and the certificate (解除社区矫正证明书), the notices, then the transition."""
    reason = announcement_in.reason or subject_rules.ReleaseReason.term_completed.value
    subject_rules.check_transition(s.status, SubjectStatus.released, correction_type=s.correction_type, reason=reason)
    if reason == subject_rules.ReleaseReason.term_completed:
        if s.correction_end_date is None:
            raise InvalidInput("请先在档案中填写矫正结束日期", code="correction_term_missing",
                               fields={"correction_end_date": "必填"})
        if not release_rules.is_release_due(s.correction_end_date):
            raise Conflict(f"矫正期限至{s.correction_end_date.isoformat()}届满，届满之日方可解除矫正",
                           code="release_not_due")
    row.reason = reason
    db_session.add(row)
    db_session.flush()
    on = clock.to_local(row.at).date()
    bureau_name = documents_service.bureau_of(db_session, s).name
    extra: dict[str, Any] = {"officer": row.host, "place": row.place,
                             "procuratorate": common.procuratorate_of(bureau_name)}
    if announcement_in.performance:
        extra["performance"] = announcement_in.performance
    if reason == subject_rules.ReleaseReason.pardoned:
        pardoned = subject_rules.RELEASE_REASON_LABELS[subject_rules.ReleaseReason.pardoned]
        extra["basis"] = f"《中华人民共和国社区矫正法》第四十四条（{pardoned}）"
    for doc_kind in ("release_announcement", "release_certificate"):
        documents_service.generate(db_session=db_session, kind=doc_kind, subject=s, source_type="announcements",
                                   source_id=row.id, extra=extra, doc_date=on)
    notices_service.record_notifications(db_session, s, "release", row.id, release_rules.release_notifications(reason))
    tasks_service.close(db_session=db_session, subject_id=s.id, status="cancelled", note="已解除矫正")
    common.transition(db_session, s, SubjectStatus.released.value, reason=reason)


# --- 终止矫正 (Law Art. 45) ----------------------------------------------------------------------


def terminate(*, db_session: Session, subject_id: int, termination_in: TerminationIn
              ) -> tuple[Subject, list[Notification]]:
    actor = common.writer(db_session)
    require(actor, Perm.subjects_transition)
    s = common.open_subject(db_session, subject_id)
    basis = subject_rules.check_transition(s.status, SubjectStatus.terminated, correction_type=s.correction_type,
                                           reason=termination_in.reason)
    if termination_in.decided_on is not None:
        common.not_future(termination_in.decided_on, "decided_on")
    if termination_in.proposal_id is not None:
        proposal = sanctions_service.get_proposal(db_session=db_session, proposal_id=termination_in.proposal_id)
        expected = {"revoked_probation": "revoke_probation", "revoked_parole": "revoke_parole",
                    "recommitted": "recommit"}.get(termination_in.reason)
        if proposal.subject_id != s.id or proposal.kind != expected or proposal.outcome != ProposalOutcome.granted:
            raise Conflict("所引用的提请建议与终止原因不符，或尚未获得批准", code="proposal_mismatch")
        tasks_service.close(db_session=db_session, key=f"termination_followup:{proposal.id}", note="已终止矫正")
    notifications = notices_service.record_notifications(
        db_session, s, "termination", termination_in.proposal_id,
        release_rules.release_notifications(termination_in.reason))
    tasks_service.close(db_session=db_session, subject_id=s.id, status="cancelled", note="已终止矫正")
    note = termination_in.note
    if termination_in.decided_on is not None:
        note = f"决定（裁定）日期：{termination_in.decided_on.isoformat()}" + (f"；{note}" if note else "")
    common.transition(db_session, s, SubjectStatus.terminated.value, reason=termination_in.reason,
                basis=termination_in.basis or basis, note=note)
    return s, notifications
