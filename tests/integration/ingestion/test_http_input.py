"""POST /api/v1/fixes from a phone, and the MQTT broker's auth hooks, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bound_devices import INSIDE, OUTSIDE, bind_device
from sqlalchemy import func, select

from zhijiao.core import clock
from zhijiao.monitoring.models import Alarm, FixRecord
from zhijiao.security.actor import Actor

IDENT = "phone-0001"


@pytest.fixture
def phone(client, db):
    return bind_device(client, db, protocol="http", ident=IDENT)


def _fix(at, where=INSIDE, **kw) -> dict:
    return {"device": IDENT, "fix_time": at.isoformat(), "lat": where[0], "lon": where[1], "accuracy_m": 12.0,
            "source": "gnss", "battery_pct": 80, **kw}


def _auth(secret: str) -> dict:
    return {"Authorization": f"Device {secret}"}


def _count(db, model) -> int:
    db.info["actor"] = Actor.system("test")
    db.expire_all()
    return db.execute(select(func.count()).select_from(model)).scalar_one()


def test_stored_evaluated_and_idempotent(client, db, phone):
    now = clock.now().replace(microsecond=0)
    first = now - timedelta(minutes=6)
    r = client.post("/api/v1/fixes", json=_fix(first), headers=_auth(phone["secret"]))
    assert r.status_code == 200, r.text  # no running pipeline here: stored and evaluated inline
    assert r.json() == {"status": "stored", "evaluated": True}
    again = client.post("/api/v1/fixes", json=_fix(first), headers=_auth(phone["secret"]))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert _count(db, FixRecord) == 1
    row = db.execute(select(FixRecord)).scalar_one()
    assert row.subject_id == phone["subject"].id and row.battery_pct == 80 and row.accuracy_m == 12.0
    # the rules ran in the request: five minutes outside the area is an alarm
    for minutes in (5, 4, 3, 2, 1):
        r = client.post("/api/v1/fixes", json=_fix(now - timedelta(minutes=minutes), OUTSIDE),
                        headers=_auth(phone["secret"]))
        assert r.status_code == 200, r.text
    db.info["actor"] = Actor.system("test")
    [alarm] = db.execute(select(Alarm)).scalars().all()
    assert alarm.type == "left_permitted_area" and alarm.subject_id == phone["subject"].id


def test_bad_credentials_401(client, db, phone):
    for headers in ({}, {"Authorization": "Bearer x"}, {"Authorization": "Device "},
                    {"Authorization": "Device wrong-token"}):
        r = client.post("/api/v1/fixes", json=_fix(clock.now()), headers=headers)
        assert r.status_code == 401 and r.json()["code"] == "device_unauthorized", headers
    # an unknown device and a device of another protocol look the same as a wrong token
    unknown = client.post("/api/v1/fixes", json=_fix(clock.now(), device="phone-9999"),
                          headers=_auth(phone["secret"]))
    other = bind_device(client, db, protocol="mqtt", ident="mqtt-0001", permitted=False)
    wrong_protocol = client.post("/api/v1/fixes", json=_fix(clock.now(), device="mqtt-0001"),
                                 headers=_auth(other["secret"]))
    assert unknown.status_code == wrong_protocol.status_code == 401
    assert unknown.json() == wrong_protocol.json()
    assert _count(db, FixRecord) == 0


def test_bad_body_422(client, db, phone):
    for change in ({"lat": 91}, {"lat": "north"}, {"fix_time": "yesterday"}, {"source": "gps"},
                   {"battery_pct": 101}, {"fix_time": "2026-01-01T08:00:00"}):  # the last: no offset, which clock?
        r = client.post("/api/v1/fixes", json={**_fix(clock.now()), **change}, headers=_auth(phone["secret"]))
        assert r.status_code == 422, (change, r.text)
        assert set(r.json()) >= {"code", "message", "fields"}
    assert _count(db, FixRecord) == 0




def test_broker_auth_and_acl(client, db):
    device = bind_device(client, db, protocol="mqtt", ident="mqtt-0002", permitted=False)
    ok = client.post("/api/v1/mqtt/auth", json={"username": "mqtt-0002", "password": device["secret"]})
    bad = client.post("/api/v1/mqtt/auth", json={"username": "mqtt-0002", "password": "nope"})
    nobody = client.post("/api/v1/mqtt/auth", json={"username": "", "password": ""})
    assert [x.json()["result"] for x in (ok, bad, nobody)] == ["allow", "deny", "deny"]
    own = client.post("/api/v1/mqtt/acl", json={"username": "mqtt-0002", "topic": "zhijiao/devices/mqtt-0002/fix",
                                                 "action": "publish"})
    other = client.post("/api/v1/mqtt/acl", json={"username": "mqtt-0002", "topic": "zhijiao/devices/x/fix",
                                                   "action": "publish"})
    sub = client.post("/api/v1/mqtt/acl", json={"username": "mqtt-0002", "topic": "zhijiao/devices/+/fix",
                                                 "action": "subscribe"})
    assert [x.json()["result"] for x in (own, other, sub)] == ["allow", "deny", "deny"]
