"""Command-center API: today's numbers, alarm charts, duty supervision and cameras, scoped."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

import factories as f
from zhijiao.core import clock
from zhijiao.monitoring import alarms as alarm_service
from zhijiao.monitoring.models import Alarm, Device, DeviceBinding, FixRecord, PositioningOrder
from zhijiao.security.actor import Actor


def _device(db, subject, ident: str, *, fix_age: timedelta | None) -> Device:
    db.info["actor"] = Actor.system("tests")
    device = Device(kind="bracelet", protocol="jt808", ident=ident)
    db.add(device)
    db.flush()
    db.add(DeviceBinding(device_id=device.id, subject_id=subject.id, start_at=clock.now() - timedelta(days=3),
                         bound_by="tests"))
    if fix_age is not None:
        t = clock.now() - fix_age
        db.add(FixRecord(device_id=device.id, subject_id=subject.id, fix_time=t, received_at=t, lat=36.82,
                         lon=118.30, flags=0))
    db.commit()
    return device


def _alarm(db, subject, type_: str, *, age: timedelta = timedelta(0), **kw) -> Alarm:
    db.info["actor"] = Actor.system("tests")
    at = clock.now() - age
    alarm = Alarm(subject_id=subject.id, type=type_, severity=alarm_service.ALARM_TYPES[type_][1], status="open",
                  episode_start=at, last_at=at, opened_at=at, lat=36.8, lon=118.3, **kw)
    db.add(alarm)
    db.commit()
    return alarm


@pytest.fixture(autouse=True)
def noon():
    """Local noon today, so that "today" and "the last 30 days" do not depend on when tests run."""
    with clock.frozen(datetime.combine(clock.today_local(), time(12, 0), tzinfo=clock.SHANGHAI)) as frozen:
        yield frozen


@pytest.fixture
def world(db, noon):
    a, b = f.office(db, name="闻韶司法所"), f.office(db, name="雪宫司法所")
    officer_a = f.staff(db, "office_officer", a, display_name="王所员")
    officer_b = f.staff(db, "office_officer", b, display_name="李所员")
    s1 = f.subject(db, a, name="张一", status="under_correction", supervision_level="strict",
                   responsible_staff_id=officer_a.id)
    s2 = f.subject(db, a, name="张二", status="pending_reception", responsible_staff_id=officer_a.id,
                   judgment_effective_date=clock.today_local() - timedelta(days=15))  # reporting deadline passed
    s3 = f.subject(db, b, name="李三", status="under_correction", responsible_staff_id=officer_b.id)
    _device(db, s1, "13900000001", fix_age=timedelta(minutes=2))
    _device(db, s3, "13900000003", fix_age=timedelta(minutes=30))  # offline
    return {"a": a, "b": b, "officer_a": officer_a, "officer_b": officer_b, "s1": s1, "s2": s2, "s3": s3,
            "operator": f.staff(db, "operator"), "leader": f.staff(db, "leader"),
            "bureau": f.staff(db, "bureau_officer"), "sysadmin": f.staff(db, "sysadmin")}


def test_stats_and_breakdown_are_scoped(client, db, world):
    s1, s3 = world["s1"], world["s3"]
    acked = _alarm(db, s1, "sos", age=timedelta(minutes=5))
    acked.status, acked.acknowledged_at, acked.response_seconds = "acknowledged", clock.now(), 90
    closed = _alarm(db, s1, "tamper", age=timedelta(minutes=50))
    closed.status, closed.closed_at, closed.acknowledged_at, closed.response_seconds = (
        "closed", clock.now(), clock.now() - timedelta(minutes=40), 30)
    db.commit()
    _alarm(db, s3, "left_permitted_area")
    _alarm(db, s3, "night_absence", age=timedelta(days=40))  # outside the 30 days
    from zhijiao.checkins.models import CheckIn, RollCall

    now = clock.now()
    db.add(CheckIn(subject_id=s1.id, source="phone", at=now, matched=True, reason="人脸比对通过", actor_name="s1"))
    db.add(RollCall(subject_id=s3.id, called_at=now, called_by="operator", deadline=now + timedelta(minutes=10),
                    status="answered_matched", answered_at=now))
    db.commit()

    r = client.get("/api/v1/command/stats", headers=f.login(client, world["operator"].username))
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["subjects_total"] == 3 and s["subjects_by_status"]["pending_reception"] == 1
    assert s["subjects_by_level"]["strict"] == 1 and s["subjects_by_level"]["ordinary"] == 1
    assert (s["devices_bound"], s["devices_online"]) == (2, 1)
    assert s["alarms_open"] == 3  # acknowledged, open in B, and the 40-day-old one
    assert s["alarms_closed_today"] == 1 and s["mean_response_s"] == 60.0
    plugged = {p["key"]: (p["available"], p["done"], p["due"]) for p in s["plugged"]}
    assert plugged == {"checkins": (True, 1, 1), "rollcalls": (True, 1, 1)}

    r = client.get("/api/v1/command/stats", headers=f.login(client, world["officer_a"].username))
    mine = r.json()
    assert mine["subjects_total"] == 2 and (mine["devices_bound"], mine["devices_online"]) == (1, 1)
    assert mine["alarms_open"] == 1
    assert {p["key"]: (p["done"], p["due"]) for p in mine["plugged"]} == {"checkins": (1, 1), "rollcalls": (0, 0)}

    r = client.get("/api/v1/command/alarm-breakdown?days=30", headers=f.login(client, world["operator"].username))
    b = r.json()
    assert {c["key"]: c["count"] for c in b["by_type"]} == {"sos": 1, "tamper": 1, "left_permitted_area": 1}
    assert {c["label"]: c["count"] for c in b["by_office"]} == {"闻韶司法所": 2, "雪宫司法所": 1}
    assert len(b["by_day"]) == 30 and b["by_day"][-1]["count"] == 3 and b["by_type"][0]["label"]
    r = client.get("/api/v1/command/alarm-breakdown", headers=f.login(client, world["officer_a"].username))
    assert [c["label"] for c in r.json()["by_office"]] == ["闻韶司法所"]
    assert client.get("/api/v1/command/stats", headers=f.login(client, world["sysadmin"].username)).status_code == 403


def test_duty_board_ranks_offices_and_drills_down(client, db, world):
    s1, s3 = world["s1"], world["s3"]
    overdue = _alarm(db, s1, "sos", age=timedelta(minutes=40))  # not acknowledged within 15 minutes
    _alarm(db, s3, "low_battery", age=timedelta(minutes=3))
    today = clock.today_local()
    db.add(PositioningOrder(subject_id=s1.id, trigger="left_without_approval", start_date=today - timedelta(days=80),
                            end_date=today + timedelta(days=3), approved_by_name="领导", approved_at=clock.now(),
                            reason="test"))
    db.commit()

    h = f.login(client, world["leader"].username)
    board = client.get("/api/v1/command/duty", headers=h).json()
    assert [m["key"] for m in board["metrics"]][:2] == ["alarms_overdue", "reports_overdue"]
    first, second = board["offices"]
    assert first["name"] == "闻韶司法所" and first["rank"] == 1
    assert first["counts"] == {"alarms_overdue": 1, "alarms_open": 1, "orders_expiring": 1, "reports_overdue": 1}
    assert first["score"] == 3 + 2 + 1 + 1
    assert second["counts"] == {"alarms_open": 1} and second["score"] == 1
    officer = next(o for o in first["officers"] if o["staff_id"] == world["officer_a"].id)
    assert officer["name"] == "王所员" and officer["score"] == 7

    items = client.get(f"/api/v1/command/duty/items?metric=alarms_overdue&office_id={world['a'].id}", headers=h).json()
    assert [(i["subject_name"], i["ref"]) for i in items] == [("张一", f"/command/alarms/{overdue.id}")]
    items = client.get(f"/api/v1/command/duty/items?staff_id={world['officer_a'].id}", headers=h).json()
    assert {i["metric"] for i in items} == {"alarms_overdue", "alarms_open", "orders_expiring", "reports_overdue"}

    # an office officer sees only their own office
    hb = f.login(client, world["officer_b"].username)
    assert [o["name"] for o in client.get("/api/v1/command/duty", headers=hb).json()["offices"]] == ["雪宫司法所"]
    assert client.get(f"/api/v1/command/duty/items?office_id={world['a'].id}", headers=hb).json() == []


def test_cameras_are_configured_by_hand_and_scoped(client, db, world):
    hb = f.login(client, world["bureau"].username)
    center = {"name": "指挥中心 1 号机", "location_kind": "center_room",
              "stream_url": "http://10.0.0.5/live/center1.m3u8", "gb_device_id": "37030500001320000001"}
    r = client.post("/api/v1/cameras", json=center, headers=hb)
    assert r.status_code == 201, r.text
    cam = r.json()
    assert (cam["stream_protocol"], cam["status"], cam["source"]) == ("hls", "unknown", "manual")
    assert client.post("/api/v1/cameras", json=center, headers=hb).json()["code"] == "camera_exists"
    office_cam = {"name": "闻韶司法所 接待室", "location_kind": "office", "office_id": world["a"].id,
                  "stream_url": "http://10.0.0.6/live/ws.flv"}
    r = client.post("/api/v1/cameras", json={**office_cam, "office_id": None}, headers=hb)
    assert r.status_code == 422 and r.json()["code"] == "office_required"
    r = client.post("/api/v1/cameras", json={**office_cam, "stream_url": "ftp://x/y"}, headers=hb)
    assert r.status_code == 422
    hs = f.login(client, world["sysadmin"].username)  # 系统管理员 configures equipment too
    r = client.post("/api/v1/cameras", json=office_cam, headers=hs)
    assert r.status_code == 201 and r.json()["stream_protocol"] == "flv" and r.json()["office_name"] == "闻韶司法所"
    ho = f.login(client, world["operator"].username)
    assert client.post("/api/v1/cameras", json=office_cam, headers=ho).status_code == 403

    assert [c["name"] for c in client.get("/api/v1/cameras", headers=ho).json()] == ["指挥中心 1 号机",
                                                                                      "闻韶司法所 接待室"]
    assert len(client.get("/api/v1/cameras?location_kind=office", headers=ho).json()) == 1
    ha, hob = f.login(client, world["officer_a"].username), f.login(client, world["officer_b"].username)
    assert [c["name"] for c in client.get("/api/v1/cameras", headers=ha).json()] == ["闻韶司法所 接待室"]
    assert client.get("/api/v1/cameras", headers=hob).json() == []
    assert client.get(f"/api/v1/cameras/{cam['id']}", headers=hob).status_code == 404

    r = client.patch(f"/api/v1/cameras/{cam['id']}", json={"status": "online"}, headers=hb)
    assert r.status_code == 200 and r.json()["status"] == "online" and r.json()["status_at"]
    r = client.patch(f"/api/v1/cameras/{cam['id']}", json={"active": False}, headers=hb)
    assert r.json()["active"] is False
    assert len(client.get("/api/v1/cameras", headers=ho).json()) == 1
    db.info["actor"] = Actor.system("tests")
    from zhijiao.security.models import AuditEvent

    assert db.execute(select(AuditEvent).where(AuditEvent.object_type == "cameras")).scalars().first() is not None
