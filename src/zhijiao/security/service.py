"""Reading the audit log (auditor only)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhijiao.core.pagination import Page, offset
from zhijiao.security.actor import get_actor
from zhijiao.security.models import AuditEvent
from zhijiao.security.permissions import Perm, require
from zhijiao.security.schemas import AuditEventRead


def list_audit_events(
    *, db_session: Session, object_type: str | None = None, object_id: str | None = None,
    actor_name: str | None = None, action: str | None = None, page: int = 1, size: int = 50,
) -> Page[AuditEventRead]:
    require(get_actor(db_session), Perm.audit_read)
    stmt = select(AuditEvent)
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    if actor_name:
        stmt = stmt.where(AuditEvent.actor_name == actor_name)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    total = db_session.execute(stmt.with_only_columns(func.count(AuditEvent.id))).scalar_one()
    rows = db_session.execute(stmt.order_by(AuditEvent.seq.desc()).offset(offset(page, size)).limit(size)).scalars()
    return Page(items=[AuditEventRead.model_validate(r) for r in rows], total=total, page=page, size=size)
