"""Positioning orders proposed by the office and decided by the bureau's head (社区矫正法 第二十九条),
the device registry and unbinding with a reason, and cameras' GB/T 28181 codes, through the API:
who may do what, and bad input answered in Chinese with a stable code."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

import factories as f
from zhijiao.core import clock
from zhijiao.ingestion import directory
from zhijiao.monitoring.models import Device, DeviceBinding
from zhijiao.security.actor import Actor
from zhijiao.tasks.models import Task


@pytest.fixture
def world(db):
    a, b = f.office(db, code="A1"), f.office(db, code="B1")
    today = clock.today_local()
    subject = f.subject(db, a, name="张三丰", status="under_correction", correction_start_date=today - timedelta(days=30),
                        correction_end_date=today + timedelta(days=300))
    return {
        "a": a, "b": b, "subject": subject,
        "officer": f.staff(db, "office_officer", a),
        "other": f.staff(db, "office_officer", b),
        "bureau": f.staff(db, "bureau_officer"),
        "leader": f.staff(db, "leader"),
        "operator": f.staff(db, "operator"),
        "sysadmin": f.staff(db, "sysadmin"),
        "foreign": f.subject(db, b, status="under_correction"),
    }


def _proposal(days: int = 60, **kw) -> dict:
    today = clock.today_local()
    return {"trigger": "left_without_approval", "start_date": today.isoformat(),
            "end_date": (today + timedelta(days=days)).isoformat(),
            "reason": "2026年11月擅自离开临淄区前往济南，经查属实", **kw}


def test_office_proposes_and_leader_approves_with_decision_document(client, db, world):
    sid = world["subject"].id
    ho, hl = f.login(client, world["officer"].username), f.login(client, world["leader"].username)
    # who may propose: the office's (and the bureau's) staff; not the leader, not the operator
    for who in ("leader", "operator"):
        r = client.post(f"/api/v1/subjects/{sid}/positioning-proposals", json=_proposal(),
                        headers=f.login(client, world[who].username))
        assert r.status_code == 403 and r.json()["code"] == "positioning_proposer", r.text
        assert "提请" in r.json()["message"]
    # another office's subject does not exist for this officer
    r = client.post(f"/api/v1/subjects/{world['foreign'].id}/positioning-proposals", json=_proposal(), headers=ho)
    assert r.status_code == 404
    # bad input: longer than three months, unknown trigger, end before start, too short a reason
    r = client.post(f"/api/v1/subjects/{sid}/positioning-proposals", json=_proposal(days=120), headers=ho)
    assert r.status_code == 422 and r.json()["code"] == "positioning_too_long" and "三个月" in r.json()["message"]
    r = client.post(f"/api/v1/subjects/{sid}/positioning-proposals", json=_proposal(trigger="because"), headers=ho)
    assert r.status_code == 422 and r.json()["code"] == "validation_error" and not r.json()["message"].isascii()
    r = client.post(f"/api/v1/subjects/{sid}/positioning-proposals", json=_proposal(days=-3), headers=ho)
    assert r.status_code == 422 and r.json()["code"] in ("date_order", "date_past")
    r = client.post(f"/api/v1/subjects/{sid}/positioning-proposals", json=_proposal(reason="短"), headers=ho)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"

    r = client.post(f"/api/v1/subjects/{sid}/positioning-proposals", json=_proposal(), headers=ho)
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "proposed" and order["status_label"] == "待审批" and order["approved_by_name"] is None
    r = client.post(f"/api/v1/subjects/{sid}/positioning-proposals", json=_proposal(), headers=ho)
    assert r.status_code == 409 and r.json()["code"] == "positioning_proposal_pending"
    # a task for the leader; not in force yet
    task = db.execute(select(Task).where(Task.key == f"positioning_decision:{order['id']}")).scalar_one()
    assert task.status == "open" and task.kind == "positioning_decision"
    tasks = client.get("/api/v1/tasks", headers=hl).json()["items"]
    assert [(t["kind"], t["kind_label"]) for t in tasks if t["source_id"] == order["id"]] == [
        ("positioning_decision", "电子定位审批")]  # the leader's to-do list
    entries = directory.load(_system_session(db))
    assert not any(e.order_in_force for e in entries.values())

    pending = client.get("/api/v1/positioning-orders/pending", headers=hl).json()
    assert [p["id"] for p in pending] == [order["id"]] and pending[0]["subject_name"] == "张三丰"
    assert client.get("/api/v1/positioning-orders/pending",
                      headers=f.login(client, world["other"].username)).json() == []  # not their office

    # who may decide: the leader only
    for who in ("officer", "bureau"):
        r = client.post(f"/api/v1/positioning-orders/{order['id']}/decision", json={"decision": "approve"},
                        headers=f.login(client, world[who].username))
        assert r.status_code == 403 and r.json()["code"] == "positioning_approver"
    r = client.post(f"/api/v1/positioning-orders/{order['id']}/decision", json={"decision": "maybe"}, headers=hl)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    r = client.post(f"/api/v1/positioning-orders/{order['id']}/decision", json={"decision": "refuse"}, headers=hl)
    assert r.status_code == 422 and r.json()["code"] == "refusal_reason_required" and "理由" in r.json()["message"]

    r = client.post(f"/api/v1/positioning-orders/{order['id']}/decision",
                    json={"decision": "approve", "note": "同意"}, headers=hl)
    assert r.status_code == 200, r.text
    approved = r.json()
    assert approved["status"] == "approved" and approved["document_number"].startswith("临司矫定〔")
    r = client.post(f"/api/v1/positioning-orders/{order['id']}/decision", json={"decision": "approve"}, headers=hl)
    assert r.status_code == 409 and r.json()["code"] == "order_decided"
    docs = client.get(f"/api/v1/subjects/{sid}/documents", headers=ho).json()
    assert [d["kind"] for d in docs] == ["positioning_decision"] and docs[0]["title"] == "使用电子定位装置决定书"
    pdf = client.get(f"/api/v1/documents/{docs[0]['id']}", headers=ho)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    db.expire_all()
    assert db.execute(select(Task.status).where(Task.key == f"positioning_decision:{order['id']}")).scalar_one() == "done"
    in_force = client.get("/api/v1/positioning-orders/in-force", headers=hl).json()
    assert [o["id"] for o in in_force] == [order["id"]]

    # expiring lists: 7 / 15 / 30 / 90 days
    assert client.get("/api/v1/positioning-orders/expiring?days=30", headers=hl).json() == []
    assert [e["subject_id"] for e in client.get("/api/v1/positioning-orders/expiring?days=90",
                                                 headers=hl).json()] == [sid]
    assert client.get("/api/v1/positioning-orders/expiring?days=400", headers=hl).status_code == 422

    # extension: proposed from the day after the end, at most three months again
    end = clock.today_local() + timedelta(days=60)
    bad = _proposal(extends_id=order["id"], start_date=(end + timedelta(days=3)).isoformat(),
                    end_date=(end + timedelta(days=40)).isoformat())
    r = client.post(f"/api/v1/subjects/{sid}/positioning-proposals", json=bad, headers=ho)
    assert r.status_code == 422 and r.json()["code"] == "positioning_extension_start"
    ext = {**bad, "start_date": (end + timedelta(days=1)).isoformat()}
    r = client.post(f"/api/v1/subjects/{sid}/positioning-proposals", json=ext, headers=ho)
    assert r.status_code == 201 and r.json()["kind"] == "extension"
    r = client.post(f"/api/v1/positioning-orders/{r.json()['id']}/decision",
                    json={"decision": "refuse", "note": "暂无延长必要"}, headers=hl)
    assert r.status_code == 200 and r.json()["status"] == "refused" and r.json()["decision_note"] == "暂无延长必要"

    # revoke: the leader, with a reason
    r = client.post(f"/api/v1/positioning-orders/{order['id']}/revoke", json={"reason": "x"}, headers=hl)
    assert r.status_code == 422
    r = client.post(f"/api/v1/positioning-orders/{order['id']}/revoke", json={"reason": "已无必要"}, headers=ho)
    assert r.status_code == 403 and r.json()["code"] == "positioning_approver"
    r = client.post(f"/api/v1/positioning-orders/{order['id']}/revoke", json={"reason": "已无必要"}, headers=hl)
    assert r.status_code == 200 and r.json()["revoked_at"] and r.json()["status_label"] == "已解除"


def _system_session(db):
    db.info["actor"] = Actor.system("tests")
    return db


def test_only_approved_orders_are_in_force_for_the_rules(client, db, world):
    from zhijiao.monitoring import context

    s = world["subject"]
    db.info["actor"] = Actor.system("tests")
    device = Device(kind="bracelet", protocol="jt808", ident="13900000001")
    db.add(device)
    db.flush()
    db.add(DeviceBinding(device_id=device.id, subject_id=s.id, start_at=clock.now(), bound_by="tests"))
    db.commit()
    ho, hl = f.login(client, world["officer"].username), f.login(client, world["leader"].username)
    order = client.post(f"/api/v1/subjects/{s.id}/positioning-proposals", json=_proposal(), headers=ho).json()
    assert directory.load(db)["13900000001"].order_in_force is False
    assert context.rule_context(db_session=db).subjects[s.id].positioning_order_in_force is False
    client.post(f"/api/v1/positioning-orders/{order['id']}/decision", json={"decision": "approve"}, headers=hl)
    db.expire_all()
    assert directory.load(db)["13900000001"].order_in_force is True
    assert context.rule_context(db_session=db).subjects[s.id].positioning_order_in_force is True


def test_device_registry_lists_state_and_hides_other_offices(client, db, world):
    ho, hx = f.login(client, world["officer"].username), f.login(client, world["other"].username)
    r = client.post("/api/v1/devices", json={"kind": "phone", "protocol": "mqtt", "ident": "mqtt-0001"}, headers=ho)
    assert r.status_code == 201 and r.json()["secret"]  # shown once
    device = r.json()
    assert client.post("/api/v1/devices", json={"kind": "watch", "protocol": "mqtt", "ident": "x1"},
                       headers=ho).json()["code"] == "validation_error"
    assert client.post(f"/api/v1/subjects/{world['subject'].id}/devices", json={"device_id": device["id"]},
                       headers=ho).status_code == 201
    page = client.get("/api/v1/devices?size=10", headers=ho).json()
    assert page["total"] == 1 and page["items"][0]["subject_name"] == "张三丰"
    assert page["items"][0]["online"] is False and "secret" not in page["items"][0]
    other = client.get("/api/v1/devices", headers=hx).json()["items"][0]
    assert other["subject_name"] is None and other["bound_elsewhere"] is True
    assert client.get("/api/v1/devices?bound=false", headers=ho).json()["total"] == 0
    assert client.get("/api/v1/devices", headers=f.login(client, world["sysadmin"].username)).status_code == 403
    # unbinding needs a reason, kept in the history
    url = f"/api/v1/subjects/{world['subject'].id}/devices/{device['id']}/unbind"
    r = client.post(url, json={"reason": ""}, headers=ho)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    r = client.post(url, json={"reason": "设备故障，更换新腕带"}, headers=ho)
    assert r.status_code == 200 and r.json()["unbind_reason"] == "设备故障，更换新腕带" and r.json()["unbound_by"]
    history = client.get(f"/api/v1/subjects/{world['subject'].id}/devices", headers=ho).json()
    assert history[0]["unbind_reason"] == "设备故障，更换新腕带"


def test_device_state_comes_from_its_stored_fixes(client, db, world):
    """The registry says online, last fix and battery from the fixes the command center counts."""
    from zhijiao.monitoring.models import FixRecord

    s = world["subject"]
    db.info["actor"] = Actor.system("tests")
    device = Device(kind="bracelet", protocol="jt808", ident="13900000002")
    db.add(device)
    db.flush()
    db.add(DeviceBinding(device_id=device.id, subject_id=s.id, start_at=clock.now() - timedelta(days=1),
                         bound_by="tests"))
    now = clock.now()
    for minutes, battery in ((30, 80), (3, 64)):
        db.add(FixRecord(device_id=device.id, subject_id=s.id, fix_time=now - timedelta(minutes=minutes),
                         received_at=now, lat=36.82, lon=118.31, battery_pct=battery))
    db.commit()
    for who in ("officer", "other"):
        item = client.get("/api/v1/devices", headers=f.login(client, world[who].username)).json()["items"][0]
        assert item["online"] is True and item["battery_pct"] == 64, who
        last_fix = clock.ensure_utc(datetime.fromisoformat(item["last_fix_at"].replace("Z", "+00:00")))
        assert abs((last_fix - (now - timedelta(minutes=3))).total_seconds()) < 1


def test_camera_codes_are_validated_and_only_admins_configure(client, world):
    hs = f.login(client, world["sysadmin"].username)
    body = {"name": "指挥中心 1 号机", "location_kind": "center_room", "stream_url": "https://cam.local/1.m3u8",
            "gb_device_id": "37030500001320000001", "address": "临淄区社区矫正中心三楼"}
    r = client.post("/api/v1/cameras", json={**body, "gb_device_id": "3703050000132"}, headers=hs)
    assert r.status_code == 422 and r.json()["fields"]["gb_device_id"] == "国标编码须为 20 位数字（GB/T 28181）"
    r = client.post("/api/v1/cameras", json={**body, "gb_device_id": "3703050000132000000A"}, headers=hs)
    assert r.status_code == 422
    r = client.post("/api/v1/cameras", json=body, headers=f.login(client, world["officer"].username))
    assert r.status_code == 403 and r.json()["code"] == "camera_admin"
    r = client.post("/api/v1/cameras", json=body, headers=hs)
    assert r.status_code == 201 and r.json()["address"] == "临淄区社区矫正中心三楼"
    camera = r.json()
    assert client.post("/api/v1/cameras", json=body, headers=hs).json()["code"] == "camera_exists"
    r = client.patch(f"/api/v1/cameras/{camera['id']}", json={"location_kind": "office"}, headers=hs)
    assert r.status_code == 422 and r.json()["code"] == "office_required"
    r = client.patch(f"/api/v1/cameras/{camera['id']}", json={"location_kind": "office", "office_id": world["a"].id,
                                                              "gb_device_id": "", "active": False}, headers=hs)
    assert r.status_code == 200 and r.json()["gb_device_id"] is None and r.json()["active"] is False


NEW_PATHS = ("/api/v1/devices", "/api/v1/subjects/{subject_id}/devices/{device_id}",
             "/api/v1/subjects/{subject_id}/devices/{device_id}/unbind",
             "/api/v1/subjects/{subject_id}/positioning-proposals", "/api/v1/positioning-orders/pending",
             "/api/v1/positioning-orders/in-force", "/api/v1/positioning-orders/{order_id}/decision",
             "/api/v1/positioning-orders/{order_id}/revoke", "/api/v1/cameras", "/api/v1/cameras/{camera_id}")


@pytest.mark.parametrize("role", ["office_officer", "leader", "sysadmin"])
def test_new_operations_never_answer_a_server_error(app, client, db, role):
    """Schemathesis on this module's operations only (the whole API's fuzz is test_openapi_fuzz)."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error

    office = f.office(db, code="370305001")
    f.subject(db, office, status="under_correction")
    auth = f.login(client, f.staff(db, role, office if role == "office_officer" else None).username)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path not in NEW_PATHS:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=6, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case):
                response = case.call(headers={**(case.headers or {}), **auth})
                case.validate_response(response, checks=(not_a_server_error,))

            try:
                run()
            except Exception as exc:  # noqa: BLE001 - collect every operation's failure
                if type(exc).__name__ != "Unsatisfiable":
                    failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    assert not failures, "\n\n".join(failures)
