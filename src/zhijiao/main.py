"""The FastAPI application: REST API under /api/v1 and the NiceGUI screens."""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zhijiao import __version__, doctor
from zhijiao.api import errors
from zhijiao.checkins.api import router as checkins_router
from zhijiao.checkins.phone_api import router as phone_router
from zhijiao.checkins.phone_api import staff_router as phone_staff_router
from zhijiao.command.api import router as command_router
from zhijiao.config import get_settings
from zhijiao.core import assets
from zhijiao.db import session as db
from zhijiao.documents.api import router as documents_router
from zhijiao.ingestion.http import router as ingestion_router
from zhijiao.jobs.api import router as jobs_router
from zhijiao.monitoring.api import router as monitoring_router
from zhijiao.org.api import router as org_router
from zhijiao.security import audit, filemodes
from zhijiao.security.api import router as security_router
from zhijiao.settings.api import router as settings_router
from zhijiao.subjects.api import router as subjects_router
from zhijiao.supervision.api import router as supervision_router
from zhijiao.tasks.api import router as tasks_router

# NiceGUI compiles Vue templates in the browser, hence 'unsafe-eval'; everything is served
# from this origin (no CDN on an offline intranet), so nothing else is allowed.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:; "
    "media-src 'self' blob: mediastream:; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
)


class RequestContextMiddleware:
    """Request id for the audit trail, body size limit, and the security headers of every answer."""

    def __init__(self, app: ASGIApp, max_body: int, hsts: bool) -> None:
        self.app = app
        self.max_body = max_body
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = None
        length = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                rid = value.decode("latin-1")[:64]
            elif name == b"content-length":
                length = int(value) if value.isdigit() else None
        rid = rid or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        path: str = scope.get("path", "")
        if length is not None and length > self.max_body:
            await _too_large(send, rid)
            return
        received = 0
        overflow = False

        async def receive_limited() -> Message:
            nonlocal received, overflow
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    # Stop reading; whatever the app answers is replaced by a 413 below.
                    overflow = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def send_with_headers(message: Message) -> None:
            if overflow:
                if message["type"] == "http.response.start":
                    await _too_large(send, rid)
                return
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = next((v for k, v in headers if k == b"content-type"), b"")
                headers += [
                    (b"x-request-id", rid.encode("latin-1")),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"content-security-policy", CSP.encode()),
                    (b"permissions-policy", b"camera=(self), geolocation=(self), microphone=()"),
                ]
                if self.hsts or scope.get("scheme") == "https":
                    headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                # Personal data must not stay in browser or proxy caches (pages and API answers).
                if path.startswith("/api/") or content_type.startswith(b"text/html"):
                    headers = [h for h in headers if h[0] != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive_limited, send_with_headers)


async def _too_large(send: Send, rid: str) -> None:
    body = json.dumps({"code": "too_large", "message": "请求内容过大", "fields": {}}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json; charset=utf-8"), (b"x-request-id", rid.encode("latin-1"))]})
    await send({"type": "http.response.body", "body": body})


class ImmutableStaticFiles(StaticFiles):
    """Static files under a versioned URL: browsers keep them a year without asking again."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["cache-control"] = "public, max-age=31536000, immutable"
        return response


_MONO = (".swagger-ui code", ".swagger-ui pre", ".swagger-ui .microlight", ".swagger-ui .opblock-summary-path",
         ".swagger-ui .opblock-summary-path *", ".swagger-ui .opblock-summary-operation-id", ".swagger-ui .prop-format",
         ".swagger-ui .parameter__type", ".swagger-ui .parameter__in", ".swagger-ui .model", ".swagger-ui .model *",
         ".swagger-ui .response-col_status")
_DOCS_FONT_CSS = (
    f'<style>.swagger-ui, .swagger-ui * {{ font-family: {assets.FONT_STACK} !important; }}\n'
    f'{", ".join(_MONO)} {{ font-family: monospace, "{assets.WEB_FONT_FAMILY}" !important; }}</style>'
)


def _mount_api_docs(app: FastAPI) -> None:
    """Swagger UI 5 (reads OpenAPI 3.1) at /docs, shipped in the package: no request leaves the intranet."""
    app.mount("/docs-assets", StaticFiles(directory=assets.SWAGGER_UI_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> Response:
        page = get_swagger_ui_html(
            openapi_url="/openapi.json", title="智矫 API 文档", swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css", swagger_favicon_url="/docs-assets/favicon-32x32.png",
            # Tags start folded: with every one of ~140 operations open at once Swagger UI 5.36
            # drew only the first two tags and silently stopped; folded, each tag opens whole.
            swagger_ui_parameters={"docExpansion": "none", "deepLinking": False},
        )
        # Swagger UI names only generic families: add the shipped web font for the Chinese.
        html = bytes(page.body).decode().replace("</head>", f"{assets.web_font_link()}\n{_DOCS_FONT_CSS}</head>", 1)
        return HTMLResponse(html)


def _mount_fonts(app: FastAPI) -> None:
    """The web font (Noto Sans SC slices and fonts.css) under a URL that names its version."""
    @app.get(f"{assets.WEB_FONT_PREFIX}/fonts.css", include_in_schema=False)
    def current_fonts_css() -> Response:
        """The stable address for static pages (/m/): a redirect to the current version."""
        return RedirectResponse(assets.web_font_css_url(), status_code=307, headers={"cache-control": "no-cache"})

    app.mount(assets.web_font_css_url().rsplit("/", 1)[0],
              ImmutableStaticFiles(directory=assets.WEB_FONT_DIR, check_dir=False), name="fonts")


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", responses=errors.COMMON_RESPONSES)
    router.include_router(security_router)
    router.include_router(org_router)
    router.include_router(subjects_router)
    router.include_router(monitoring_router)
    router.include_router(settings_router)
    router.include_router(checkins_router)
    router.include_router(phone_router)
    router.include_router(phone_staff_router)
    router.include_router(supervision_router)
    router.include_router(documents_router)
    router.include_router(tasks_router)
    router.include_router(ingestion_router)
    router.include_router(command_router)
    router.include_router(jobs_router)

    @router.get("/health", tags=["system"], summary="健康检查")
    def health() -> dict:
        with db.get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    return router


def _mount_phone_page(app: FastAPI) -> None:
    """The subjects' phone page: static HTML and a little JS on the REST API (no build step)."""
    app.mount("/m", StaticFiles(directory=Path(__file__).parent / "static" / "m", html=True), name="phone")


def _anchor_audit_chain() -> None:
    from zhijiao.security import anchors

    try:
        with db.SessionLocal() as session:
            anchors.write(session)
    except Exception:  # noqa: BLE001 - a failed anchor must not stop the shutdown; the job writes the next
        logging.getLogger(__name__).exception("审计链锚点写入失败")


def create_app(*, with_ui: bool = True) -> FastAPI:
    settings = get_settings()
    settings.effective_secret()  # refuse to start with a missing or default secret
    filemodes.secure_process()  # umask 077; data directory files 0600, directories 0700
    audit.install()
    db.get_engine()
    doctor.warn_if_fonts_missing()

    @contextlib.asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        ingestion = None
        simulator = None
        if settings.jt808_enabled:
            from zhijiao.ingestion.runtime import Ingestion

            ingestion = Ingestion(host=settings.jt808_host)
            await ingestion.start()
            app_.state.ingestion = ingestion
            if getattr(app_.state, "run_simulator", False):
                from zhijiao.demo import simulator as sim

                simulator = sim.start_demo(port=ingestion.gateway.port)
        scheduler = None
        if settings.scheduler_enabled:
            from zhijiao.jobs.service import Scheduler

            scheduler = Scheduler()
            await scheduler.start()
        if getattr(app_.state, "service_process", False):
            from zhijiao.core import heap

            heap.tune_for_service()
        try:
            yield
        finally:
            _anchor_audit_chain()  # the head at shutdown, outside the database (security.anchors)
            if scheduler is not None:
                await scheduler.stop()
            if simulator is not None:
                await simulator.stop()
            if ingestion is not None:
                await ingestion.stop()

    app = FastAPI(
        title="智矫 Zhijiao 社区矫正智慧管理平台 API",
        version=__version__,
        openapi_url="/openapi.json",
        docs_url=None,  # FastAPI's own pages load Swagger UI and ReDoc from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    _mount_api_docs(app)
    _mount_fonts(app)
    app.add_middleware(RequestContextMiddleware, max_body=settings.max_request_bytes, hsts=settings.hsts)
    errors.install(app)
    app.include_router(api_router())
    _mount_phone_page(app)
    if with_ui:
        from zhijiao.ui import app as ui_app

        ui_app.mount(app)
    return app
