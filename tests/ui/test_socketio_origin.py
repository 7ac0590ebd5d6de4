"""Issue 20 item 9: the UI's socket.io answers only this site's origin (NiceGUI's default is '*')."""

from __future__ import annotations

from nicegui.testing import User

POLL = "/_nicegui_ws/socket.io/?EIO=4&transport=polling"


async def test_socketio_refuses_a_foreign_origin(user: User, caplog) -> None:
    evil = await user.http_client.get(POLL, headers={"Origin": "http://evil.example"})
    assert evil.status_code == 400  # refused, and no Access-Control-Allow-Origin: no page elsewhere reads it
    assert "access-control-allow-origin" not in evil.headers
    assert any("not an accepted origin" in r.getMessage() for r in caplog.records)
    caplog.clear()  # engineio logs the refusal as an ERROR; here it is the expected outcome
    own = await user.http_client.get(POLL, headers={"Origin": "http://test"})
    assert own.status_code == 200, own.text
    assert own.headers.get("access-control-allow-origin") == "http://test"
