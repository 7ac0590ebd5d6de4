"""UI tests with NiceGUI's simulated ``User``, on the real app from ``create_app(with_ui=True)``.

NiceGUI's own ``user`` fixture (``nicegui.testing.user_plugin``) runs a ``main.py`` file; ours
builds our application on the test database of the ``engine`` fixture instead (SQLite and
PostgreSQL) and otherwise does what ``nicegui.testing.user_simulation`` does. The plugin is
not loaded with ``pytest_plugins``: pytest accepts that only in the top-level conftest.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from nicegui import core, ui
from nicegui.functions.download import download
from nicegui.functions.navigate import Navigate
from nicegui.functions.notify import notify
from nicegui.storage import Storage
from nicegui.testing.general import nicegui_reset_globals
from nicegui.testing.user import User

from tests import factories
from zhijiao.security.auth import ip_limiter


@dataclass
class World:
    """Two offices, their officers and subjects, a district officer and the 三员."""

    office_a: object
    office_b: object
    officer_a: str
    officer_b: str
    bureau: str
    auditor: str
    sysadmin: str
    a_names: list[str]
    b_names: list[str]
    subject_id: int


# The staff of these tests log in through the screen in nearly every test: an argon2 hash with
# the library's defaults costs ~0.25 s per login, this one a millisecond (verify reads the
# parameters from the hash).
_FAST_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(factories.PASSWORD)


@pytest.fixture
def world(db) -> World:
    a = factories.office(db, name="闻韶司法所")
    b = factories.office(db, name="雪宫司法所")
    officer_a = factories.staff(db, "office_officer", a, display_name="王所员")
    officer_b = factories.staff(db, "office_officer", b)
    bureau = factories.staff(db, "bureau_officer", display_name="赵区局")
    auditor = factories.staff(db, "auditor")
    sysadmin = factories.staff(db, "sysadmin")
    first = factories.subject(db, a, name="张三丰", responsible_staff_id=officer_a.id)
    factories.subject(db, a, name="李四光", correction_type="parole")
    factories.subject(db, a, name="王五常", status="under_correction")
    factories.subject(db, b, name="赵六合")
    for member in (officer_a, officer_b, bureau, auditor, sysadmin):
        member.password_hash = _FAST_HASH
    db.commit()
    return World(a, b, officer_a.username, officer_b.username, bureau.username, auditor.username,
                 sysadmin.username, ["张三丰", "李四光", "王五常"], ["赵六合"], first.id)


BOTH_BACKENDS = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """UI tests run on SQLite; those marked ``@BOTH_BACKENDS`` on PostgreSQL as well."""
    return request.param


_frozen = False


def _freeze_heap() -> None:
    """Move the imported modules out of the collector's sight once: NiceGUI's reset runs
    ``gc.collect()`` several times per test, which otherwise walks the whole heap each time."""
    global _frozen
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True


@pytest.fixture
async def user(engine, caplog: pytest.LogCaptureFixture) -> AsyncIterator[User]:
    """A simulated browser on ``create_app(with_ui=True)`` bound to this test's database."""
    from zhijiao.main import create_app

    _freeze_heap()
    ip_limiter.reset()
    modules = dict(sys.modules)
    with nicegui_reset_globals():
        os.environ["NICEGUI_USER_SIMULATION"] = "true"
        try:
            app = create_app(with_ui=True)
            async with app.router.lifespan_context(app):  # ours, wrapped by run_with (NiceGUI startup)
                transport = httpx.ASGITransport(app, client=("127.0.0.1", 50000))
                async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                    yield User(client)
        finally:
            os.environ.pop("NICEGUI_USER_SIMULATION", None)
            ui.navigate = Navigate()
            ui.notify = notify
            ui.download = download
    # nicegui_reset_globals forgets the modules of page functions (and their parent packages):
    # put ours back so that ``zhijiao`` keeps one identity across tests.
    for name, module in modules.items():
        sys.modules.setdefault(name, module)
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    if errors:
        pytest.fail("unexpected ERROR logs: " + "; ".join(r.getMessage() for r in errors), pytrace=False)


def pytest_configure(config: pytest.Config) -> None:
    # What nicegui.testing.general_fixtures does: per-run storage, never the working tree.
    os.environ.setdefault("NICEGUI_STORAGE_PATH", tempfile.mkdtemp(prefix="nicegui-test-storage-"))
    Storage.path = Path(os.environ["NICEGUI_STORAGE_PATH"]).resolve()
    core.app.storage = Storage()


async def wait_for_path(user: User, path: str, timeout: float = 5.0) -> None:
    """Navigation in the simulation is a background task: wait until ``path`` is open."""
    for _ in range(int(timeout / 0.05)):
        if user.back_history and user.back_history[-1] == path:
            await asyncio.sleep(0)
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected to be on {path}, history: {user.back_history}")


async def login(user: User, username: str, password: str = factories.PASSWORD, *, expect: str | None = "/") -> None:
    await user.open("/login")
    user.find(marker="login-username").type(username)
    user.find(marker="login-password").type(password)
    user.find(marker="login-otp").type(factories.otp(username))
    user.find(marker="login-submit").click()
    if expect is not None:
        await wait_for_path(user, expect)


def set_value(user: User, marker: str, value: object) -> None:
    """Choose ``value`` in a select (or set any value element) found by its marker."""
    with user:
        for element in user.find(marker=marker).elements:
            element.value = value


def table_rows(user: User, marker: str) -> list[dict]:
    (table,) = user.find(marker=marker).elements
    return list(table.rows)


def timeline_titles(user: User, marker: str = "timeline") -> list[str]:
    """The entries of one timeline (the lifecycle's by default; the file's is ``file-timeline``)."""
    (timeline,) = user.find(marker=marker).elements
    entries = sorted((e for e in timeline.descendants() if isinstance(e, ui.timeline_entry)), key=lambda e: e.id)
    return [e.props.get("title") for e in entries]


@pytest.fixture
def server(database_url: str, world, tmp_path: Path):
    """``zhijiao serve`` in a subprocess on this test's database, after the module's ``world``."""
    from tests.ui import browser

    browser.require_chromium()
    with browser.serve(database_url, tmp_path) as base:
        yield base
