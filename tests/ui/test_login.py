"""Login, logout and the server-side session limits, through the screens."""

from __future__ import annotations

import factories

from datetime import timedelta

from nicegui.testing import User

from tests.ui.conftest import World, login, wait_for_path
from zhijiao.core import clock


async def test_wrong_password_shows_the_chinese_error(user: User, world: World) -> None:
    await login(user, world.officer_a, "wrong-password", expect=None)
    await user.should_see("用户名、密码或动态口令错误", retries=40)
    await user.should_see(marker="login-submit")


async def test_right_password_lands_on_the_dashboard(user: User, world: World) -> None:
    await login(user, world.officer_a)
    await user.should_see("在册概况（闻韶司法所）")
    await user.should_see("王所员")
    await user.should_see("司法所工作人员")
    await user.should_see(marker="nav-/")
    await user.should_not_see(marker="nav-/audit")


async def test_protected_pages_send_strangers_to_login(user: User, world: World) -> None:
    await user.open("/")
    await user.should_see(marker="login-submit")
    await user.should_not_see("在册概况")


async def test_logout_revokes_the_session(user: User, world: World) -> None:
    await login(user, world.officer_a)
    user.find("退出登录").click()
    await wait_for_path(user, "/login")
    await user.open("/")
    await user.should_see(marker="login-submit")


async def test_idle_session_is_refused_on_the_server(user: User, world: World) -> None:
    with clock.frozen(clock.now()) as frozen:
        await login(user, world.officer_a)
        frozen.tick(timedelta(minutes=11))
        await user.open("/")
        await user.should_see("长时间未操作，会话已超时，请重新登录")
        await user.should_not_see("在册概况")


async def test_login_returns_to_the_page_asked_for(user: User, world: World) -> None:
    await user.open(f"/subjects/{world.subject_id}")
    user.find(marker="login-username").type(world.officer_a)
    user.find(marker="login-password").type("Zhijiao@2026")
    user.find(marker="login-otp").type(factories.otp(world.officer_a))
    user.find(marker="login-submit").click()
    await user.should_see(marker="subject-name", retries=40)
    assert user.back_history[-1] == f"/subjects/{world.subject_id}"



async def test_an_action_after_the_idle_limit_goes_back_to_login(user: User, world: World) -> None:
    with clock.frozen(clock.now()) as frozen:
        await login(user, world.officer_a)
        await user.open("/subjects")
        frozen.tick(timedelta(minutes=11))
        user.find(marker="subjects-table").trigger("request", {"pagination": {"page": 1, "rowsPerPage": 10}})
        await user.should_see("长时间未操作，会话已超时，请重新登录", retries=20)
        assert user.back_history[-1] == "/login?next=/subjects"


async def test_a_restricted_session_is_sent_back_to_login_with_its_reason(user: User, db, world: World) -> None:
    # An administrator without a second factor may only enrol one (GB/T 22239 双因素): the screens,
    # the command center's included, send such a session to the login page instead of failing.
    factories.staff(db, "sysadmin", username="newadmin", totp_secret=None)
    await login(user, "newadmin", expect=None)
    await user.should_see("首次登录须先绑定动态口令（双因素认证）", retries=40)
    await user.open("/command")
    await user.should_see(marker="login-submit")
