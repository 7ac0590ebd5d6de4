"""Tokens in the browser and on the server's disk (issue 20, items 4 and 5), in headless chromium,
on SQLite and PostgreSQL.

A staff login leaves in NiceGUI's per-browser storage (on the server) only a handle that opens
screens: the file is 0600 and the handle is refused as an API bearer token. The subject's phone
page's 退出 ends the session on the server: the token no longer works. Screenshot:
``artifacts/ui/secauth/phone-logout.png``.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest

from tests import factories
from tests.ui import browser
from tests.ui.browser import ARTIFACTS
from tests.ui.conftest import BOTH_BACKENDS, World
from zhijiao.security import auth

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "secauth"


@pytest.fixture
def driver(tmp_path: Path):
    browser.require_chromium()
    with browser.chromium(tmp_path, window=(420, 860)) as d:
        yield d


@BOTH_BACKENDS
def test_ui_storage_holds_no_api_token_and_phone_logout_ends_the_session(
        server: str, driver, world: World, db, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    log = tmp_path / "server.log"
    SHOTS.mkdir(parents=True, exist_ok=True)
    office = factories.office(db)
    subject = factories.subject(db, office, name="钱多多", status="under_correction")
    db.info["actor"] = factories.SYSTEM
    auth.set_subject_password(db, subject_id=subject.id, password="Phone#2026", actor=factories.SYSTEM)
    try:
        browser.open_page(driver, f"{server}/login")
        driver.find_element(By.CSS_SELECTOR, "input[autocomplete=username]").send_keys(world.officer_a)
        driver.find_element(By.CSS_SELECTOR, "input[autocomplete=current-password]").send_keys(factories.PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "input[autocomplete=one-time-code]").send_keys(
            factories.otp(world.officer_a))
        driver.find_element(By.XPATH, "//button[contains(., '登 录')]").click()
        browser.wait_for_text(driver, "在册概况", log)

        storage = tmp_path / "nicegui"
        files = [p for p in storage.rglob("*") if p.is_file()]
        handles = [json.loads(p.read_text()).get("token") for p in files if p.name.startswith("storage-user")]
        handles = [h for h in handles if h]
        assert len(handles) == 1, files
        assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o600}
        assert stat.S_IMODE(storage.stat().st_mode) == 0o700
        r = httpx.get(f"{server}/api/v1/me", headers={"Authorization": f"Bearer {handles[0]}"})
        assert r.status_code == 401  # the screens' handle is no API credential

        driver.get(f"{server}/m/")
        driver.find_element(By.NAME, "id_number").send_keys(subject.id_number)
        driver.find_element(By.NAME, "password").send_keys("Phone#2026")
        driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
        browser.wait_for_text(driver, "签到需开启摄像头", log)
        token = driver.execute_script("return sessionStorage.getItem('zj_token');")
        pending = f"{server}/api/v1/m/rollcalls/pending"
        assert httpx.get(pending, headers={"Authorization": f"Bearer {token}"}).status_code == 200
        driver.find_element(By.ID, "logout").click()
        browser.wait_for_text(driver, "已退出登录", log)
        driver.save_screenshot(str(SHOTS / "phone-logout.png"))
        assert driver.execute_script("return sessionStorage.getItem('zj_token');") is None
        assert httpx.get(pending, headers={"Authorization": f"Bearer {token}"}).status_code == 401
        assert not browser.severe(driver)
    except BaseException:
        driver.save_screenshot(str(SHOTS / "failure.png"))
        raise
