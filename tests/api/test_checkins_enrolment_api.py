"""签到身份 through the API: the quality gate, the identity state, the phone login's create /
reset / revoke, and who may do what (another office, a read-only role, a kiosk), on SQLite and
PostgreSQL."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import factories as f

skimage_data = pytest.importorskip("skimage.data")

HEAD = Image.fromarray(skimage_data.astronaut()[0:300, 50:350])


def _jpeg(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=92)
    return buf.getvalue()


@pytest.fixture
def world(client, db):
    office, other = f.office(db), f.office(db)
    officer = f.staff(db, "office_officer", office)
    subject = f.subject(db, office, status="under_correction")
    return {"subject": subject, "h": f.login(client, officer.username),
            "stranger": f.login(client, f.staff(db, "office_officer", other).username),
            "operator": f.login(client, f.staff(db, "operator").username),
            "kiosk": f.login(client, f.staff(db, "kiosk").username)}


def test_quality_gate_reports_reasons_in_chinese(client, world):
    sid = world["subject"].id
    url = f"/api/v1/subjects/{sid}/face/quality"
    ok = client.post(url, files={"image": ("a.jpg", _jpeg(HEAD), "image/jpeg")}, headers=world["h"])
    assert ok.status_code == 200 and ok.json()["passed"] is True and ok.json()["face_count"] == 1, ok.text
    empty = client.post(url, files={"image": ("b.jpg", _jpeg(Image.new("RGB", (400, 300), (120, 120, 120))),
                                              "image/jpeg")}, headers=world["h"])
    body = empty.json()
    assert body["passed"] is False and [i["code"] for i in body["issues"]] == ["no_face"]
    assert "未检测到人脸" in body["message"]
    small = client.post(url, files={"image": ("c.jpg", _jpeg(HEAD.resize((150, 150))), "image/jpeg")},
                        headers=world["h"]).json()
    assert "face_too_small" in [i["code"] for i in small["issues"]] and "人脸过小" in small["message"]
    gif = io.BytesIO()
    HEAD.save(gif, "GIF")
    refused = client.post(url, files={"image": ("d.gif", gif.getvalue(), "image/gif")}, headers=world["h"])
    assert refused.status_code == 422 and refused.json()["code"] == "unsupported_image_format"
    assert client.get(f"/api/v1/subjects/{sid}/identity", headers=world["h"]).json()["enrolments"] == []


def test_phone_login_create_reset_revoke(client, world):
    sid, number = world["subject"].id, world["subject"].id_number
    url = f"/api/v1/subjects/{sid}/phone-login"
    assert client.post(f"{url}/reset", headers=world["h"]).json()["code"] == "phone_login_missing"
    first = client.post(url, headers=world["h"])
    assert first.status_code == 201, first.text
    assert client.post(url, headers=world["h"]).status_code == 409  # already open: reset instead
    token = client.post("/api/v1/m/login", json={"id_number": number, "password": first.json()["password"]})
    phone = {"Authorization": f"Bearer {token.json()['access_token']}"}
    state = client.get(f"/api/v1/subjects/{sid}/identity", headers=world["h"]).json()["phone"]
    assert state["enabled"] is True and state["open_sessions"] == 1
    second = client.post(f"{url}/reset", headers=world["h"]).json()["password"]
    assert second != first.json()["password"]
    assert client.get("/api/v1/m/rollcalls/pending", headers=phone).status_code == 401
    token = client.post("/api/v1/m/login", json={"id_number": number, "password": second}).json()["access_token"]
    assert client.delete(url, headers=world["h"]).json() == {"sessions_ended": 1}
    assert client.get("/api/v1/m/rollcalls/pending", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.post("/api/v1/m/login", json={"id_number": number, "password": second}).status_code == 401
    assert client.get(f"/api/v1/subjects/{sid}/identity", headers=world["h"]).json()["phone"]["enabled"] is False
    assert client.delete(url, headers=world["h"]).status_code == 409


def test_scope_and_roles(client, world):
    sid = world["subject"].id
    image = {"image": ("a.jpg", _jpeg(HEAD), "image/jpeg")}
    for who, status in (("stranger", 404), ("operator", 403), ("kiosk", 403)):
        h = world[who]
        assert client.post(f"/api/v1/subjects/{sid}/phone-login", headers=h).status_code == status, who
        assert client.delete(f"/api/v1/subjects/{sid}/phone-login", headers=h).status_code == status, who
        assert client.post(f"/api/v1/subjects/{sid}/face/quality", files=image, headers=h).status_code == status
        assert client.post(f"/api/v1/subjects/{sid}/face", files=image, headers=h).status_code == status, who
    assert client.get(f"/api/v1/subjects/{sid}/identity", headers=world["stranger"]).status_code == 404
    assert client.get(f"/api/v1/subjects/{sid}/identity", headers=world["kiosk"]).status_code == 403
    assert client.get(f"/api/v1/subjects/{sid}/identity", headers=world["operator"]).status_code == 200


def test_reenrolment_keeps_history(client, world):
    sid = world["subject"].id
    for _ in range(2):
        r = client.post(f"/api/v1/subjects/{sid}/face", files={"image": ("a.jpg", _jpeg(HEAD), "image/jpeg")},
                        headers=world["h"])
        assert r.status_code == 201, r.text
    items = client.get(f"/api/v1/subjects/{sid}/identity", headers=world["h"]).json()["enrolments"]
    assert [(i["active"], i["source"]) for i in items] == [(True, "api"), (False, "api")]
