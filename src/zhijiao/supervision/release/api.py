"""Routes of termination (a release is an announcement: see the reception package)."""

from __future__ import annotations

from fastapi import APIRouter

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.supervision.notices import service as notices_service
from zhijiao.supervision.release import flows
from zhijiao.supervision.release.schemas import TerminationIn, TerminationRead

router = APIRouter(tags=["supervision"])


@router.post("/subjects/{subject_id}/termination", response_model=TerminationRead, summary="终止矫正（撤销、收监、死亡）")
def terminate(db_session: ScopedDb, subject_id: IdPath, termination_in: TerminationIn) -> TerminationRead:
    s, notices = flows.terminate(db_session=db_session, subject_id=subject_id, termination_in=termination_in)
    return TerminationRead(subject_id=s.id, status=s.status, termination_reason=s.termination_reason,
                           basis=s.transitions[-1].basis,
                           notifications=[notices_service.notification_read(n) for n in notices])
