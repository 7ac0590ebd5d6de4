"""/admin/settings (参数设置): the bureau's values, each with its unit, group, hint and legal ceiling.

The system administrator sees the business rules, the security administrator the security
parameters (三员); the same service the API calls checks the role, the bounds and the legal
ceiling, and audits the change.
"""

from __future__ import annotations

from typing import Any

from nicegui import ui

from zhijiao.core import clock
from zhijiao.core.errors import DomainError, Forbidden
from zhijiao.security.actor import Actor
from zhijiao.security.permissions import Perm, has_perm
from zhijiao.settings import service as settings_service
from zhijiao.settings.registry import GROUPS
from zhijiao.ui import menu, session
from zhijiao.ui.layout import error_notice, frame, section
from zhijiao.ui.session import PageContext, protected_page


def manages_settings(actor: Actor | None) -> bool:
    return has_perm(actor, Perm.settings_manage) or has_perm(actor, Perm.security_settings)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _range(item: dict[str, Any]) -> str:
    if item["minimum"] is None and item["maximum"] is None:
        return "—"
    return f"{_fmt(item['minimum'])}–{_fmt(item['maximum'])} {item['unit']}".strip()


def _legal(item: dict[str, Any]) -> str:
    if item["legal_max"] is not None:
        return f"≤ {_fmt(item['legal_max'])} {item['unit']}（{item['legal_basis']}）"
    return item["legal_basis"] or "—"


def register() -> None:
    menu.add_menu_item("参数设置", "/admin/settings", "tune", manages_settings, order=92)

    @protected_page("/admin/settings")
    def settings_page(ctx: PageContext) -> None:
        with frame("参数设置"):
            try:
                if not manages_settings(ctx.actor):
                    raise Forbidden(code="permission_denied", message="您的角色无权执行该操作")
                items = settings_service.list_settings(db_session=ctx.db)
            except DomainError as exc:
                error_notice(exc)
                return
            owner = "安全管理员：安全参数" if ctx.can(Perm.security_settings) else "系统管理员：业务规则参数"
            ui.label(f"{owner}。每次修改均记入审计日志；法律规定了上限的参数，超过上限的取值将被拒绝。") \
                .classes("text-sm text-grey-8")
            SettingsBoard(items)


class SettingsBoard:
    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = {i["key"]: i for i in items}
        self.values: dict[str, ui.label] = {}
        self.footers: dict[str, ui.label] = {}
        groups = [g for g in GROUPS if any(i["group"] == g for i in items)]
        groups += sorted({i["group"] for i in items} - set(groups))
        for group in groups:
            section(group or "其他")
            with ui.card().classes("zj-card w-full p-0"):
                for item in (i for i in items if i["group"] == group):
                    self._row(item)

    def _row(self, item: dict[str, Any]) -> None:
        key = item["key"]
        with ui.row().classes("w-full items-center no-wrap gap-4 px-4 py-2").style("border-bottom: 1px solid #e3e8ef").mark(f"setting-{key}"):
            with ui.column().classes("gap-0 grow"):
                ui.label(item["label"]).classes("text-sm font-medium")
                if item["hint"]:
                    ui.label(item["hint"]).classes("text-xs text-grey-7")
                with ui.row().classes("gap-4 text-xs text-grey-7"):
                    ui.label(f"允许范围：{_range(item)}")
                    legal = ui.label(f"法定上限：{_legal(item)}" if item["legal_max"] is not None
                                     else f"依据：{_legal(item)}")
                    if item["legal_max"] is not None:
                        legal.classes("text-deep-orange-9").mark(f"legal-{key}")
                    self.footers[key] = ui.label(self._footer(item))
            with ui.row().classes("items-center gap-1 no-wrap"):
                self.values[key] = ui.label(_fmt(item["value"])).classes("text-base font-semibold text-primary") \
                    .mark(f"value-{key}")
                ui.label(item["unit"]).classes("text-sm text-grey-8")
            ui.button("修改", icon="edit", on_click=lambda k=key: self._edit(k)).props(
                "flat dense no-caps color=primary").mark(f"edit-{key}")

    @staticmethod
    def _footer(item: dict[str, Any]) -> str:
        if item["updated_by"]:
            return f"最近修改：{item['updated_by']} {clock.format_local(item['updated_at']) or ''}".strip()
        return f"默认值：{_fmt(item['default'])}"

    def _edit(self, key: str) -> None:
        item = self.items[key]
        numeric = isinstance(item["default"], (int, float)) and not isinstance(item["default"], bool)
        with ui.dialog() as dialog, ui.card().classes("min-w-[420px]"):
            ui.label(f"修改：{item['label']}").classes("text-base font-semibold")
            if item["legal_max"] is not None:
                ui.label(f"法定上限 {_legal(item)}").classes("text-xs text-deep-orange-9")
            if numeric:
                field = ui.number(f"新值（{item['unit']}）" if item["unit"] else "新值", value=item["value"]) \
                    .classes("w-full").mark("setting-input")
            else:
                field = ui.input("新值", value=str(item["value"])).classes("w-full").mark("setting-input")

            @session.action
            def save(db) -> None:
                raw: Any = field.value
                if numeric and raw is not None and isinstance(item["default"], int) and float(raw).is_integer():
                    raw = int(raw)
                row = settings_service.set_value(db_session=db, key=key, raw=raw)
                item["value"], item["updated_by"], item["updated_at"] = row.value, row.updated_by, row.updated_at
                self.values[key].set_text(_fmt(row.value))
                self.footers[key].set_text(self._footer(item))
                ui.notify("已保存", type="positive", position="top")
                dialog.close()

            with ui.row().classes("w-full justify-end"):
                ui.button("取消", on_click=dialog.close).props("flat no-caps")
                ui.button("保存", on_click=save).props("unelevated no-caps color=primary").mark("setting-save")
        dialog.open()
