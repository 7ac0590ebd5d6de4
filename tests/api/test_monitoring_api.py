"""Devices, positioning orders (Law Art. 29), zones and alarms through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest

import factories as f
from zhijiao.core import clock
from zhijiao.monitoring import alarms
from zhijiao.security.actor import Actor


@pytest.fixture
def world(db):
    a, b = f.office(db, code="A1"), f.office(db, code="B1")
    return {
        "a": a, "b": b,
        "officer": f.staff(db, "office_officer", a),
        "other": f.staff(db, "office_officer", b),
        "leader": f.staff(db, "leader"),
        "operator": f.staff(db, "operator"),
        "subject": f.subject(db, a, status="under_correction", correction_start_date=clock.today_local()),
        "foreign": f.subject(db, b, status="under_correction"),
    }


def test_device_register_and_bind(client, world):
    h = f.login(client, world["officer"].username)
    r = client.post("/api/v1/devices", json={"kind": "bracelet", "protocol": "jt808", "ident": "13800138000"}, headers=h)
    assert r.status_code == 201, r.text
    device = r.json()
    assert device["secret"] is None  # a JT/T 808 terminal gets its code when it registers
    assert client.post("/api/v1/devices", json={"kind": "bracelet", "protocol": "jt808", "ident": "13800138000"},
                       headers=h).json()["code"] == "device_exists"
    sid = world["subject"].id
    r = client.post(f"/api/v1/subjects/{sid}/devices", json={"device_id": device["id"]}, headers=h)
    assert r.status_code == 201 and r.json()["device"]["ident"] == "13800138000"
    # one active binding per device, even across offices
    ho = f.login(client, world["other"].username)
    r = client.post(f"/api/v1/subjects/{world['foreign'].id}/devices", json={"device_id": device["id"]}, headers=ho)
    assert r.status_code == 409 and r.json()["code"] == "device_in_use"
    assert client.post(f"/api/v1/subjects/{sid}/devices", json={"device_id": device["id"]}, headers=ho).status_code == 404
    r = client.delete(f"/api/v1/subjects/{sid}/devices/{device['id']}", headers=h)
    assert r.status_code == 422 and r.json()["code"] == "unbind_reason_required"  # a reason is required
    r = client.delete(f"/api/v1/subjects/{sid}/devices/{device['id']}", params={"reason": "设备故障更换"}, headers=h)
    assert r.status_code == 200 and r.json()["end_at"] and r.json()["unbind_reason"] == "设备故障更换"
    r = client.post(f"/api/v1/subjects/{world['foreign'].id}/devices", json={"ident": "13800138000"}, headers=ho)
    assert r.status_code == 201
    assert len(client.get(f"/api/v1/subjects/{sid}/devices", headers=h).json()) == 1  # history kept


def test_positioning_orders_follow_article_29(client, world):
    sid = world["subject"].id
    today = clock.today_local()
    body = {"trigger": "violated_prohibition", "start_date": today.isoformat(),
            "end_date": (today + timedelta(days=60)).isoformat(), "reason": "违反禁止令进入娱乐场所"}
    r = client.post(f"/api/v1/subjects/{sid}/positioning-orders", json=body, headers=f.login(client, world["officer"].username))
    assert r.status_code == 403 and r.json()["code"] == "positioning_approver"
    hl = f.login(client, world["leader"].username)
    long = {**body, "end_date": (today + timedelta(days=120)).isoformat()}
    r = client.post(f"/api/v1/subjects/{sid}/positioning-orders", json=long, headers=hl)
    assert r.status_code == 422 and r.json()["code"] == "positioning_too_long"
    bad = {**body, "trigger": "because"}
    assert client.post(f"/api/v1/subjects/{sid}/positioning-orders", json=bad, headers=hl).status_code == 422
    r = client.post(f"/api/v1/subjects/{sid}/positioning-orders", json={**body, "end_date": (today + timedelta(days=5)).isoformat()},
                    headers=hl)
    assert r.status_code == 201, r.text
    first = r.json()
    expiring = client.get("/api/v1/positioning-orders/expiring", headers=hl).json()
    assert [e["subject_id"] for e in expiring] == [sid]
    ext = {**body, "extends_id": first["id"], "start_date": (today + timedelta(days=6)).isoformat(),
           "end_date": (today + timedelta(days=80)).isoformat()}
    r = client.post(f"/api/v1/subjects/{sid}/positioning-orders", json=ext, headers=hl)
    assert r.status_code == 201 and r.json()["kind"] == "extension"
    assert client.get("/api/v1/positioning-orders/expiring", headers=hl).json() == []
    gap = {**ext, "start_date": (today + timedelta(days=9)).isoformat()}
    assert client.post(f"/api/v1/subjects/{sid}/positioning-orders", json=gap, headers=hl).json()["code"] == \
        "positioning_extension_start"


SQUARE = {"type": "Polygon", "coordinates": [[[118.30, 36.80], [118.32, 36.80], [118.32, 36.82], [118.30, 36.82],
                                              [118.30, 36.80]]]}


def test_zones_geojson_in_and_out(client, db, world):
    h = f.login(client, world["officer"].username)
    r = client.post("/api/v1/zones", json={"name": "某小学", "kind": "exclusion", "subject_id": world["subject"].id,
                                           "geometry": SQUARE, "source": "禁止令"}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["geometry"]["type"] == "Polygon"
    r = client.post("/api/v1/zones", json={"name": "被害人住所", "kind": "exclusion", "subject_id": world["subject"].id,
                                           "geometry": {"type": "Point", "coordinates": [118.31, 36.81]},
                                           "radius_m": 200}, headers=h)
    assert r.status_code == 201 and r.json()["properties"]["radius_m"] == 200
    hb = f.login(client, world["leader"].username)
    r = client.post("/api/v1/zones", json={"name": "临淄区", "kind": "permitted", "geometry": SQUARE}, headers=h)
    assert r.status_code == 403 and r.json()["code"] == "zone_district_only"  # the district's, not one office's
    r = client.post("/api/v1/zones", json={"name": "临淄区", "kind": "permitted", "geometry": SQUARE},
                    headers=f.login(client, f.staff(db, "bureau_officer").username))
    assert r.status_code == 201  # a shared zone
    fc = client.get("/api/v1/zones", headers=h).json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 3
    other = client.get("/api/v1/zones", headers=f.login(client, world["other"].username)).json()
    assert [z["properties"]["name"] for z in other["features"]] == ["临淄区"]  # shared only
    assert len(client.get("/api/v1/zones", headers=hb).json()["features"]) == 3


def test_zone_patch_edit_schedule_and_disable(client, world):
    h = f.login(client, world["officer"].username)
    r = client.post("/api/v1/zones", json={"name": "某小学", "kind": "exclusion", "subject_id": world["subject"].id,
                                           "geometry": SQUARE}, headers=h)
    zid = r.json()["id"]
    r = client.patch(f"/api/v1/zones/{zid}", headers=h, json={
        "name": "某小学（上学时段）", "schedule": [{"weekdays": [0, 1, 2, 3, 4], "start": "07:00", "end": "18:00"}],
        "geometry": {"type": "Point", "coordinates": [118.31, 36.81]}, "radius_m": 300})
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert props["name"] == "某小学（上学时段）" and props["radius_m"] == 300 and props["schedule"][0]["start"] == "07:00"
    assert client.patch(f"/api/v1/zones/{zid}", headers=h, json={"schedule": [{"weekdays": [9], "start": "07:00",
                                                                               "end": "08:00"}]}).status_code == 422
    # another office's officer cannot see it; nobody but the district changes a zone for everyone
    other = f.login(client, world["other"].username)
    assert client.patch(f"/api/v1/zones/{zid}", headers=other, json={"active": False}).status_code == 404
    assert client.patch(f"/api/v1/zones/{zid}", headers=h, json={"subject_id": None}).json()["code"] == \
        "zone_district_only"
    r = client.patch(f"/api/v1/zones/{zid}", headers=h, json={"active": False})
    assert r.status_code == 200 and r.json()["properties"]["active"] is False
    assert client.get("/api/v1/zones", headers=h).json()["features"] == []  # the engine loads active zones only
    assert client.patch(f"/api/v1/zones/{zid}", headers=f.login(client, world["operator"].username),
                        json={"active": True}).status_code == 403


@pytest.mark.parametrize("geometry", [
    {"type": "Polygon", "coordinates": [[[118.3, 36.8], [118.32, 36.82], [118.32, 36.8], [118.3, 36.82], [118.3, 36.8]]]},
    {"type": "Polygon", "coordinates": "nonsense"},
    {"type": "LineString", "coordinates": [[118.3, 36.8], [118.4, 36.9]]},
    {"type": "Point", "coordinates": [118.3, 36.8]},
    {},
])
def test_bad_zone_geometry_is_422(client, world, geometry):
    h = f.login(client, world["officer"].username)
    r = client.post("/api/v1/zones", json={"name": "坏围栏", "kind": "permitted", "geometry": geometry}, headers=h)
    assert r.status_code == 422, r.text
    assert r.json()["code"] in ("invalid_zone", "validation_error")


def test_alarm_lifecycle(client, db, world):
    db.info["actor"] = Actor.system("test")
    now = clock.now()
    a1 = alarms.raise_alarm(db_session=db, subject_id=world["subject"].id, type="left_permitted_area", at=now)
    a2 = alarms.raise_alarm(db_session=db, subject_id=world["subject"].id, type="left_permitted_area",
                            at=now + timedelta(minutes=1))
    assert a1.id == a2.id and a2.occurrences == 2  # one open alarm per subject and type
    h = f.login(client, world["operator"].username)
    listed = client.get("/api/v1/alarms", params={"status": "open"}, headers=h).json()
    assert listed["total"] == 1 and listed["items"][0]["label"] == "越界"
    url = f"/api/v1/alarms/{a1.id}/actions"
    assert client.post(url, json={"action": "close"}, headers=h).json()["code"] == "alarm_state"
    r = client.post(url, json={"action": "acknowledge"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "acknowledged" and r.json()["response_seconds"] is not None
    assert client.post(url, json={"action": "verify", "verdict": "confirmed"}, headers=h).json()["code"] == "note_required"
    r = client.post(url, json={"action": "verify", "verdict": "false_alarm", "note": "GPS 漂移，电话核实在家"}, headers=h)
    assert r.json()["status"] == "verified" and r.json()["verdict"] == "false_alarm"
    r = client.post(url, json={"action": "close"}, headers=h)
    assert r.json()["status"] == "closed"
    assert client.post(url, json={"action": "acknowledge"}, headers=h).json()["code"] == "alarm_closed"
    # after closing, a new violation opens a new alarm
    a3 = alarms.raise_alarm(db_session=db, subject_id=world["subject"].id, type="left_permitted_area", at=now)
    assert a3.id != a1.id
    # scoped: the other office sees none of it
    ho = f.login(client, world["other"].username)
    assert client.get("/api/v1/alarms", headers=ho).json()["total"] == 0
    assert client.get(f"/api/v1/alarms/{a1.id}", headers=ho).status_code == 404
    ha = f.login(client, f.staff(db, "auditor").username)
    trail = client.get("/api/v1/audit-events", params={"object_type": "alarms", "object_id": str(a1.id)}, headers=ha).json()
    assert {e["action"] for e in trail["items"]} >= {"create", "update"}


def test_escalation(db, world):
    db.info["actor"] = Actor.system("test")
    alarm = alarms.raise_alarm(db_session=db, subject_id=world["subject"].id, type="sos", at=clock.now())
    assert alarms.escalate_overdue(db_session=db, now=clock.now() + timedelta(minutes=5)) == []
    assert [a.id for a in alarms.escalate_overdue(db_session=db, now=clock.now() + timedelta(minutes=16))] == [alarm.id]
    assert alarms.escalate_overdue(db_session=db, now=clock.now() + timedelta(minutes=30)) == []


def test_track_query_is_scoped_and_audited(client, db, world):
    start = (clock.now() - timedelta(hours=1)).isoformat()
    end = clock.now().isoformat()
    h = f.login(client, world["officer"].username)
    r = client.get(f"/api/v1/subjects/{world['subject'].id}/fixes", params={"start": start, "end": end}, headers=h)
    assert r.status_code == 200 and r.json() == []
    r = client.get(f"/api/v1/subjects/{world['foreign'].id}/fixes", params={"start": start, "end": end}, headers=h)
    assert r.status_code == 404
    r = client.get(f"/api/v1/subjects/{world['subject'].id}/fixes", params={"start": end, "end": start}, headers=h)
    assert r.status_code == 422
    ha = f.login(client, f.staff(db, "auditor").username)
    trail = client.get("/api/v1/audit-events", params={"action": "view_track"}, headers=ha).json()
    assert trail["total"] == 1


def test_office_zone_applies_to_that_office_only(client, db, world):
    from zhijiao.monitoring.context import rule_context

    h = f.login(client, world["officer"].username)
    r = client.post("/api/v1/zones", headers=h, json={"name": "闻韶街道范围", "kind": "permitted",
                                                      "office_id": world["a"].id, "geometry": SQUARE})
    assert r.status_code == 201, r.text
    zid = r.json()["id"]
    assert r.json()["properties"]["office_id"] == world["a"].id and r.json()["properties"]["subject_id"] is None
    other = f.login(client, world["other"].username)
    r = client.post("/api/v1/zones", headers=other, json={"name": "别所范围", "kind": "permitted",
                                                          "office_id": world["a"].id, "geometry": SQUARE})
    assert r.status_code == 403 and r.json()["code"] == "zone_office_only"
    assert client.patch(f"/api/v1/zones/{zid}", headers=other, json={"active": False}).json()["code"] == \
        "zone_office_only"
    hb = f.login(client, f.staff(db, "bureau_officer").username)
    for subject in (world["subject"], world["foreign"]):
        device = client.post("/api/v1/devices", headers=hb, json={
            "kind": "phone", "protocol": "http", "ident": f"ph-{subject.id}"}).json()
        assert client.post(f"/api/v1/subjects/{subject.id}/devices", headers=hb,
                           json={"device_id": device["id"]}).status_code == 201
    own = client.get("/api/v1/zones", params={"subject_id": world["subject"].id}, headers=hb).json()["features"]
    foreign = client.get("/api/v1/zones", params={"subject_id": world["foreign"].id}, headers=hb).json()["features"]
    assert [z["id"] for z in own] == [zid] and foreign == []
    db.info["actor"] = Actor.system("test")
    index = rule_context(db_session=db).index
    assert [(z.id, z.subject_id) for z in index.zones] == [(f"{zid}@{world['subject'].id}", world["subject"].id)]
