"""A newcomer's tour of a running demo: log in as each demo role, open every page its menu offers
(and a case file, the phone page, the kiosk, /docs and an unknown URL), save a screenshot of each to
``artifacts/ui/tour/`` and list the pages that showed an error.

    make demo PORT=8080 &                     # in another terminal
    .venv/bin/python scripts/ui_tour.py --base http://127.0.0.1:8080

The screenshots are for a person to look at; the exit status is 1 when a page showed a server
error, an English NiceGUI error page or a console error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ui"))

from browser import chromium  # noqa: E402  (tests/ui/browser.py: the same driver the tests use)

PASSWORD = os.environ.get("ZHIJIAO_DEMO_PASSWORD", "Zhijiao@2026")
ROLES = ["bureau", "operator", "leader", "wenshao1", "sysadmin", "secadmin", "auditor", "kiosk1"]
NEEDS_OTP = {"sysadmin", "secadmin", "auditor"}
# What an error page or an unhandled failure shows; a page with one of these is reported.
ERROR_SIGNS = re.compile(r"Unable to render|Internal Server Error|Traceback|Not Found|Page not found|服务器内部错误|页面出错")


def otp(username: str) -> str:
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "zhijiao"), "users", "otp", "--username", username],
                         capture_output=True, text=True, env={**os.environ, "ZHIJIAO_DEMO_MODE": "true"}, check=False)
    codes = re.findall(r"\b\d{6}\b", out.stdout)
    return codes[-1] if codes else ""


def settle(driver, seconds: float = 2.5) -> None:
    """Let NiceGUI connect and the page's timers draw once."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if driver.execute_script("return document.readyState") == "complete":
                break
        except Exception:  # noqa: BLE001 - a page mid-navigation
            pass
        time.sleep(0.2)
    time.sleep(seconds)


def login(driver, base: str, username: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/login")
    settle(driver, 1.5)
    driver.find_element(By.CSS_SELECTOR, "input[autocomplete=username]").send_keys(username)
    driver.find_element(By.CSS_SELECTOR, "input[autocomplete=current-password]").send_keys(PASSWORD)
    if username in NEEDS_OTP:
        fields = driver.find_elements(By.CSS_SELECTOR, "input[autocomplete=one-time-code]")
        if fields:
            fields[0].send_keys(otp(username))
    driver.find_element(By.XPATH, "//button[contains(., '登 录') or contains(., '登录')]").click()
    settle(driver, 2.0)


def menu_paths(driver, base: str) -> list[str]:
    from selenium.webdriver.common.by import By

    paths = []
    for a in driver.find_elements(By.CSS_SELECTOR, ".q-drawer a[href]"):
        href = a.get_attribute("href") or ""
        if href.startswith(base):
            path = href[len(base):] or "/"
            if path not in paths and not path.startswith("/logout"):
                paths.append(path)
    return paths


def shoot(driver, out: Path, name: str, problems: list[dict]) -> None:
    from selenium.webdriver.common.by import By

    body = driver.find_element(By.TAG_NAME, "body").text
    console = [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"
               and not (name == "not_found" and "status of 404" in e["message"])]  # the 404 page's own status
    path = out / f"{name}.png"
    driver.save_screenshot(str(path))
    sign = ERROR_SIGNS.search(body)
    if sign or console:
        problems.append({"page": name, "url": driver.current_url, "sign": sign.group(0) if sign else None,
                         "console": console[:3]})


def links(driver, base: str, prefix: str) -> list[str]:
    from selenium.webdriver.common.by import By

    out: list[str] = []
    for a in driver.find_elements(By.CSS_SELECTOR, "a[href]"):
        href = (a.get_attribute("href") or "").removeprefix(base)
        if href.startswith(prefix) and href not in out:
            out.append(href)
    return out


def shoot_case_file(driver, base: str, out: Path, role: str, problems: list[dict]) -> None:
    from selenium.webdriver.common.by import By

    rows = driver.find_elements(By.CSS_SELECTOR, ".q-table tbody tr")
    if not rows:
        return
    rows[0].click()  # the list opens a file on a row click
    settle(driver, 3)
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1440, min(max(900, height + 40), 6000))
    time.sleep(1)
    shoot(driver, out, f"{role}_subject_detail", problems)
    driver.set_window_size(1440, 900)


def slug(path: str) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "_", path).strip("_") or "home"


def tour(base: str, out: Path, roles: list[str]) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    problems: list[dict] = []
    scratch = out / ".chromium"
    shutil.rmtree(scratch, ignore_errors=True)  # no session left over from an earlier tour
    with chromium(scratch) as driver:
        driver.get(f"{base}/login")
        settle(driver)
        shoot(driver, out, "login", problems)
        driver.get(f"{base}/no-such-page")
        settle(driver)
        shoot(driver, out, "not_found", problems)
        driver.get(f"{base}/docs")
        settle(driver, 4)
        shoot(driver, out, "docs", problems)
        driver.get(f"{base}/m/")
        settle(driver)
        shoot(driver, out, "phone", problems)
    for role in roles:
        with chromium(scratch / role) as driver:
            login(driver, base, role)
            paths = menu_paths(driver, base) or ["/"]
            for path in paths:
                driver.get(base + path)
                settle(driver)
                shoot(driver, out, f"{role}_{slug(path)}", problems)
                if path == "/subjects":  # and the first case file of the list, whole
                    shoot_case_file(driver, base, out, role, problems)
                if path == "/command":  # and the command center's other screens
                    for sub in links(driver, base, "/command/"):
                        driver.get(base + sub)
                        settle(driver, 3)
                        shoot(driver, out, f"{role}_{slug(sub)}", problems)
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8080", help="the running demo's address")
    parser.add_argument("--out", default=str(ROOT / "artifacts" / "ui" / "tour"), help="where the PNGs go")
    parser.add_argument("--roles", default=",".join(ROLES), help="comma-separated demo accounts")
    args = parser.parse_args()
    problems = tour(args.base.rstrip("/"), Path(args.out), [r for r in args.roles.split(",") if r])
    print(json.dumps({"screenshots": args.out, "problems": problems}, ensure_ascii=False, indent=1))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
