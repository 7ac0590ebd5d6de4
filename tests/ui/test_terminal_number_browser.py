"""Headless chromium on SQLite and PostgreSQL (issue 20 item 11): the /devices form registers a
JT/T 808 terminal typed as a 2013 header prints it in the one canonical form, and refuses a
number with a letter in Chinese. Screenshots: ``artifacts/ui/secpos/``."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.ui.browser import ARTIFACTS
from tests.ui.conftest import BOTH_BACKENDS, World
from tests.ui.test_devices_browser import _click, _login, _type, _wait_for_text, driver  # noqa: F401 - fixture
from tests.ui.test_devices_browser import _open, _severe
from zhijiao.monitoring.models import Device
from zhijiao.security.actor import Actor

pytestmark = pytest.mark.browser
SHOTS = ARTIFACTS / "secpos"
DIALOG = "//div[contains(@class,'q-dialog')]//div[contains(@class,'justify-end')]"


def _shot(driver, name: str) -> None:  # noqa: F811 - the driver fixture, imported above
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / name))


@BOTH_BACKENDS
def test_the_devices_form_stores_the_canonical_number(server: str, driver, world: World, db, tmp_path: Path,  # noqa: F811
                                                      backend: str) -> None:
    log = tmp_path / "server.log"
    try:
        _login(driver, server, world.officer_a, log, "在册概况")
        _open(driver, f"{server}/devices")
        _wait_for_text(driver, "没有符合条件的定位设备", log)
        _click(driver, "登记设备")
        _type(driver, "终端手机号", "13912a45678")
        _click(driver, "登记", DIALOG)
        _wait_for_text(driver, "终端手机号只能由数字组成", log)
        _shot(driver, "device-bad-number.png")
        _type(driver, "终端手机号", "013912345678")
        _click(driver, "登记", DIALOG)
        _wait_for_text(driver, "设备 13912345678 已登记", log)
        _wait_for_text(driver, "终端手机号 013912345678 已统一登记为 13912345678", log)
        _shot(driver, "device-canonical-number.png")
        _click(driver, "我已记录，关闭")
        _wait_for_text(driver, "13912345678", log)
        errors = _severe(driver)
    except BaseException:
        _shot(driver, f"failure-terminal-number-{backend}.png")
        raise
    assert not errors, f"JavaScript console errors: {errors}"
    db.info["actor"] = Actor.system("test")
    db.expire_all()
    assert db.execute(select(Device.ident)).scalars().all() == ["13912345678"]
