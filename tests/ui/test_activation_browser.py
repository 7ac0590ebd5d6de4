"""三员 through the screens (issue 20 item 1): the system administrator creates an account and sees
only its activation code; the new person activates it at /activate (own password, own one-time
code); the security administrator grants the role, and a change to an administrator role waits
for another administrator; the new person logs in."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
from sqlalchemy import select

from tests import factories
from tests.ui.browser import ARTIFACTS, TIMEOUT
from tests.ui.browser import open_page as _open
from tests.ui.browser import severe as _severe
from tests.ui.browser import wait_for_text as _wait_for_text
from tests.ui.conftest import _FAST_HASH, BOTH_BACKENDS, World
from tests.ui.test_zones_admin_browser import _button, _choose, _field, _login, driver  # noqa: F401 - fixture
from zhijiao.org.models import RoleChange, Staff
from zhijiao.security.actor import Actor

SHOTS = ARTIFACTS / "secsod"


def _row_button(driver, username: str, text: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    xpath = f"//tr[.//td[normalize-space()='{username}']]//button[contains(., '{text}')]"
    return WebDriverWait(driver, TIMEOUT).until(lambda d: next(
        (b for b in d.find_elements(By.XPATH, xpath) if b.is_displayed()), None))


def _click(driver, find) -> None:
    """Click what ``find(driver)`` returns, again while a notification or a closing dialog covers it."""
    from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, TIMEOUT, ignored_exceptions=(ElementClickInterceptedException,
                                                       StaleElementReferenceException)).until(
        lambda d: find(d).click() or True)


def _next_step() -> None:
    """A one-time code is used once: wait for the next 30-second step."""
    time.sleep(30 - time.time() % 30 + 1)


@BOTH_BACKENDS
def test_create_activate_grant_login(server: str, driver, world: World, db, tmp_path: Path) -> None:  # noqa: F811
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    db.info["actor"] = Actor.system("tests")
    secadmin = factories.staff(db, "secadmin", display_name="钱安全")
    secadmin.password_hash = _FAST_HASH
    db.commit()
    server_log = tmp_path / "server.log"
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        # 1. the system administrator creates the account: an activation code, nothing else
        _login(driver, server, world.sysadmin, factories.PASSWORD, factories.otp(world.sysadmin), server_log,
               "账号管理")
        _open(driver, f"{server}/admin/staff")
        _wait_for_text(driver, "共 6 个账号", server_log)
        assert "授予角色" not in driver.find_element(By.TAG_NAME, "body").text  # the security admin's duty
        _click(driver, lambda d: _button(d, "新建账号"))
        _field(driver, "姓名").find_element(By.TAG_NAME, "input").send_keys("周新人")
        _field(driver, "用户名（登录名，字母、数字或 _ . -）").find_element(By.TAG_NAME, "input").send_keys("zhouxr")
        _choose(driver, "所属单位", "闻韶司法所")
        _click(driver, lambda d: _button(d, "创建"))
        _wait_for_text(driver, "激活码只显示这一次", server_log)
        values = WebDriverWait(driver, TIMEOUT, ignored_exceptions=(StaleElementReferenceException,)).until(
            lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, ".q-dialog .zj-kv .v")] or None)
        assert values[0] == "zhouxr" and len(values[1]) == 19
        code = values[1]
        driver.save_screenshot(str(SHOTS / "staff-activation-code.png"))
        _click(driver, lambda d: _button(d, "我已记录，关闭"))
        _wait_for_text(driver, "待激活", server_log)
        driver.save_screenshot(str(SHOTS / "staff-sysadmin.png"))
        errors = _severe(driver)

        # 2. the new person activates the account: own password, own one-time code
        driver.delete_all_cookies()
        _open(driver, f"{server}/activate")
        _wait_for_text(driver, "账号激活", server_log)
        _field(driver, "激活码").find_element(By.TAG_NAME, "input").send_keys(code)
        _click(driver, lambda d: _button(d, "下一步"))
        _wait_for_text(driver, "周新人（用户名 zhouxr）", server_log)
        secret = driver.find_element(By.CSS_SELECTOR, ".font-mono.whitespace-nowrap").text.replace(" ", "")
        assert len(secret) == 32 and "otpauth://totp/" in driver.find_element(By.TAG_NAME, "body").text
        _field(driver, "新密码").find_element(By.TAG_NAME, "input").send_keys("Zhou@Xr-2026q")
        _field(driver, "再次输入新密码").find_element(By.TAG_NAME, "input").send_keys("Zhou@Xr-2026q")
        _field(driver, "动态口令（6 位数字）").find_element(By.TAG_NAME, "input").send_keys(pyotp.TOTP(secret).now())
        driver.save_screenshot(str(SHOTS / "activate-form.png"))
        _click(driver, lambda d: _button(d, "激 活"))
        _wait_for_text(driver, "账号已激活", server_log)
        driver.save_screenshot(str(SHOTS / "activate-done.png"))
        errors += _severe(driver)

        # 3. the security administrator grants the role; a change to an administrator role waits
        driver.delete_all_cookies()
        _login(driver, server, secadmin.username, factories.PASSWORD, factories.otp(secadmin.username), server_log,
               "账号管理")
        _open(driver, f"{server}/admin/staff")
        _wait_for_text(driver, "待批准的角色变更", server_log)
        assert "新建账号" not in driver.find_element(By.TAG_NAME, "body").text  # the system admin's duty
        _click(driver, lambda d: _row_button(d, "zhouxr", "授予角色"))
        _choose(driver, "新角色", "司法所工作人员")
        _choose(driver, "所属单位", "闻韶司法所")
        _click(driver, lambda d: _button(d, "确定"))
        _wait_for_text(driver, "已授予 周新人", server_log)
        _click(driver, lambda d: _row_button(d, world.bureau, "授予角色"))
        _choose(driver, "新角色", "安全管理员")
        _click(driver, lambda d: _button(d, "确定"))
        _wait_for_text(driver, "待另一名管理员批准后生效", server_log)
        _wait_for_text(driver, "须由另一名管理员批准", server_log)
        driver.save_screenshot(str(SHOTS / "staff-secadmin-pending.png"))
        db.expire_all()
        assert db.execute(select(Staff.role).where(Staff.username == "zhouxr")).scalar_one() == "office_officer"
        assert db.execute(select(Staff.role).where(Staff.username == world.bureau)).scalar_one() == "bureau_officer"
        errors += _severe(driver)

        # 4. the new person logs in and works
        _next_step()
        driver.delete_all_cookies()
        _login(driver, server, "zhouxr", "Zhou@Xr-2026q", pyotp.TOTP(secret).now(), server_log, "在册概况")
        assert "周新人" in driver.find_element(By.TAG_NAME, "header").text

        # 5. the other administrator approves the pending change
        driver.delete_all_cookies()
        _login(driver, server, world.sysadmin, factories.PASSWORD, factories.otp(world.sysadmin), server_log,
               "账号管理")
        _open(driver, f"{server}/admin/staff")
        _wait_for_text(driver, "待批准的角色变更", server_log)
        _click(driver, lambda d: _button(d, "批准"))
        _click(driver, lambda d: _button(d, "确定"))
        _wait_for_text(driver, "已批准", server_log)
        _wait_for_text(driver, "没有待批准的角色变更", server_log)
        driver.save_screenshot(str(SHOTS / "staff-approved.png"))
        db.expire_all()
        assert db.execute(select(Staff.role).where(Staff.username == world.bureau)).scalar_one() == "secadmin"
        change = db.execute(select(RoleChange)).scalar_one()
        assert (change.requested_by, change.decided_by, change.status) == (secadmin.username, world.sysadmin,
                                                                             "approved")
        errors += _severe(driver)
    except BaseException:
        driver.save_screenshot(str(SHOTS / "failure.png"))
        raise
    assert not errors, f"JavaScript console errors: {errors}"
