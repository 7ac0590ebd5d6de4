"""Counts agree between the home page, the subjects list and ``/command`` for every role, in chromium,
on SQLite and PostgreSQL (issue 19: one definition of each count, subjects/counts.py). A minor's file
is open to its responsible officer only: the others see it counted apart, in a visible note.

Leaves screenshots in ``artifacts/ui/counts/``. Skipped without chromium, except in CI.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from tests import factories
from tests.ui import browser
from tests.ui.browser import ARTIFACTS, TIMEOUT
from tests.ui.conftest import _FAST_HASH, BOTH_BACKENDS
from zhijiao.core import clock

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "counts"
HOME_LABELS = {"在册社区矫正对象": "registered", "待接收": "pending_reception", "已报到": "reported",
               "在矫": "under_correction", "解除矫正": "released", "终止矫正": "terminated", "严管": "strict",
               "普管": "ordinary", "宽管": "lenient"}
# what each role must see: the numbers of the home page, and the note's count of minors left out
EXPECTED = {
    "bureau": ({"registered": 9, "under_correction": 6, "strict": 2, "pending_reception": 2, "released": 1}, 2),
    "operator": ({"registered": 9, "under_correction": 6, "strict": 2, "pending_reception": 2, "released": 1}, 2),
    "leader": ({"registered": 9, "under_correction": 6, "strict": 2, "pending_reception": 2, "released": 1}, 2),
    "assigned": ({"registered": 8, "under_correction": 4, "strict": 2, "pending_reception": 3, "released": 0}, 0),
    "colleague": ({"registered": 6, "under_correction": 3, "strict": 1, "pending_reception": 2, "released": 0}, 2),
}


@pytest.fixture
def world(db) -> dict[str, str]:
    """Two offices; three minors of office A assigned to one officer (one of them released, so sealed)."""
    a, b = factories.office(db, name="闻韶司法所"), factories.office(db, name="雪宫司法所")
    people = {
        "bureau": factories.staff(db, "bureau_officer", display_name="赵区局"),
        "operator": factories.staff(db, "operator", display_name="高值班"),
        "leader": factories.staff(db, "leader", display_name="孙局长"),
        "assigned": factories.staff(db, "office_officer", a, display_name="王所员"),
        "colleague": factories.staff(db, "office_officer", a, display_name="陈所员"),
    }
    today = clock.today_local()
    factories.subject(db, a, name="张一", judgment_effective_date=today - timedelta(days=20))
    factories.subject(db, a, name="张二")
    factories.subject(db, a, name="张三", status="reported")
    for n, level in enumerate(("strict", "ordinary", "lenient")):
        factories.subject(db, a, name=f"李{n}", status="under_correction", supervision_level=level)
        factories.subject(db, b, name=f"钱{n}", status="under_correction", supervision_level=level)
    factories.subject(db, b, name="孙七", status="released")
    assigned = people["assigned"].id
    factories.subject(db, a, name="赵小明", is_minor=True, responsible_staff_id=assigned, status="under_correction",
                      supervision_level="strict")
    factories.subject(db, a, name="赵小红", is_minor=True, responsible_staff_id=assigned)
    factories.subject(db, a, name="赵小刚", is_minor=True, responsible_staff_id=assigned, status="released")
    for member in people.values():
        member.password_hash = _FAST_HASH
    db.commit()
    return {role: s.username for role, s in people.items()}


@pytest.fixture
def driver(tmp_path: Path):
    browser.require_chromium()
    with browser.chromium(tmp_path, window=(1440, 900)) as d:
        yield d


def _login(driver, server: str, username: str, server_log: Path) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    browser.open_page(driver, f"{server}/login")
    driver.find_element(By.CSS_SELECTOR, "input[autocomplete=username]").send_keys(username)
    driver.find_element(By.CSS_SELECTOR, "input[autocomplete=current-password]").send_keys(factories.PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "input[autocomplete=one-time-code]").send_keys(factories.otp(username))
    driver.find_element(By.XPATH, "//button[contains(., '登 录')]").click()
    browser.wait_for_text(driver, "退出", server_log)


def _home(driver) -> dict[str, int]:
    pairs = driver.execute_script(
        "return Array.from(document.querySelectorAll('.zj-stat')).map("
        "c => [c.querySelector('.t').innerText, c.querySelector('.n').innerText])")
    return {HOME_LABELS[t]: int(n) for t, n in pairs if t in HOME_LABELS}


def _note(driver) -> int:
    """The number of minors' files the note says are left out (0 without a note)."""
    m = re.search(r"另有 (\d+) 名未成年人档案仅责任人可见", driver.find_element("tag name", "body").text)
    return int(m.group(1)) if m else 0


def _list_total(driver, server: str, query: str, server_log: Path) -> int:
    browser.open_page(driver, f"{server}/subjects{query}")
    browser.wait_for_text(driver, "共 ", server_log)
    (total,) = re.findall(r"共 (\d+) 人", driver.find_element("tag name", "body").text)
    return int(total)


@BOTH_BACKENDS
def test_counts_agree_on_every_screen_for_every_role(server: str, driver, world, tmp_path: Path, backend) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    server_log = tmp_path / "server.log"
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    for role, (expected, hidden) in EXPECTED.items():
        _login(driver, server, world[role], server_log)
        browser.open_page(driver, f"{server}/")
        browser.wait_for_text(driver, "在册概况", server_log)
        home = _home(driver)
        assert {k: home[k] for k in expected} == expected, role
        assert home["registered"] == home["pending_reception"] + home["reported"] + home["under_correction"]
        assert home["under_correction"] == home["strict"] + home["ordinary"] + home["lenient"]
        assert _note(driver) == hidden, role
        if backend == "sqlite" and role in ("bureau", "assigned"):
            driver.save_screenshot(str(SHOTS / f"home-{role}.png"))

        everything = _list_total(driver, server, "", server_log)
        assert everything == sum(home[s] for s in ("pending_reception", "reported", "under_correction",
                                                    "released", "terminated")), role
        assert _note(driver) == hidden, role
        if backend == "sqlite" and role == "bureau":
            driver.save_screenshot(str(SHOTS / "subjects-bureau.png"))
        for status in ("pending_reception", "under_correction"):
            assert _list_total(driver, server, f"?status={status}", server_log) == home[status], (role, status)
        assert _list_total(driver, server, "?status=under_correction&supervision_level=strict",
                           server_log) == home["strict"], role

        browser.open_page(driver, f"{server}/command")
        WebDriverWait(driver, TIMEOUT).until(lambda d: d.execute_script(
            "const n = document.querySelector('.cc-num'); return n && /\\d/.test(n.innerText)"))
        tiles = dict(driver.execute_script(
            "return Array.from(document.querySelectorAll('.cc-tile')).map("
            "t => [t.querySelector('.cc-tile-label').innerText, t.querySelector('.cc-num').innerText])"))
        assert int(tiles["在册"]) == home["registered"], role
        assert int(tiles["在矫"]) == home["under_correction"], role
        pending, reported = (int(x) for x in re.findall(r"\d+", tiles["待接收/报到"]))
        assert (pending, reported) == (home["pending_reception"], home["reported"]), role
        assert _note(driver) == hidden, role
        if backend == "sqlite" and role == "operator":
            driver.save_screenshot(str(SHOTS / "command-operator.png"))
        errors += browser.severe(driver)
    assert not errors, f"JavaScript console errors: {errors}"
