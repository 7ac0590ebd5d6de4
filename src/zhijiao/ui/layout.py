"""The page frame: header, role-aware navigation drawer and the content area."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from nicegui import ui

from zhijiao.core import assets
from zhijiao.core.errors import DomainError
from zhijiao.ui import menu, session

PRODUCT_NAME = "智矫·社区矫正智慧管理平台"

# Local CJK fonts first, then the shipped web font (Noto Sans SC, linked on every page).
FONT_STACK = assets.FONT_STACK

THEME_CSS = f"""
body, .q-field, .q-btn, .q-table, .q-item, .q-badge {{ font-family: {FONT_STACK}; }}
body {{ background: #f3f5f8; color: #1f2937; }}
.zj-header {{ background: linear-gradient(90deg, #0f3d7a 0%, #1a5aa8 100%); height: 56px; }}
.zj-brand {{ font-size: 18px; font-weight: 600; letter-spacing: 1px; }}
.zj-bureau {{ font-size: 13px; opacity: .85; border-left: 1px solid rgba(255,255,255,.4); padding-left: 12px; }}
.zj-drawer {{ background: #ffffff; }}
.zj-nav a {{ display: flex; align-items: center; gap: 10px; padding: 10px 20px; color: #334155;
             text-decoration: none; font-size: 14px; border-left: 3px solid transparent; }}
.zj-nav a:hover {{ background: #eef3fb; }}
.zj-nav a.zj-active {{ background: #e6effb; color: #0f4c9c; border-left-color: #1a5aa8; font-weight: 600; }}
.zj-title {{ font-size: 18px; font-weight: 600; color: #0f2f5a; }}
.zj-card {{ background: #fff; border: 1px solid #e3e8ef; border-radius: 4px; box-shadow: none; }}
.zj-section {{ font-size: 15px; font-weight: 600; color: #0f2f5a; border-left: 3px solid #1a5aa8;
               padding-left: 8px; line-height: 1.1; }}
.zj-kv {{ display: grid; grid-template-columns: 108px 1fr; column-gap: 8px; row-gap: 6px; font-size: 14px; }}
.zj-kv .k {{ color: #64748b; text-align: right; }}
.zj-kv .v {{ color: #111827; word-break: break-all; }}
.zj-table .q-table th {{ font-weight: 600; color: #334155; background: #f1f5f9; }}
.zj-table .q-table tbody tr {{ cursor: pointer; }}
.zj-stat {{ min-width: 132px; padding: 12px 16px; }}
.zj-stat .n {{ font-size: 26px; font-weight: 600; color: #0f3d7a; line-height: 1.2; }}
.zj-stat .t {{ font-size: 13px; color: #64748b; }}
.q-timeline__title {{ font-size: 15px; font-weight: 600; margin-bottom: 2px; color: #0f2f5a; }}
.q-timeline__subtitle {{ font-size: 12px; letter-spacing: 0; opacity: .8; }}
.q-timeline--dense--right .q-timeline__entry {{ padding-left: 32px; }}
.zj-footer {{ font-size: 12px; color: #94a3b8; }}
"""

FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<path d="M16 2 4 7v8c0 7.5 5.1 13.4 12 15 6.9-1.6 12-7.5 12-15V7z" fill="#1a5aa8"/>'
    '<path d="M10 16.5 14.2 21 22.5 11.5" stroke="#fff" stroke-width="3" fill="none"/></svg>'
)


def apply_colors() -> None:
    """The palette of every page (Quasar brand colours are set per page)."""
    ui.colors(primary="#1a5aa8", secondary="#0f3d7a", accent="#d97706", positive="#15803d",
              negative="#b91c1c", warning="#d97706")


def install_theme() -> None:
    """Shared head additions for every page (called once from ``register()``)."""
    ui.add_head_html(assets.web_font_link(), shared=True)
    ui.add_css(THEME_CSS, shared=True)


@dataclass
class Frame:
    """Handles of the frame a page fills: ``actions`` is the row right of the title."""

    actions: ui.row
    content: ui.column


@contextlib.contextmanager
def frame(title: str) -> Iterator[Frame]:
    """``with frame('社区矫正对象') as f:`` builds header and drawer; the block fills the content."""
    ctx = session.current()
    ui.page_title(f"{title} - 智矫")
    apply_colors()

    with ui.header(elevated=False).classes("zj-header items-center gap-3 px-4 py-0"):
        ui.button(icon="menu", on_click=lambda: drawer.toggle()).props("flat round dense color=white")
        ui.html(FAVICON.replace("<svg ", '<svg width="26" height="26" '), sanitize=False)
        ui.label(PRODUCT_NAME).classes("zj-brand")
        ui.label(ctx.bureau_name).classes("zj-bureau gt-sm")
        ui.space()
        with ui.row().classes("items-center gap-2 no-wrap"):
            ui.icon("account_circle", size="22px")
            ui.label(ctx.display_name).classes("text-sm").mark("user-name")
            ui.badge(ctx.role_label).props("outline color=white").classes("text-xs")
            if ctx.office_name:
                ui.label(ctx.office_name).classes("text-xs opacity-80 gt-xs")
        ui.button("退出登录", icon="logout", on_click=session.logout).props("flat dense no-caps color=white")

    with ui.left_drawer(value=True, fixed=True, bordered=True).props("width=208").classes(
        "zj-drawer p-0"
    ) as drawer:
        with ui.element("nav").classes("zj-nav w-full pt-2"):
            for item in menu.items_for(ctx.actor):
                classes = "zj-active" if item.matches(ctx.path) else ""
                with ui.link(target=item.path).classes(classes).mark(f"nav-{item.path}"):
                    ui.icon(item.icon, size="20px")
                    ui.label(item.label)

    with ui.column().classes("w-full max-w-screen-2xl mx-auto p-4 gap-3") as content:
        with ui.row().classes("w-full items-center justify-between"):
            ui.label(title).classes("zj-title").mark("page-title")
            actions = ui.row().classes("items-center gap-2")
        yield Frame(actions=actions, content=content)
        footer = f"{ctx.bureau_name} · 内部业务系统 · 涉及个人信息，请依法使用"
        ui.label(footer).classes("zj-footer w-full text-center pt-4")


def error_notice(exc: DomainError) -> None:
    """A refusal shown in place of a page's content (no such file, not your role …)."""
    with ui.card().classes("zj-card w-full items-center py-10"):
        ui.icon("block" if exc.status == 403 else "search_off", size="48px").classes("text-grey-5")
        ui.label(exc.message).classes("text-base text-grey-8").mark("error-notice")
        ui.link("返回首页", "/").classes("text-sm")


def section(title: str) -> None:
    ui.label(title).classes("zj-section")


def kv(rows: list[tuple[str, str]]) -> ui.element:
    """Label/value pairs in a two-column grid."""
    with ui.element("div").classes("zj-kv") as grid:
        for key, value in rows:
            ui.label(key).classes("k")
            ui.label(value or "—").classes("v")
    return grid


def stat(number: int | str, text: str, *, link: str | None = None, color: str | None = None,
         mark: str | None = None) -> None:
    """One number with its caption; with ``link`` the card opens that list."""
    with ui.card().classes("zj-card zj-stat gap-0") as card:
        n = ui.label(str(number)).classes("n")
        if mark:
            n.mark(mark)
        if color:
            n.style(f"color: {color}")
        ui.label(text).classes("t")
    if link:
        card.classes("cursor-pointer").on("click", lambda: ui.navigate.to(link))
