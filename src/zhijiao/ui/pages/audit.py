"""/audit: the audit log, for the audit administrator (审计管理员) only."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from nicegui import ui
from sqlalchemy.orm import Session

from zhijiao.monitoring import alarms
from zhijiao.monitoring import lifecycle as alarm_lifecycle
from zhijiao.core import clock
from zhijiao.core.errors import DomainError
from zhijiao.core.pagination import Page
from zhijiao.org import service as org_service
from zhijiao.security import audit_labels
from zhijiao.security import service as security_service
from zhijiao.security.permissions import Perm
from zhijiao.security.schemas import AuditEventRead
from zhijiao.ui import labels, menu
from zhijiao.ui.components.paged_table import PagedTable, fetch_page
from zhijiao.ui.layout import error_notice, frame
from zhijiao.ui.session import PageContext, protected_page

DEFAULT_SIZE = 50
CHANGES_SHOWN = 160


@dataclass
class AuditFilters:
    object_type: str = ""
    object_id: str = ""
    actor_name: str = ""
    action: str = ""

    def url(self, page: int = 1, size: int = DEFAULT_SIZE) -> str:
        params: dict[str, object] = {k: v for k, v in asdict(self).items() if v}
        if page > 1:
            params["page"] = page
        if size != DEFAULT_SIZE:
            params["size"] = size
        return "/audit" + (f"?{urlencode(params)}" if params else "")

    def fetch(self, db: Session, page: int, size: int) -> Page[AuditEventRead]:
        return security_service.list_audit_events(
            db_session=db, object_type=self.object_type or None, object_id=self.object_id or None,
            actor_name=self.actor_name or None, action=self.action or None, page=page, size=size,
        )


#: codes a change may hold, in words (状态, 等级, 类别, 性别, 角色, 原因)
VALUES = {**{k: v[0] for k, v in alarms.ALARM_TYPES.items()},
          **{str(k): v for k, v in alarm_lifecycle.STATUS_LABELS.items()},
          **labels.STATUS, **labels.SUPERVISION_LEVEL, **labels.CORRECTION_TYPE, **labels.GENDER, **labels.ROLE,
          **labels.REASON}


def actor_text(username: str, names: dict[str, str]) -> str:
    """The person, with the account they used: 王所员（wang01）; 系统 for a job."""
    name = names.get(username, username)
    return username if name == username else f"{name}（{username}）"


def row(e: AuditEventRead, names: dict[str, str] | None = None) -> dict:
    names = names or {}
    return {
        "seq": e.seq,
        "at": clock.format_local(e.at, "%Y-%m-%d %H:%M:%S"),
        "actor": actor_text(e.actor_name, names),
        "username": e.actor_name,
        "role": labels.label(labels.ROLE, e.role, "—"),
        "ip": e.client_ip or "—",
        "object": audit_labels.table_label(e.object_type),
        "object_id": e.object_id or "",
        "action": audit_labels.action_label(e.action),
        "changes": audit_labels.describe(e.action, e.changes, values=VALUES, names=names, limit=CHANGES_SHOWN),
    }


class AuditRows:
    """Rows of one page with the names of the people in it (looked up once per page)."""

    def __init__(self, filters: AuditFilters) -> None:
        self.filters = filters
        self.names: dict[str, str] = {}

    def fetch(self, db: Session, page: int, size: int) -> Page[AuditEventRead]:
        result = self.filters.fetch(db, page, size)
        usernames = {e.actor_name for e in result.items}
        for e in result.items:
            for key in ("requested_by", "decided_by", "proposed_by"):
                value = (e.changes or {}).get(key)
                usernames |= {v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)}
        self.names.update(org_service.names_of(db_session=db, usernames=usernames))
        return result

    def row(self, e: AuditEventRead) -> dict:
        return row(e, self.names)


COLUMNS = [{"name": n, "label": lbl, "field": n, "align": "left"} for n, lbl in (
    ("seq", "序号"), ("at", "时间"), ("actor", "操作人"), ("role", "角色"), ("ip", "来源地址"),
    ("object", "对象"), ("object_id", "对象编号"), ("action", "操作"), ("changes", "内容"),
)]
CHANGES_CELL = """
<q-td :props="props" style="max-width: 420px; white-space: normal; word-break: break-all; font-size: 12px;">
  {{ props.value }}
</q-td>
"""


def register() -> None:
    menu.add_menu_item("审计日志", "/audit", "fact_check", Perm.audit_read, order=80)

    @protected_page("/audit")
    def audit_page(ctx: PageContext, object_type: str = "", object_id: str = "", actor_name: str = "",
                   action: str = "", page: int = 1, size: int = DEFAULT_SIZE) -> None:
        filters = AuditFilters(object_type[:64], object_id[:64], actor_name[:64], action[:32])
        with frame("审计日志"):
            try:
                rows = AuditRows(filters)
                first = fetch_page(rows.fetch, ctx.db, page, size if size in (20, 50, 100) else DEFAULT_SIZE)
            except DomainError as exc:
                error_notice(exc)
                return
            with ui.card().classes("zj-card w-full p-3"), ui.row().classes("w-full items-end gap-3"):
                otype = ui.select({"": "全部", **audit_labels.TABLES}, value=filters.object_type
                                  if filters.object_type in audit_labels.TABLES else "", label="对象",
                                  with_input=True).props(
                    "dense outlined options-dense").classes("w-40")
                oid = ui.input("对象编号", value=filters.object_id).props("dense outlined clearable").classes("w-32")
                actor = ui.input("操作人用户名", value=filters.actor_name).props("dense outlined clearable").classes("w-36")
                act = ui.select({"": "全部", **audit_labels.ACTIONS}, value=filters.action
                                if filters.action in audit_labels.ACTIONS else "", label="操作").props(
                    "dense outlined options-dense").classes("w-36")

                def apply() -> None:
                    ui.navigate.to(AuditFilters(otype.value or "", (oid.value or "").strip(),
                                                (actor.value or "").strip(), act.value or "").url())

                ui.button("查询", icon="search", on_click=apply).props("unelevated color=primary")
                ui.button("重置", on_click=lambda: ui.navigate.to("/audit")).props("outline color=primary")
                # 三员: every refused administrative act (disabling the auditor, changing one's own role...)
                ui.button("越权尝试", icon="gpp_bad", on_click=lambda: ui.navigate.to(
                    AuditFilters("", "", "", "denied").url())).props("outline color=negative").mark("audit-denied")
                ui.space()
                ui.label(f"共 {first.total} 条").classes("text-sm text-grey-8")
            PagedTable(columns=COLUMNS, first=first, to_row=rows.row, fetch=rows.fetch, url=filters.url,
                       row_key="seq", no_data="没有符合条件的审计记录", sizes=(20, 50, 100)).add_slot(
                "body-cell-changes", CHANGES_CELL).table.mark("audit-table")
            ui.label("审计记录以哈希链防篡改，只能查阅，不能修改或删除。").classes("text-xs text-grey-6")
