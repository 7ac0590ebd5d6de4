"""The screens' error pages in Chinese (issue 19): 404 for an unknown address, 500 for a failing
page (the exception goes to the log, never to the browser); /api/... keeps JSON errors."""

from __future__ import annotations

import logging

import pytest
from nicegui import ui
from nicegui.testing import User


async def test_unknown_screen_address_is_a_chinese_404(user: User) -> None:
    r = await user.http_client.get("/no/such/screen")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "页面不存在" in r.text and "返回首页" in r.text and "This page doesn't exist" not in r.text
    assert "/assets/fonts/" in r.text  # the web font: readable on a machine without CJK fonts


async def test_unknown_api_address_keeps_a_json_404(user: User) -> None:
    r = await user.http_client.get("/api/v1/no-such-thing")
    assert r.status_code == 404
    assert r.json() == {"code": "not_found", "message": "请求的资源不存在", "fields": {}}


async def test_a_failing_screen_shows_a_chinese_500_without_the_exception(
        user: User, caplog: pytest.LogCaptureFixture) -> None:
    @ui.page("/zz-test-failing-page")
    def failing() -> None:
        raise RuntimeError("secret internals 370305199001011234")

    with caplog.at_level(logging.ERROR, logger="zhijiao.ui.error_pages"):
        r = await user.http_client.get("/zz-test-failing-page")
    assert r.status_code == 500
    assert "系统出错了" in r.text and "370305199001011234" not in r.text and "RuntimeError" not in r.text
    assert any("zz-test-failing-page" in rec.getMessage() for rec in caplog.records)  # logged for the admin
    caplog.clear()  # the expected ERROR log is not a failure of the test
