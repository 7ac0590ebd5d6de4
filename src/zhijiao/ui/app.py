"""Mount the NiceGUI screens on the FastAPI application.

NiceGUI is served from ``/`` of the same app, so ``/api/v1/*``, ``/docs`` and ``/openapi.json``
(registered first) keep working. Its JavaScript, CSS and fonts are bundled in the package and
served from ``/_nicegui/…``: nothing is loaded from a CDN (the bureau's intranet is offline).

A module adds screens by exposing ``register()`` and appearing in :data:`UI_MODULES`::

    # zhijiao/supervision/ui.py
    def register() -> None:
        menu.add_menu_item("请假审批", "/leave", "event_available", menu.CASE, order=30)

        @protected_page("/leave")                 # resolves the login, binds the actor
        def leave_page(ctx: PageContext) -> None:
            with frame("请假审批"):                # header, role menu, title row
                page = supervision_service.search_leave(db_session=ctx.db)  # services only
                ...

Actions (button handlers) use ``@session.action`` to get a fresh actor-bound session.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from fastapi import FastAPI
from nicegui import ui
from nicegui.storage import Storage

from zhijiao.config import get_settings
from zhijiao.ui import error_pages, layout, menu

#: Page modules in menu order; each has ``register()``. Later domains append theirs.
UI_MODULES: tuple[str, ...] = (
    "zhijiao.ui.pages.login",
    "zhijiao.ui.pages.activate",
    "zhijiao.ui.pages.dashboard",
    "zhijiao.ui.pages.subjects",
    "zhijiao.ui.pages.subject_form",  # /subjects/new before /subjects/{subject_id}
    "zhijiao.ui.pages.subject_detail",
    "zhijiao.ui.pages.audit",
    "zhijiao.ui.pages.staff",
    "zhijiao.settings.ui",
    "zhijiao.monitoring.zones_ui",
    "zhijiao.checkins.ui",
    "zhijiao.supervision.ui",
    "zhijiao.monitoring.ui",
    # The command center (指挥中心): full-screen dark pages of their own; the shell's menu links to them.
    "zhijiao.ui.command",
    "zhijiao.ui.command_desk",
    "zhijiao.ui.command_replay",
    "zhijiao.ui.command_video",
    "zhijiao.ui.command_duty",
    "zhijiao.ui.command_cameras",
)


def register() -> None:
    """Register every page and menu entry (run once per mount, never at import)."""
    menu.reset()
    layout.install_theme()
    for name in UI_MODULES:
        importlib.import_module(name).register()


def mount(fastapi_app: FastAPI) -> None:
    settings = get_settings()
    if "NICEGUI_STORAGE_PATH" not in os.environ:
        # Per-browser storage (it holds the session token) lives with the rest of the data.
        Storage.path = Path(settings.data_dir, "ui-storage").resolve()
    register()
    ui.run_with(
        fastapi_app,
        storage_secret=settings.effective_secret(),
        title="智矫",
        language="zh-CN",
        favicon=layout.FAVICON,
        dark=False,
        show_welcome_message=False,
        reconnect_timeout=10.0,
        # The cookie only identifies the browser; the login's lifetime is enforced on the server.
        session_middleware_kwargs={"same_site": "strict", "max_age": 72 * 3600},
    )
    # NiceGUI's socket.io answers any Origin ('*', with credentials): accept only this site's own
    # origin, or the origins configured in ZHIJIAO_ALLOWED_ORIGINS (issue 20 item 9).
    from nicegui import core

    core.sio.eio.cors_allowed_origins = list(settings.allowed_origins) or None  # None: same origin only
    error_pages.install()  # Chinese 404/500 pages; /api/... keeps JSON errors
