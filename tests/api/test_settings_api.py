"""Bureau-configurable values: owned by the right administrator, validated, audited, applied."""

from __future__ import annotations

import factories as f


def test_settings_owned_and_audited(client, db):
    sec = f.login(client, f.staff(db, "secadmin").username)
    sys = f.login(client, f.staff(db, "sysadmin").username)
    keys_sec = {s["key"] for s in client.get("/api/v1/settings", headers=sec).json()}
    keys_sys = {s["key"] for s in client.get("/api/v1/settings", headers=sys).json()}
    assert all(k.startswith("security.") for k in keys_sec) and all(k.startswith("rules.") for k in keys_sys)
    assert client.put("/api/v1/settings/security.lockout_failures", json={"value": 3}, headers=sys).status_code == 403
    r = client.put("/api/v1/settings/security.lockout_failures", json={"value": 1}, headers=sec)
    assert r.status_code == 422 and r.json()["code"] == "setting_range"
    r = client.put("/api/v1/settings/security.lockout_failures", json={"value": "x"}, headers=sec)
    assert r.status_code == 422
    assert client.put("/api/v1/settings/nope", json={"value": 1}, headers=sec).status_code == 404
    assert client.put("/api/v1/settings/security.lockout_failures", json={"value": 3}, headers=sec).status_code == 200
    r = client.put("/api/v1/settings/rules.night_start", json={"value": "23:00"}, headers=sys)
    assert r.status_code == 200
    assert client.put("/api/v1/settings/rules.night_start", json={"value": "25:99"}, headers=sys).status_code == 422
    aud = f.login(client, f.staff(db, "auditor").username)
    trail = client.get("/api/v1/audit-events", params={"object_type": "settings"}, headers=aud).json()
    assert trail["total"] == 2
    # applied: three failures now lock the account
    officer = f.staff(db, "bureau_officer")
    for _ in range(3):
        client.post("/api/v1/auth/token", data={"username": officer.username, "password": "Wrong#123"})
    r = client.post("/api/v1/auth/token", data={"username": officer.username, "password": f.PASSWORD,
                                                "otp": f.otp(officer.username)})
    assert r.status_code == 401


def test_values_last_read_stay_while_the_database_is_away(client, db, monkeypatch):
    """A bureau's thresholds must not fall back to the defaults for the length of an outage."""
    from sqlalchemy.exc import OperationalError

    from zhijiao.db import session as dbsession
    from zhijiao.settings import service as settings_service

    sys = f.login(client, f.staff(db, "sysadmin").username)
    assert client.put("/api/v1/settings/rules.dwell_s", json={"value": 300}, headers=sys).status_code == 200
    assert settings_service.value("rules.dwell_s") == 300

    def away(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(dbsession, "session_scope", away)
    settings_service.invalidate()
    assert settings_service.value("rules.dwell_s") == 300
    settings_service.invalidate(forget=True)  # another database: nothing to fall back on
    assert settings_service.value("rules.dwell_s") == 120


def test_legal_ceilings_shown_and_enforced(client, db):
    """实施办法第二十七条: a 司法所 approves leave of up to 7 days; one approval is at most 30 days."""
    sys = f.login(client, f.staff(db, "sysadmin").username)
    items = {s["key"]: s for s in client.get("/api/v1/settings", headers=sys).json()}
    office = items["rules.leave_office_max_days"]
    assert office["legal_max"] == 7 and office["maximum"] <= 7 and "第二十七条" in office["legal_basis"]
    assert office["unit"] == "天" and office["group"] == "外出审批" and office["hint"]
    assert items["rules.leave_max_days"]["legal_max"] == 30
    for key, value in (("rules.leave_office_max_days", 8), ("rules.leave_max_days", 31)):
        r = client.put(f"/api/v1/settings/{key}", json={"value": value}, headers=sys)
        assert r.status_code == 422 and r.json()["code"] == "setting_above_legal_limit", r.text
        assert "不得超过" in r.json()["message"]
    assert client.put("/api/v1/settings/rules.leave_office_max_days", json={"value": 5}, headers=sys).status_code == 200


def test_a_stored_value_above_the_ceiling_is_not_applied(client, db):
    from zhijiao.settings import service as settings_service
    from zhijiao.settings.models import Setting

    f.bureau(db)  # binds the system actor
    db.add(Setting(key="rules.leave_max_days", value=90, updated_by="old"))
    db.commit()
    settings_service.invalidate()
    assert settings_service.value("rules.leave_max_days") == 30
