"""Leave (外出请假, Law Art. 27) through the API: the approval chain, its illegal moves, return,
late return, and the leaves monitoring reads."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

import factories as f
from zhijiao.core import clock
from zhijiao.documents import render
from zhijiao.security.actor import Actor
from zhijiao.supervision import scheduled
from zhijiao.supervision.leave import service


@pytest.fixture(autouse=True)
def fast_pdf(monkeypatch):
    """Validate each document's context with the real template, skip WeasyPrint (tested elsewhere)."""
    def fake(kind, context, **kw):
        return b"%PDF-1.7 fake " + render.render_html(kind, context, **kw).encode()[:64] + b"\n%%EOF\n"

    monkeypatch.setattr(render, "render_pdf", fake)


@pytest.fixture
def world(db):
    a, b = f.office(db, code="A1"), f.office(db, code="B1")
    today = clock.today_local()
    return {
        "a": a, "b": b,
        "officer": f.staff(db, "office_officer", a),
        "colleague": f.staff(db, "office_officer", a),
        "other": f.staff(db, "office_officer", b),
        "bureau": f.staff(db, "bureau_officer"),
        "leader": f.staff(db, "leader"),
        "operator": f.staff(db, "operator"),
        "subject": f.subject(db, a, status="under_correction", correction_start_date=today - timedelta(days=40),
                             correction_end_date=today + timedelta(days=300)),
        "foreign": f.subject(db, b, status="under_correction", correction_start_date=today,
                             correction_end_date=today + timedelta(days=300)),
    }


def relogin(client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": f.PASSWORD,
                                                "otp": f.otp(username)})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _leave(days: int, start_in: int = 2, **extra) -> dict:
    start = clock.today_local() + timedelta(days=start_in)
    return {"start": start.isoformat(), "end": (start + timedelta(days=days - 1)).isoformat(),
            "destination": "山东省济南市历下区", "reason": "探望住院的母亲", **extra}


def test_office_approves_short_leave_and_form_is_generated(client, world):
    h = f.login(client, world["officer"].username)
    sid = world["subject"].id
    r = client.post(f"/api/v1/subjects/{sid}/leave-requests", json=_leave(3), headers=h)
    assert r.status_code == 201, r.text
    body = r.json()
    assert {"id", "status"} <= body.keys()
    assert body["status"] == "pending" and body["days"] == 3 and body["approver_level"] == "office"
    lid = body["id"]
    # a decision task waits for the office
    tasks = client.get("/api/v1/tasks", params={"kind": "leave_decision"}, headers=h).json()
    assert [t["source_id"] for t in tasks["items"]] == [lid]

    hc = f.login(client, world["colleague"].username)
    r = client.post(f"/api/v1/leave-requests/{lid}/decisions", json={"decision": "approve", "note": "按时返回"},
                    headers=hc)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["decided_by"] == world["colleague"].username
    docs = r.json()["documents"]
    assert [d["kind"] for d in docs] == ["leave_approval_form"] and docs[0]["number"].startswith("临司矫外〔")
    assert client.get("/api/v1/tasks", params={"kind": "leave_decision"}, headers=h).json()["total"] == 0
    # decided once only
    r = client.post(f"/api/v1/leave-requests/{lid}/decisions", json={"decision": "reject"}, headers=hc)
    assert r.status_code == 409 and r.json()["code"] == "leave_state"


def test_approving_your_own_request_is_forbidden(client, world):
    h = f.login(client, world["officer"].username)
    lid = client.post(f"/api/v1/subjects/{world['subject'].id}/leave-requests", json=_leave(2), headers=h).json()["id"]
    r = client.post(f"/api/v1/leave-requests/{lid}/decisions", json={"decision": "approve"}, headers=h)
    assert r.status_code == 403 and r.json()["code"] == "self_approval"
    assert r.json()["message"] == "不能审批本人提交的申请"


def test_office_officer_cannot_approve_ten_days(client, world):
    h = f.login(client, world["officer"].username)
    r = client.post(f"/api/v1/subjects/{world['subject'].id}/leave-requests", json=_leave(10), headers=h)
    assert r.status_code == 201 and r.json()["approver_level"] == "bureau"
    lid = r.json()["id"]
    r = client.post(f"/api/v1/leave-requests/{lid}/decisions", json={"decision": "approve"},
                    headers=f.login(client, world["colleague"].username))
    assert r.status_code == 403 and r.json()["code"] == "approval_level" and "区司法局" in r.json()["message"]
    r = client.post(f"/api/v1/leave-requests/{lid}/decisions", json={"decision": "approve"},
                    headers=f.login(client, world["bureau"].username))
    assert r.status_code == 200 and r.json()["status"] == "approved"


def test_leader_decides_operator_cannot(client, world):
    h = f.login(client, world["officer"].username)
    lid = client.post(f"/api/v1/subjects/{world['subject'].id}/leave-requests", json=_leave(9), headers=h).json()["id"]
    r = client.post(f"/api/v1/leave-requests/{lid}/decisions", json={"decision": "reject", "note": "理由不充分"},
                    headers=f.login(client, world["operator"].username))
    assert r.status_code == 403
    r = client.post(f"/api/v1/leave-requests/{lid}/decisions", json={"decision": "reject", "note": "理由不充分"},
                    headers=f.login(client, world["leader"].username))
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["documents"][0]["kind"] == "leave_approval_form"


@pytest.mark.parametrize("payload,code", [
    (_leave(31), "leave_too_long"),
    ({**_leave(3), "end": (clock.today_local()).isoformat(), "start": (clock.today_local() + timedelta(days=2)).isoformat()},
     "leave_dates"),
    (_leave(3, start_in=-5), "leave_in_past"),
    ({**_leave(3), "destination": ""}, "validation_error"),
    ({**_leave(3), "start": "2026-13-01"}, "validation_error"),
    ({**_leave(3), "color": "red"}, "validation_error"),
])
def test_bad_requests_answer_422_in_chinese(client, world, payload, code):
    h = f.login(client, world["officer"].username)
    r = client.post(f"/api/v1/subjects/{world['subject'].id}/leave-requests", json=payload, headers=h)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code and not r.json()["message"].isascii()


def test_overlap_and_subject_state(client, db, world):
    h = f.login(client, world["officer"].username)
    sid = world["subject"].id
    assert client.post(f"/api/v1/subjects/{sid}/leave-requests", json=_leave(3), headers=h).status_code == 201
    r = client.post(f"/api/v1/subjects/{sid}/leave-requests", json=_leave(3, start_in=3), headers=h)
    assert r.status_code == 409 and r.json()["code"] == "leave_overlap"
    pending = f.subject(db, world["a"], name="未报到")
    r = client.post(f"/api/v1/subjects/{pending.id}/leave-requests", json=_leave(3), headers=h)
    assert r.status_code == 409 and r.json()["code"] == "subject_not_reported"


def test_return_late_return_and_overdue_scan(client, db, world):
    h, hc = f.login(client, world["officer"].username), f.login(client, world["colleague"].username)
    sid = world["subject"].id
    today = clock.today_local()
    first = client.post(f"/api/v1/subjects/{sid}/leave-requests", json=_leave(2, start_in=0), headers=h).json()["id"]
    second = client.post(f"/api/v1/subjects/{sid}/leave-requests", json=_leave(2, start_in=5), headers=h).json()["id"]
    for lid in (first, second):
        assert client.post(f"/api/v1/leave-requests/{lid}/decisions", json={"decision": "approve"},
                           headers=hc).status_code == 200
    # on leave now: monitoring sees the destination and the covered window
    active = client.get(f"/api/v1/subjects/{sid}/active-leaves", headers=h).json()
    assert [(a["id"], a["destination"]) for a in active] == [(first, "山东省济南市历下区")]
    start_at = datetime.combine(today, time.min, tzinfo=clock.SHANGHAI)
    assert datetime.fromisoformat(active[0]["start_at"]) == start_at

    # three days later the first leave has ended without a return: the scan marks it and raises a task
    with clock.frozen(clock.now() + timedelta(days=3)):
        h = relogin(client, world["officer"].username)  # sessions end after 12 h
        counts = scheduled.scan(db_session=db)
        assert counts["leave_overdue"] == 1
        assert client.get(f"/api/v1/leave-requests/{first}", headers=h).json()["status"] == "overdue"
        assert scheduled.scan(db_session=db)["leave_overdue"] == 0  # idempotent
        tasks = client.get("/api/v1/tasks", params={"kind": "leave_overdue"}, headers=h).json()
        assert tasks["total"] == 1 and tasks["items"][0]["source_id"] == first
        r = client.post(f"/api/v1/leave-requests/{first}/return", json={"note": "已返回报告"}, headers=h)
        assert r.status_code == 200 and r.json()["status"] == "returned" and r.json()["returned_late"] is True
        kinds = {t["kind"] for t in client.get("/api/v1/tasks", headers=h).json()["items"]}
        assert "leave_late_return" in kinds and "leave_overdue" not in kinds
        r = client.post(f"/api/v1/leave-requests/{first}/return", json={}, headers=h)
        assert r.status_code == 409 and r.json()["code"] == "leave_state"
    # a pending request cannot be returned from
    pending = client.post(f"/api/v1/subjects/{sid}/leave-requests", json=_leave(1, start_in=20), headers=h).json()["id"]
    assert client.post(f"/api/v1/leave-requests/{pending}/return", json={}, headers=h).status_code == 409
    bad = client.post(f"/api/v1/leave-requests/{second}/return", json={"returned_on": (today + timedelta(days=9)).isoformat()},
                      headers=h)
    assert bad.status_code == 422 and bad.json()["code"] == "date_in_future"


def test_active_leaves_service_for_monitoring(client, db, world):
    h, hb = f.login(client, world["officer"].username), f.login(client, world["bureau"].username)
    lid = client.post(f"/api/v1/subjects/{world['subject'].id}/leave-requests", json=_leave(2, start_in=1),
                      headers=h).json()["id"]
    db.info["actor"] = Actor.system("monitoring")
    tomorrow_noon = datetime.combine(clock.today_local() + timedelta(days=1), time(12), tzinfo=clock.SHANGHAI)
    assert service.active_leaves(db, world["subject"].id, tomorrow_noon) == []  # pending does not count
    client.post(f"/api/v1/leave-requests/{lid}/decisions", json={"decision": "approve"}, headers=hb)
    db.expire_all()
    found = service.active_leaves(db, world["subject"].id, tomorrow_noon)
    assert [(x.id, x.destination) for x in found] == [(lid, "山东省济南市历下区")]
    assert service.active_leaves(db, world["subject"].id, tomorrow_noon + timedelta(days=2)) == []
    assert [x.id for x in service.approved_leaves(db, world["subject"].id)] == [lid]


def test_frequent_travel_is_decided_by_the_bureau(client, world):
    h = f.login(client, world["officer"].username)
    start = clock.today_local() + timedelta(days=1)
    body = {**_leave(1), "start": start.isoformat(), "end": (start + timedelta(days=150)).isoformat(),
            "frequent": True, "reason": "在济南务工，每周往返"}
    r = client.post(f"/api/v1/subjects/{world['subject'].id}/leave-requests", json=body, headers=h)
    assert r.status_code == 201 and r.json()["approver_level"] == "bureau" and r.json()["frequent"] is True
    lid = r.json()["id"]
    r = client.post(f"/api/v1/leave-requests/{lid}/decisions", json={"decision": "approve"},
                    headers=f.login(client, world["colleague"].username))
    assert r.status_code == 403 and r.json()["code"] == "approval_level"
    assert client.post(f"/api/v1/leave-requests/{lid}/decisions", json={"decision": "approve"},
                       headers=f.login(client, world["bureau"].username)).status_code == 200
    too_long = {**body, "start": (start + timedelta(days=200)).isoformat(),
                "end": (start + timedelta(days=400)).isoformat()}
    r = client.post(f"/api/v1/subjects/{world['subject'].id}/leave-requests", json=too_long, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "leave_too_long"


def test_other_office_sees_nothing(client, world):
    h = f.login(client, world["officer"].username)
    lid = client.post(f"/api/v1/subjects/{world['subject'].id}/leave-requests", json=_leave(3), headers=h).json()["id"]
    ho = f.login(client, world["other"].username)
    assert client.get(f"/api/v1/leave-requests/{lid}", headers=ho).status_code == 404
    assert client.post(f"/api/v1/leave-requests/{lid}/decisions", json={"decision": "approve"},
                       headers=ho).status_code == 404
    assert client.post(f"/api/v1/leave-requests/{lid}/return", json={}, headers=ho).status_code == 404
    assert client.get("/api/v1/leave-requests", headers=ho).json() == []
    assert client.post(f"/api/v1/subjects/{world['subject'].id}/leave-requests", json=_leave(3),
                       headers=ho).status_code == 404


@pytest.mark.parametrize("payload", [
    {"start": "0001-01-01", "end": "0001-01-02"},
    {"start": "9999-12-30", "end": "9999-12-31"},
])
def test_absurd_dates_are_422_not_500(client, world, payload):
    h = f.login(client, world["officer"].username)
    r = client.post(f"/api/v1/subjects/{world['subject'].id}/leave-requests", json={**_leave(2), **payload}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    sid = world["subject"].id
    for path, body in ((f"/subjects/{sid}/announcements",
                        {"kind": "entry", "place": "宣告室", "present": ["王所长"], "at": "0001-01-01T00:00:00+08:00"}),
                       (f"/subjects/{sid}/monthly-assessments", {"month": "0000-01"}),
                       (f"/subjects/{sid}/records", {"kind": "talk", "summary": "谈话", "occurred_on": payload["start"]})):
        r = client.post(f"/api/v1{path}", json=body, headers=h)
        assert r.status_code == 422, (path, r.text)
    r = client.get(f"/api/v1/subjects/{sid}/active-leaves", params={"at": "0001-01-01T00:00:00+08:00"}, headers=h)
    assert r.status_code == 422
