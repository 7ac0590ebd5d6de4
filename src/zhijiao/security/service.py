"""Reading the audit log (auditor only)."""

from __future__ import annotations

import csv
import io
import json as _json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhijiao.core.pagination import Page, offset
from zhijiao.security import audit, audit_labels
from zhijiao.security.actor import get_actor
from zhijiao.security.models import AuditEvent
from zhijiao.security.permissions import ROLE_LABELS, Perm, require
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


def export_audit_events(*, db_session: Session, object_type: str | None = None, since=None, until=None) -> str:
    """CSV of the audit log for the auditor; the export itself is audited."""

    require(get_actor(db_session), Perm.audit_read)
    stmt = select(AuditEvent).order_by(AuditEvent.seq)
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.at < until)
    out = io.StringIO()
    writer = csv.writer(out)
    # Chinese headers and words beside the codes; the codes and the JSON stay, as the chain signs them
    writer.writerow(["序号", "时间", "操作人用户名", "角色", "来源地址", "请求编号", "对象类型代码", "对象",
                     "对象编号", "操作代码", "操作", "变更内容", "原始记录（JSON）", "校验码"])
    count = 0
    for ev in db_session.execute(stmt).scalars():
        writer.writerow([ev.seq, ev.at.isoformat(), ev.actor_name, ROLE_LABELS.get(ev.role, ev.role or ""),
                         ev.client_ip or "", ev.request_id or "", ev.object_type,
                         audit_labels.table_label(ev.object_type), ev.object_id or "", ev.action,
                         audit_labels.action_label(ev.action), audit_labels.describe(ev.action, ev.changes),
                         _json.dumps(ev.changes, ensure_ascii=False) if ev.changes else "", ev.mac])
        count += 1

    audit.access(db_session, object_type="audit_events", object_id=None, action="export",
                 detail={"rows": count, "object_type": object_type})
    db_session.commit()
    return out.getvalue()
