"""Headless chromium on a machine without any CJK system font (issue 19): the shipped web font
renders the Chinese of the login page and the phone page, /docs lists every operation of
/openapi.json (Swagger UI 5, shipped), and an unknown address shows a Chinese 404 page.
Screenshots in ``artifacts/ui/fonts/``.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.ui import browser
from tests.ui.browser import ARTIFACTS, TIMEOUT
from tests.ui.browser import open_page as _open
from tests.ui.browser import severe as _severe
from tests.ui.browser import wait_for_text as _wait_for_text

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "fonts"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

# Loaded web-font faces of a family, after the page's fonts have settled.
LOADED_FACES = """
const done = arguments[arguments.length - 1];
document.fonts.ready.then(() => {
  const faces = [...document.fonts].filter(f => f.family.replace(/"/g, '') === arguments[0]);
  done({loaded: faces.filter(f => f.status === 'loaded').length, total: faces.length,
        check: document.fonts.check('16px "' + arguments[0] + '"', arguments[1]),
        woff2: performance.getEntriesByType('resource').filter(e => e.name.endsWith('.woff2')).length});
});
"""


@pytest.fixture
def driver(tmp_path: Path):
    browser.require_chromium()
    with browser.chromium(tmp_path) as d:
        d.set_script_timeout(TIMEOUT)
        yield d


def _no_cjk_system_font() -> bool:
    import subprocess

    try:
        out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return True
    return not out.strip()


def test_login_and_phone_pages_render_chinese_with_the_shipped_web_font(server: str, driver, tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        _open(driver, f"{server}/login")
        _wait_for_text(driver, "登 录", tmp_path / "server.log")
        faces = driver.execute_async_script(LOADED_FACES, "Noto Sans SC", "社区矫正智慧管理平台")
        driver.save_screenshot(str(SHOTS / "login.png"))
        # The page's Chinese made the browser fetch and load slices of the shipped font.
        assert faces["total"] > 50 and faces["loaded"] >= 1 and faces["woff2"] >= 1, faces
        assert faces["check"], faces
        if _no_cjk_system_font():  # then the web font is what draws the Chinese
            family = driver.execute_script("return getComputedStyle(document.body).fontFamily")
            assert "Noto Sans SC" in family
        assert not _severe(driver)

        driver.get(f"{server}/m/")
        _wait_for_text(driver, "社区矫正", tmp_path / "server.log")
        faces = driver.execute_async_script(LOADED_FACES, "Noto Sans SC", "社区矫正")
        driver.save_screenshot(str(SHOTS / "phone.png"))
        assert faces["loaded"] >= 1, faces
    except BaseException:
        driver.save_screenshot(str(SHOTS / "failure.png"))
        raise


def test_web_font_is_cached_for_a_year_under_a_versioned_url(server: str) -> None:
    with urllib.request.urlopen(f"{server}/assets/fonts/fonts.css", timeout=30) as r:  # follows the redirect
        css_url, css = r.url, r.read().decode()
        assert "immutable" in r.headers["cache-control"]
    assert css_url != f"{server}/assets/fonts/fonts.css" and "font-family: 'Noto Sans SC'" in css
    first = css.split("url(", 1)[1].split(")", 1)[0]
    with urllib.request.urlopen(css_url.rsplit("/", 1)[0] + "/" + first, timeout=30) as r:
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert r.read(4) == b"wOF2"


def test_docs_list_every_operation_of_the_openapi_document(server: str, driver, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with urllib.request.urlopen(f"{server}/openapi.json", timeout=60) as r:
        spec = json.load(r)
    assert spec["openapi"].startswith("3.1")
    expected = sum(1 for item in spec["paths"].values() for method in item if method in HTTP_METHODS)
    assert expected > 50
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        driver.get(f"{server}/docs")
        wait = WebDriverWait(driver, TIMEOUT)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-tag") or d.find_elements(By.CSS_SELECTOR, ".errors-wrapper"))
        assert not driver.find_elements(By.CSS_SELECTOR, ".errors-wrapper"), \
            driver.find_element(By.CSS_SELECTOR, ".errors-wrapper").text
        # Tags start folded; open each in turn, as a reader would, count what it lists, fold it again.
        # (Swagger UI 5.36 stops drawing when every tag of this spec is open at once.)
        tags = len({o["tags"][0] for item in spec["paths"].values() for m, o in item.items() if m in HTTP_METHODS})
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock-tag")) == tags)
        listed = 0

        def toggle(i: int) -> None:
            driver.execute_script("document.querySelectorAll('.opblock-tag')[arguments[0]].click()", i)

        for i in range(tags):
            toggle(i)
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) > 0)
            time.sleep(0.3)  # the tag's operations are drawn together
            listed += len(driver.find_elements(By.CSS_SELECTOR, ".opblock"))
            if i == 0:
                faces = driver.execute_async_script(LOADED_FACES, "Noto Sans SC", "社区矫正")
            toggle(i)
            wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".opblock"))
        assert listed == expected
        assert "Unable to render" not in driver.find_element(By.TAG_NAME, "body").text
        assert faces["loaded"] >= 1, faces  # the summaries' Chinese uses the shipped web font
        driver.save_screenshot(str(SHOTS / "docs.png"))
        assert not _severe(driver)
    except BaseException:
        driver.save_screenshot(str(SHOTS / "failure.png"))
        raise


def test_unknown_address_shows_a_chinese_404_and_the_api_keeps_json(server: str, driver, tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.get(f"{server}/no/such/page")
    _wait_for_text(driver, "页面不存在", tmp_path / "server.log")
    body = driver.find_element("tag name", "body").text
    assert "返回首页" in body and "This page doesn't exist" not in body and "404" in body
    driver.execute_async_script(LOADED_FACES, "Noto Sans SC", "页面不存在")
    driver.save_screenshot(str(SHOTS / "not_found.png"))

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{server}/api/v1/no-such-thing", timeout=30)
    assert caught.value.code == 404
    assert caught.value.headers["content-type"].startswith("application/json")
    assert json.loads(caught.value.read()) == {"code": "not_found", "message": "请求的资源不存在", "fields": {}}
