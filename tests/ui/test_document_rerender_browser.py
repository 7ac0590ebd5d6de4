"""重新生成 in headless chromium (issue 19): a document stored broken is rendered again from its
stored data under the same number, from the subject page's file timeline; the re-rendering is
audited. On SQLite and PostgreSQL. Screenshot in ``artifacts/ui/fonts/rerender.png``.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests import factories
from tests.ui import browser
from tests.ui.browser import ARTIFACTS, TIMEOUT
from tests.ui.browser import open_page as _open
from tests.ui.browser import wait_for_text as _wait_for_text
from tests.ui.conftest import BOTH_BACKENDS, World
from zhijiao.core import clock

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "fonts"
ENTRY = {"kind": "entry", "place": "司法所宣告室", "present": ["王所长（司法所）"]}


@pytest.fixture
def driver(tmp_path: Path):
    browser.require_chromium()
    with browser.chromium(tmp_path) as d:
        yield d


def _post(url: str, *, form: dict | None = None, body: dict | None = None, token: str | None = None) -> dict:
    data = urllib.parse.urlencode(form).encode() if form else json.dumps(body).encode()
    headers = {"content-type": "application/x-www-form-urlencoded" if form else "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=120) as r:
        return json.load(r)


@BOTH_BACKENDS
def test_rerender_a_broken_document_from_the_subject_page(server: str, driver, db, world: World,
                                                          tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    from zhijiao.documents.models import Document
    from zhijiao.security.models import AuditEvent

    # A subject announced by a colleague through the API: the entry announcement is a real document.
    subject = factories.subject(db, world.office_a, name="孙七星", status="reported",
                                correction_end_date=clock.today_local() + timedelta(days=120))
    colleague = factories.staff(db, "office_officer", world.office_a)
    token = _post(f"{server}/api/v1/auth/token", form={
        "username": colleague.username, "password": factories.PASSWORD,
        "otp": factories.otp(colleague.username)})["access_token"]
    doc = _post(f"{server}/api/v1/subjects/{subject.id}/announcements", body=ENTRY, token=token)["documents"][0]
    # ... and stored broken (as when the machine had no CJK font).
    broken = b"%PDF-1.7 boxes\n%%EOF\n"
    db.execute(text("UPDATE documents SET content = :c, sha256 = :s WHERE id = :i"),
               {"c": broken, "s": hashlib.sha256(broken).hexdigest(), "i": doc["id"]})
    db.commit()

    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        _open(driver, f"{server}/login")
        driver.find_element(By.CSS_SELECTOR, "input[autocomplete=username]").send_keys(world.officer_a)
        driver.find_element(By.CSS_SELECTOR, "input[autocomplete=current-password]").send_keys(factories.PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "input[autocomplete=one-time-code]").send_keys(
            factories.otp(world.officer_a))
        driver.find_element(By.XPATH, "//button[contains(., '登 录')]").click()
        _wait_for_text(driver, "在册概况", tmp_path / "server.log")

        _open(driver, f"{server}/subjects/{subject.id}")
        _wait_for_text(driver, "档案时间线", tmp_path / "server.log")
        buttons = driver.find_elements(By.XPATH, "//button[contains(., '重新生成')]")
        assert buttons, driver.find_element(By.TAG_NAME, "body").text[:2000]
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", buttons[0])
        buttons[0].click()
        _wait_for_text(driver, f"已按原文号 {doc['number']} 重新生成", tmp_path / "server.log", timeout=TIMEOUT)
        assert "文书已更新" in driver.find_element(By.TAG_NAME, "body").text
        driver.save_screenshot(str(SHOTS / "rerender.png"))
    except BaseException:
        driver.save_screenshot(str(SHOTS / "failure.png"))
        raise

    db.expire_all()
    stored = db.execute(select(Document).where(Document.id == doc["id"])).scalar_one()
    assert stored.number == doc["number"] and stored.sha256 == doc["sha256"]  # the PDF first made, again
    assert hashlib.sha256(stored.content).hexdigest() == doc["sha256"]
    event = db.execute(select(AuditEvent).where(AuditEvent.object_type == "documents",
                                                AuditEvent.object_id == str(doc["id"]),
                                                AuditEvent.action == "rerender")).scalar_one()
    assert event.changes["old_sha256"] == hashlib.sha256(broken).hexdigest()
    assert event.changes["new_sha256"] == doc["sha256"]
