"""The FastAPI application: REST API under /api/v1 and the NiceGUI screens."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zhijiao import __version__
from zhijiao.api import errors
from zhijiao.config import get_settings
from zhijiao.db import session as db
from zhijiao.security import audit


class RequestContextMiddleware:
    """Request id for the audit trail, and the security headers of every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                rid = value.decode("latin-1")[:64]
        rid = rid or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-request-id", rid.encode("latin-1")),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
                if path.startswith("/api/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def api_router() -> APIRouter:
    from zhijiao.ingestion.http import router as ingestion_router
    from zhijiao.monitoring.api import router as monitoring_router
    from zhijiao.org.api import router as org_router
    from zhijiao.security.api import router as security_router
    from zhijiao.subjects.api import router as subjects_router

    router = APIRouter(prefix="/api/v1")
    router.include_router(security_router)
    router.include_router(org_router)
    router.include_router(subjects_router)
    router.include_router(monitoring_router)
    router.include_router(ingestion_router)

    @router.get("/health", tags=["system"], summary="健康检查")
    def health() -> dict:
        with db.get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    return router


def create_app(*, with_ui: bool = True) -> FastAPI:
    settings = get_settings()
    settings.effective_secret()  # refuse to start with a missing or default secret
    audit.install()
    db.get_engine()

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
        try:
            yield
        finally:
            if simulator is not None:
                await simulator.stop()
            if ingestion is not None:
                await ingestion.stop()

    app = FastAPI(
        title="智矫 Zhijiao 社区矫正智慧管理平台 API",
        version=__version__,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.add_middleware(RequestContextMiddleware)
    errors.install(app)
    app.include_router(api_router())
    if with_ui:
        from zhijiao.ui import app as ui_app

        ui_app.mount(app)
    return app
