"""A small development entry for the command center, until the staff UI shell wires it in.

Not used by ``zhijiao serve``: the shell provides ``/login`` and calls ``register_command_pages``.
Tests, the benchmark and developers use :func:`mount` (a minimal login page plus the command
center on a FastAPI app) and :func:`main`:

    ZHIJIAO_DEMO_MODE=true PYTHONPATH=src python -m zhijiao.ui.command_dev --demo --port 8080

``--demo`` migrates and seeds the demo district and moves its 60 bracelets through the real
pipeline (store → rules → alarms → events) a few times a minute, two of them out of the district.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from nicegui import app, ui
from nicegui.storage import Storage

from zhijiao.config import get_settings
from zhijiao.core import clock
from zhijiao.core.errors import DomainError
from zhijiao.db import session as dbsession
from zhijiao.security import auth
from zhijiao.ui.command import TOKEN_KEY, register_command_pages, theme


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/command"
    return target


def register_login_page() -> None:
    """A bare login (password and TOTP) that stores the token where the command pages look."""

    @ui.page("/login", title="登录 · 智矫", dark=True)
    def login_page(request: Request, next: str | None = None) -> None:  # noqa: A002 - the query parameter
        theme()
        target = _safe_next(next)
        with ui.element("div").classes("w-full flex items-center justify-center").style("min-height: 100vh"), \
                ui.column().classes("items-stretch gap-3 cc-panel p-8 min-w-[360px]"):
            ui.label("临淄区社区矫正指挥中心").classes("cc-title text-center")
            username = ui.input("用户名").props("outlined autocomplete=username").mark("login-username")
            password = ui.input("密码", password=True).props("outlined autocomplete=current-password").mark(
                "login-password")
            otp = ui.input("动态口令（6 位）").props("outlined inputmode=numeric").mark("login-otp")

            def submit() -> None:
                db = dbsession.SessionLocal()
                try:
                    result = auth.login(db, username=username.value or "", password=password.value or "",
                                        otp=otp.value or None, kind="browser",
                                        client_ip=request.client.host if request.client else None)
                except DomainError as exc:
                    ui.notify(exc.message, type="negative", position="top")
                    return
                finally:
                    db.close()
                app.storage.user[TOKEN_KEY] = result.token
                ui.navigate.to(target)

            password.on("keydown.enter", submit)
            otp.on("keydown.enter", submit)
            ui.button("登 录", on_click=submit).props("unelevated color=cyan text-color=black").mark("login-submit")


def mount(fastapi_app: FastAPI, *, storage_secret: str | None = None) -> None:
    """The login page and the command center on ``fastapi_app`` (NiceGUI at ``/``)."""
    if "NICEGUI_STORAGE_PATH" not in os.environ:
        Storage.path = Path(get_settings().data_dir, "ui-storage").resolve()
    register_login_page()
    register_command_pages()

    @ui.page("/")
    def index() -> None:
        ui.navigate.to("/command")

    ui.run_with(fastapi_app, storage_secret=storage_secret or get_settings().effective_secret(), title="智矫",
                language="zh-CN", dark=True, show_welcome_message=False, reconnect_timeout=10.0)


# --- demo motion ---------------------------------------------------------------------------------


async def move_demo_bracelets(every_s: float = 10.0, wanderers: int = 2) -> None:
    """Walk the demo bracelets around their homes through the real pipeline (a stand-in until
    the JT/T 808 simulator lands); the first ``wanderers`` walk out of the district."""
    from sqlalchemy import select

    from zhijiao.demo.seed import BRACELETS, device_ident
    from zhijiao.core.fix import Fix
    from zhijiao.ingestion.pipeline import Pipeline
    from zhijiao.monitoring.models import Device, DeviceBinding
    from zhijiao.security.actor import Actor
    from zhijiao.subjects.models import Subject

    def homes() -> dict[str, tuple[float, float]]:
        with dbsession.session_scope(Actor.system("demo-motion")) as db:
            rows = db.execute(select(Device.ident, Subject.home_lat, Subject.home_lon)
                              .join(DeviceBinding, DeviceBinding.device_id == Device.id)
                              .join(Subject, Subject.id == DeviceBinding.subject_id)
                              .where(DeviceBinding.end_at.is_(None))).all()
        return {ident: (lat, lon) for ident, lat, lon in rows if lat is not None}

    home = await asyncio.to_thread(homes)
    pipeline = Pipeline()
    await pipeline.start()
    rng = random.Random(7)
    phase = {ident: rng.uniform(0, 6.28) for ident in home}
    step = 0
    try:
        while True:
            now = clock.now().replace(microsecond=0)
            fixes = []
            for n in range(1, BRACELETS + 1):
                ident = device_ident(n)
                if ident not in home:
                    continue
                lat0, lon0 = home[ident]
                a = phase[ident] + step * 0.15
                r = 0.004 + 0.003 * math.sin(a * 0.7)
                lat, lon = lat0 + r * math.sin(a), lon0 + r * math.cos(a)
                if n <= wanderers:  # gone north-east, out of the district (越界 after the dwell time)
                    lat, lon = 37.02 + 0.01 * n + r * math.sin(a), 118.58 + r * math.cos(a)
                fixes.append(Fix(device_ident=ident, fix_time=now, lat=lat, lon=lon, accuracy_m=8.0,
                                 battery_pct=max(5, 95 - step % 90)))
            await pipeline.submit(fixes)
            step += 1
            await asyncio.sleep(every_s)
    finally:
        await pipeline.stop()


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    from zhijiao.main import create_app

    parser = argparse.ArgumentParser(description="智矫 command center (development entry)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--demo", action="store_true", help="seed the demo district and move its bracelets")
    args = parser.parse_args(argv)
    os.environ.setdefault("ZHIJIAO_JT808_ENABLED", "false")
    if args.demo:
        from zhijiao.db import migrate
        from zhijiao.demo import seed

        migrate.upgrade()
        print(seed.banner(seed.seed(), args.host, args.port))
    fastapi_app = create_app(with_ui=False)
    if args.demo:
        @contextlib.asynccontextmanager
        async def with_motion(_app: FastAPI) -> AsyncIterator[None]:
            task = asyncio.create_task(move_demo_bracelets())
            yield
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

        original = fastapi_app.router.lifespan_context

        @contextlib.asynccontextmanager
        async def lifespan(a: FastAPI) -> AsyncIterator[None]:
            async with original(a), with_motion(a):
                yield

        fastapi_app.router.lifespan_context = lifespan
    mount(fastapi_app)
    uvicorn.run(fastapi_app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
