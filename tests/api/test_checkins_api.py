"""Face enrolment and check-in through the API with real images, on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFilter

import factories as f

skimage_data = pytest.importorskip("skimage.data")

HEAD = Image.fromarray(skimage_data.astronaut()[0:300, 50:350])
EYE_Y = 103


def jpeg(im: Image.Image, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def shear(im: Image.Image, s: float) -> Image.Image:
    return im.transform(im.size, Image.Transform.AFFINE, (1, s, -s * EYE_Y, 0, 1, 0),
                        resample=Image.Resampling.BICUBIC)


def other_person() -> bytes:
    """A real face from LFW (another person), upscaled enough to pass the quality gate."""
    grey = (skimage_data.lfw_subset()[7] * 255).astype(np.uint8)
    big = Image.fromarray(grey).resize((200, 200), Image.Resampling.LANCZOS).convert("RGB")
    out = Image.new("RGB", (360, 360), (128, 128, 128))
    out.paste(big, (80, 60))
    return jpeg(out, 95)


TURN = [jpeg(HEAD, 95), jpeg(HEAD, 90), jpeg(shear(HEAD, 0.12)), jpeg(shear(HEAD, 0.25)), jpeg(shear(HEAD, 0.12)),
        jpeg(HEAD, 85)]


@pytest.fixture
def world(client, db):
    office, other_office = f.office(db), f.office(db)
    officer = f.staff(db, "office_officer", office)
    subject = f.subject(db, office, status="under_correction")
    h = f.login(client, officer.username)
    r = client.post(f"/api/v1/subjects/{subject.id}/face", files={"image": ("a.jpg", jpeg(HEAD), "image/jpeg")},
                    headers=h)
    assert r.status_code == 201, r.text
    return {"office": office, "other_office": other_office, "officer": officer, "subject": subject, "h": h}


def _files(frames):
    return [("images", (f"{i}.jpg", b, "image/jpeg")) for i, b in enumerate(frames)]


def _only_turn_right(client, db) -> None:
    """The kiosk's server-chosen action, fixed to the one the test frames perform."""
    sysadmin = f.login(client, f.staff(db, "sysadmin").username)
    r = client.put("/api/v1/settings/rules.kiosk_challenges", json={"value": "turn_right"}, headers=sysadmin)
    assert r.status_code == 200, r.text


def _challenge(client, kiosk) -> str:
    r = client.post("/api/v1/checkins/challenges", headers=kiosk)
    assert r.status_code == 201, r.text
    assert r.json()["action"] == "turn_right" and "向右转头" in r.json()["prompt"]
    return r.json()["nonce"]


def test_kiosk_checkin_with_id_number_and_liveness(client, db, world):
    _only_turn_right(client, db)
    kiosk_account = f.staff(db, "kiosk")
    kiosk = f.login(client, kiosk_account.username)
    subject = world["subject"]
    r = client.post("/api/v1/checkins", headers=kiosk, files=_files(TURN),
                    data={"source": "kiosk", "id_number": subject.id_number, "nonce": _challenge(client, kiosk),
                          "challenge": "nod"})  # the client's claim is ignored: the server's action counts
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["matched"] is True and body["liveness"] is True and body["score"] >= 0.5
    # right after it, the kiosk shows that person (and only them) their duties and the courses
    w = client.get(f"/api/v1/checkins/{body['id']}/welcome", headers=kiosk)
    assert w.status_code == 200 and w.json()["courses"] and w.json()["name"] == subject.name
    assert client.get(f"/api/v1/checkins/{body['id']}/welcome", headers=world["h"]).status_code == 403
    # a still photo held to the camera: identical frames fail liveness
    still = [jpeg(HEAD)] * 6
    r = client.post("/api/v1/checkins", headers=kiosk, files=_files(still),
                    data={"source": "kiosk", "id_number": subject.id_number, "nonce": _challenge(client, kiosk)})
    assert r.json()["matched"] is False and r.json()["liveness"] is False and r.json()["code"] == "liveness_failed"
    # the kiosk account reads no case file
    assert client.get(f"/api/v1/subjects/{subject.id}", headers=kiosk).status_code == 403
    # both attempts are kept
    rows = client.get(f"/api/v1/subjects/{subject.id}/checkins", headers=world["h"]).json()
    assert [c["matched"] for c in rows] == [False, True]
    assert (rows[1]["challenge"], rows[1]["kiosk_id"]) == ("turn_right", kiosk_account.username)


def test_kiosk_challenges_are_single_use_short_lived_and_per_kiosk(client, db, world):
    from datetime import timedelta

    from zhijiao.core import clock

    _only_turn_right(client, db)
    kiosk, other = (f.login(client, f.staff(db, "kiosk").username) for _ in range(2))
    number = world["subject"].id_number

    def post(headers, nonce):
        return client.post("/api/v1/checkins", headers=headers, files=_files(TURN),
                           data={"source": "kiosk", "id_number": number, **({"nonce": nonce} if nonce else {})})

    assert post(kiosk, None).json()["code"] == "challenge_invalid"  # none: refused
    assert post(kiosk, "0" * 32).status_code == 409  # unknown
    nonce = _challenge(client, kiosk)
    r = post(other, nonce)
    assert r.status_code == 409 and r.json()["code"] == "challenge_invalid"  # another kiosk's
    assert post(kiosk, nonce).json()["matched"] is True
    r = post(kiosk, nonce)
    assert r.status_code == 409 and "重新开始" in r.json()["message"]  # used once already
    late = _challenge(client, kiosk)
    with clock.frozen(clock.now() + timedelta(seconds=91)):
        assert post(kiosk, late).status_code == 409  # expired
    # an officer cannot take a kiosk challenge; a kiosk cannot check in as a phone
    assert client.post("/api/v1/checkins/challenges", headers=world["h"]).status_code == 403
    r = client.post("/api/v1/checkins", headers=kiosk, files=_files(TURN),
                    data={"source": "phone", "id_number": number, "nonce": _challenge(client, kiosk)})
    assert r.status_code == 422 and r.json()["code"] == "bad_source"


def test_different_person_does_not_match(client, world):
    r = client.post("/api/v1/checkins", headers=world["h"], files=_files([other_person()]),
                    data={"source": "kiosk", "subject_id": world["subject"].id})
    assert r.status_code == 201
    assert r.json()["matched"] is False and r.json()["code"] == "face_mismatch"


@pytest.mark.parametrize("image,code,status", [
    (jpeg(Image.new("RGB", (400, 300), (120, 130, 140))), "no_face", 422),
    (jpeg(HEAD.filter(ImageFilter.GaussianBlur(2))), "too_blurry", 422),
    (jpeg(HEAD.resize((200, 200))), "face_too_small", 422),
    (b"GIF89a" + b"\0" * 100, "not_an_image", 422),
    (b"\xff\xd8\xff\xe0" + b"<script>alert(1)</script>" * 10, "not_an_image", 422),  # disguised as JPEG
])
def test_enrolment_quality_gate(client, world, image, code, status):
    r = client.post(f"/api/v1/subjects/{world['subject'].id}/face", files={"image": ("x.jpg", image, "image/jpeg")},
                    headers=world["h"])
    assert r.status_code == status and r.json()["code"] == code, r.text


def test_oversized_upload_is_413(client, world):
    from zhijiao.config import get_settings

    big = b"\xff\xd8\xff\xe0" + b"\0" * (get_settings().max_upload_bytes + 10)
    r = client.post(f"/api/v1/subjects/{world['subject'].id}/face", files={"image": ("x.jpg", big, "image/jpeg")},
                    headers=world["h"])
    assert r.status_code == 413 and r.json()["code"] == "image_too_large"


def test_biometrics_scoped_and_audited(client, db, world):
    sid = world["subject"].id
    r = client.get(f"/api/v1/subjects/{sid}/face", headers=world["h"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg" and r.content[:2] == b"\xff\xd8"
    other = f.login(client, f.staff(db, "office_officer", world["other_office"]).username)
    assert client.get(f"/api/v1/subjects/{sid}/face", headers=other).status_code == 404
    r = client.post(f"/api/v1/subjects/{sid}/face", files={"image": ("a.jpg", jpeg(HEAD), "image/jpeg")}, headers=other)
    assert r.status_code == 404
    auditor = f.login(client, f.staff(db, "auditor").username)
    reads = client.get("/api/v1/audit-events", params={"action": "view_biometric"}, headers=auditor).json()
    assert reads["total"] == 1


def test_missed_checkin_raises_alarm(db, world):
    from datetime import timedelta

    from zhijiao.checkins import service
    from zhijiao.core import clock
    from zhijiao.monitoring.models import Alarm
    from zhijiao.security.actor import Actor

    s = world["subject"]
    s.correction_start_date = clock.today_local() - timedelta(days=40)
    s.supervision_level = "strict"
    db.commit()
    db.info["actor"] = Actor.system("test")
    assert service.scan_missed_checkins(db_session=db) == [s.id]
    alarm = db.query(Alarm).one()
    assert alarm.type == "missed_checkin"


def test_rollcall_answered_and_missed(client, db, world):
    from datetime import timedelta

    from zhijiao.checkins import service
    from zhijiao.core import clock, events
    from zhijiao.monitoring.models import Alarm
    from zhijiao.security.actor import Actor

    seen = []
    off = events.on("rollcalls", seen.append)
    op = f.login(client, f.staff(db, "operator").username)
    sid = world["subject"].id
    calls = client.post("/api/v1/rollcalls", json={"subject_ids": [sid], "minutes": 10}, headers=op).json()
    assert calls[0]["status"] == "pending"
    r = client.post(f"/api/v1/rollcalls/{calls[0]['id']}/answer", headers=world["h"], files=_files(TURN),
                    data={"challenge": "turn_right", "lat": "36.82", "lon": "118.31"})
    assert r.status_code == 200 and r.json()["status"] == "answered_matched", r.text
    again = client.post(f"/api/v1/rollcalls/{calls[0]['id']}/answer", headers=world["h"], files=_files(TURN),
                        data={"challenge": "turn_right"})
    assert again.status_code == 409
    second = client.post("/api/v1/rollcalls", json={"sample": 1}, headers=op).json()[0]
    db.info["actor"] = Actor.system("test")
    assert service.expire_rollcalls(db_session=db, now=clock.now() + timedelta(minutes=11)) == [second["id"]]
    assert [a.type for a in db.query(Alarm).all()] == ["missed_rollcall"]
    assert [e["change"] for e in seen] == ["called", "answered_matched", "called", "no_answer"]
    off()


def test_phone_page_login_checkin_and_rollcall(client, db, world):
    sid = world["subject"].id
    number = world["subject"].id_number
    assert client.get("/m/").status_code == 200 and "身份证号码" in client.get("/m/").text
    r = client.post(f"/api/v1/subjects/{sid}/phone-password", json={"password": "weak"}, headers=world["h"])
    assert r.status_code == 422
    assert client.post(f"/api/v1/subjects/{sid}/phone-password", json={"password": "Phone#2026"},
                       headers=world["h"]).status_code == 204
    bad = client.post("/api/v1/m/login", json={"id_number": number, "password": "Wrong#2026"})
    unknown = client.post("/api/v1/m/login", json={"id_number": "110101199003071234", "password": "Wrong#2026"})
    assert bad.status_code == unknown.status_code == 401 and bad.json() == unknown.json()
    token = client.post("/api/v1/m/login", json={"id_number": number, "password": "Phone#2026"}).json()["access_token"]
    hs = {"Authorization": f"Bearer {token}"}
    # a subject token opens nothing of the staff API
    assert client.get("/api/v1/subjects", headers=hs).status_code == 401
    r = client.post("/api/v1/m/checkins", headers=hs, files=_files(TURN),
                    data={"challenge": "turn_right", "lat": "36.82", "lon": "118.31", "mirrored": "false"})
    assert r.status_code == 201 and r.json()["matched"] is True, r.text
    op = f.login(client, f.staff(db, "operator").username)
    call = client.post("/api/v1/rollcalls", json={"subject_ids": [sid]}, headers=op).json()[0]
    pending = client.get("/api/v1/m/rollcalls/pending", headers=hs).json()
    assert [p["id"] for p in pending] == [call["id"]]
    r = client.post(f"/api/v1/m/rollcalls/{call['id']}/answer", headers=hs, files=_files(TURN),
                    data={"challenge": "turn_right", "mirrored": "false"})
    assert r.json()["status"] == "answered_matched"
