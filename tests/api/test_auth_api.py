"""Authentication (GB/T 22239 身份鉴别): second factor, lockout, timeouts, immediate revocation."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

import factories as f
from zhijiao.core import clock


def _token(client, username, password=f.PASSWORD, otp=None):
    data = {"username": username, "password": password}
    if otp is not None:
        data["otp"] = otp
    return client.post("/api/v1/auth/token", data=data)


def test_login_needs_password_and_totp(client, db):
    s = f.staff(db, "bureau_officer")
    assert _token(client, s.username).status_code == 401
    assert _token(client, s.username, otp="000000").status_code == 401
    r = _token(client, s.username, otp=f.otp(s.username))
    assert r.status_code == 200 and r.json()["restriction"] is None
    assert len(r.json()["access_token"]) >= 43  # 256 random bits, url-safe


def test_totp_code_cannot_be_replayed(client, db):
    s = f.staff(db, "office_officer", f.office(db))
    code = f.otp(s.username)
    assert _token(client, s.username, otp=code).status_code == 200
    r = _token(client, s.username, otp=code)
    assert r.status_code == 401 and r.json()["code"] == "login_failed"


def test_unknown_and_known_users_fail_alike(client, db):
    s = f.staff(db, "bureau_officer")
    a = _token(client, s.username, password="Wrong#123", otp=f.otp(s.username))
    b = _token(client, "nobody-here", password="Wrong#123", otp="123456")
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_lockout_after_five_failures_and_expiry(client, db):
    s = f.staff(db, "bureau_officer")
    with clock.frozen(clock.now()) as frozen:
        for _ in range(5):
            assert _token(client, s.username, password="Wrong#123").status_code == 401
        # Locked: even the right password fails, with the same answer.
        r = _token(client, s.username, otp=f.otp(s.username))
        assert r.status_code == 401 and r.json()["code"] == "login_failed"
        frozen.tick(timedelta(minutes=31))
        assert _token(client, s.username, otp=f.otp(s.username)).status_code == 200


def test_per_address_limit(client, db):
    from zhijiao.security.auth import PER_IP_FAILURES

    for i in range(PER_IP_FAILURES):
        _token(client, f"ghost{i}", password="x")
    s = f.staff(db, "bureau_officer")
    r = _token(client, s.username, otp=f.otp(s.username))
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts"


def test_idle_and_absolute_timeouts(client, db):
    s = f.staff(db, "bureau_officer")
    start = clock.now()
    with clock.frozen(start) as frozen:
        h = {"Authorization": f"Bearer {_token(client, s.username, otp=f.otp(s.username)).json()['access_token']}"}
        frozen.tick(timedelta(minutes=9))
        assert client.get("/api/v1/me", headers=h).status_code == 200
        frozen.tick(timedelta(minutes=11))
        r = client.get("/api/v1/me", headers=h)
        assert r.status_code == 401 and r.json()["code"] == "session_idle"
    with clock.frozen(start + timedelta(hours=1)) as frozen:
        h = {"Authorization": f"Bearer {_token(client, s.username, otp=f.otp(s.username)).json()['access_token']}"}
        for _ in range(12 * 7):  # active every 9 minutes for over 12 hours
            frozen.tick(timedelta(minutes=9))
            r = client.get("/api/v1/me", headers=h)
            if r.status_code != 200:
                break
        assert r.status_code == 401 and r.json()["code"] == "session_expired"


def test_disabling_account_and_logout_take_effect_immediately(client, db):
    s = f.staff(db, "bureau_officer")
    h = f.login(client, s.username)
    assert client.get("/api/v1/me", headers=h).status_code == 200
    s.active = False
    db.commit()
    assert client.get("/api/v1/me", headers=h).status_code == 401
    s.active = True
    db.commit()
    assert client.get("/api/v1/me", headers=h).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=h).status_code == 204
    assert client.get("/api/v1/me", headers=h).status_code == 401


def test_role_change_takes_effect_on_next_request(client, db):
    o = f.office(db)
    s = f.staff(db, "bureau_officer")
    f.subject(db, o)
    h = f.login(client, s.username)
    assert client.get("/api/v1/subjects", headers=h).status_code == 200
    s.role = "auditor"
    db.commit()
    assert client.get("/api/v1/subjects", headers=h).status_code == 403


def test_first_login_enrols_second_factor(client, db):
    s = f.staff(db, "auditor", totp_secret=None)
    r = _token(client, s.username)
    assert r.status_code == 200 and r.json()["restriction"] == "totp_enrolment"
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    r = client.get("/api/v1/audit-events", headers=h)
    assert r.status_code == 403 and r.json()["code"] == "totp_enrolment"
    enrol = client.post("/api/v1/auth/totp/enrol", headers=h).json()
    assert enrol["otpauth_uri"].startswith("otpauth://totp/")
    bad = client.post("/api/v1/auth/totp/confirm", json={"code": "000000"}, headers=h)
    assert bad.status_code == 422
    code = pyotp.TOTP(enrol["secret"]).at(clock.now())
    assert client.post("/api/v1/auth/totp/confirm", json={"code": code}, headers=h).status_code == 204
    assert client.get("/api/v1/audit-events", headers=h).status_code == 200


def test_password_policy_history_and_expiry(client, db):
    s = f.staff(db, "bureau_officer", password_changed_at=clock.now() - timedelta(days=91))
    r = _token(client, s.username, otp=f.otp(s.username))
    assert r.json()["restriction"] == "password_expired"
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.get("/api/v1/me", headers=h).status_code == 403
    weak = client.post("/api/v1/auth/password", json={"current_password": f.PASSWORD, "new_password": "abcdefgh"},
                       headers=h)
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
    same = client.post("/api/v1/auth/password", json={"current_password": f.PASSWORD, "new_password": f.PASSWORD},
                       headers=h)
    assert same.status_code == 422 and same.json()["code"] == "password_reused"
    ok = client.post("/api/v1/auth/password", json={"current_password": f.PASSWORD, "new_password": "Better#Pass9"},
                     headers=h)
    assert ok.status_code == 204
    assert client.get("/api/v1/me", headers=h).status_code == 200


@pytest.mark.parametrize("secret", ["", "zhijiao-demo-secret-change-me"])
def test_server_refuses_default_secret_outside_demo(monkeypatch, secret):
    from zhijiao.config import Settings

    monkeypatch.delenv("ZHIJIAO_DEMO_MODE", raising=False)
    monkeypatch.setenv("ZHIJIAO_SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="ZHIJIAO_SECRET_KEY"):
        Settings().effective_secret()
