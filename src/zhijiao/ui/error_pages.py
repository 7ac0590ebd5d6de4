"""Chinese error pages for the screens: 404 for an unknown address, 500 for a page that failed.

NiceGUI's own pages say "This page doesn't exist." and show the exception's text; ours say it in
Chinese, show nothing of the exception (it goes to the log) and link back home. Addresses under
``/api/`` keep the API's JSON errors (code + Chinese message) instead of an HTML page.
"""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from nicegui import Client, core, ui
from nicegui.page import page
from starlette.exceptions import HTTPException as StarletteHTTPException

from zhijiao.ui import layout

log = logging.getLogger(__name__)

PAGES: dict[int, tuple[str, str, str]] = {
    404: ("页面不存在", "您访问的页面不存在或已被移除，请检查地址是否正确。", "search_off"),
    500: ("系统出错了", "页面处理时发生错误，已记录在系统日志中。请稍后重试，或联系系统管理员。", "error_outline"),
}


def error_content(status: int) -> None:
    """The body of an error page (also usable inside a page)."""
    title, text, icon = PAGES.get(status, PAGES[500])
    layout.apply_colors()
    ui.page_title(f"{title} - 智矫")
    with ui.column().classes("w-full items-center gap-3").style("padding: 12vh 1rem 0"):
        ui.html(layout.FAVICON.replace("<svg ", '<svg width="56" height="56" '), sanitize=False)
        ui.label(layout.PRODUCT_NAME).classes("zj-brand text-grey-8")
        with ui.card().classes("zj-card items-center gap-2 px-10 py-8").style("max-width: 560px"):
            ui.icon(icon, size="56px").classes("text-grey-5")
            ui.label(str(status)).classes("text-h4 text-grey-7").mark("error-status")
            ui.label(title).classes("text-h6").mark("error-title")
            ui.label(text).classes("text-body2 text-grey-8 text-center")
            with ui.row().classes("gap-4 pt-2"):
                ui.link("返回首页", "/").classes("text-sm").mark("error-home")
                ui.link("重新登录", "/login").classes("text-sm")


def _api_json(status: int) -> JSONResponse:
    code, message = {404: ("not_found", "请求的资源不存在")}.get(status, ("internal_error", "服务器内部错误，请联系管理员"))
    return JSONResponse({"code": code, "message": message, "fields": {}}, status_code=status)


def install() -> None:
    """Replace NiceGUI's English error pages (call after ``ui.run_with``)."""

    @core.app.exception_handler(404)
    async def _not_found(request: Request, exception: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return _api_json(404)
        endpoint = request.scope.get("endpoint")
        if (endpoint is not None and endpoint is not core.app and not request.scope.get("nicegui_page_path")
                and isinstance(exception, StarletteHTTPException)):
            return await http_exception_handler(request, exception)  # a non-page endpoint: JSON
        log.info("page not found: %s", request.url.path)
        with Client(page(""), request=request) as client:
            error_content(404)
        return client.build_response(request, 404)

    @core.app.exception_handler(Exception)
    async def _server_error(request: Request, exception: Exception) -> Response:
        if not request.scope.get("nicegui_page_path"):
            raise exception
        log.error("page %s failed", request.url.path, exc_info=exception)
        with Client(page(""), request=request) as client:
            error_content(500)
        return client.build_response(request, 500)
