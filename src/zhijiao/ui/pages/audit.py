"""/audit: the audit log, for the audit administrator (审计管理员) only."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from nicegui import ui
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import DomainError
from zhijiao.core.pagination import Page
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


def _changes(value: object) -> str:
    if not value:
        return ""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= CHANGES_SHOWN else text[:CHANGES_SHOWN] + "…"


def row(e: AuditEventRead) -> dict:
    return {
        "seq": e.seq,
        "at": clock.format_local(e.at, "%Y-%m-%d %H:%M:%S"),
        "actor": e.actor_name,
        "role": labels.label(labels.ROLE, e.role, "—"),
        "ip": e.client_ip or "—",
        "object": labels.label(labels.AUDIT_OBJECT, e.object_type),
        "object_id": e.object_id or "",
        "action": labels.label(labels.AUDIT_ACTION, e.action),
        "changes": _changes(e.changes),
    }


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
                first = fetch_page(filters.fetch, ctx.db, page, size if size in (20, 50, 100) else DEFAULT_SIZE)
            except DomainError as exc:
                error_notice(exc)
                return
            with ui.card().classes("zj-card w-full p-3"), ui.row().classes("w-full items-end gap-3"):
                otype = ui.select({"": "全部", **labels.AUDIT_OBJECT}, value=filters.object_type
                                  if filters.object_type in labels.AUDIT_OBJECT else "", label="对象").props(
                    "dense outlined options-dense").classes("w-40")
                oid = ui.input("对象编号", value=filters.object_id).props("dense outlined clearable").classes("w-32")
                actor = ui.input("操作人", value=filters.actor_name).props("dense outlined clearable").classes("w-36")
                act = ui.select({"": "全部", **labels.AUDIT_ACTION}, value=filters.action
                                if filters.action in labels.AUDIT_ACTION else "", label="操作").props(
                    "dense outlined options-dense").classes("w-36")

                def apply() -> None:
                    ui.navigate.to(AuditFilters(otype.value or "", (oid.value or "").strip(),
                                                (actor.value or "").strip(), act.value or "").url())

                ui.button("查询", icon="search", on_click=apply).props("unelevated color=primary")
                ui.button("重置", on_click=lambda: ui.navigate.to("/audit")).props("outline color=primary")
                ui.space()
                ui.label(f"共 {first.total} 条").classes("text-sm text-grey-8")
            PagedTable(columns=COLUMNS, first=first, to_row=row, fetch=filters.fetch, url=filters.url,
                       row_key="seq", no_data="没有符合条件的审计记录", sizes=(20, 50, 100)).add_slot(
                "body-cell-changes", CHANGES_CELL).table.mark("audit-table")
            ui.label("审计记录以哈希链防篡改，只能查阅，不能修改或删除。").classes("text-xs text-grey-6")
