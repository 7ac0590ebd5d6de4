"""Jurisdiction and audit on every supervision route: another office's subject is 404 everywhere,
administrators see nothing, and every write leaves an audit row."""

from __future__ import annotations

from datetime import timedelta

import pytest

import factories as f
from zhijiao.core import clock
from zhijiao.documents import render


@pytest.fixture(autouse=True)
def fast_pdf(monkeypatch):
    def fake(kind, context, **kw):
        return b"%PDF-1.7 fake " + render.render_html(kind, context, **kw).encode()[:64] + b"\n%%EOF\n"

    monkeypatch.setattr(render, "render_pdf", fake)


@pytest.fixture
def foreign(client, db):
    """A subject of office B with one of everything, made by the bureau."""
    a, b = f.office(db, code="A1"), f.office(db, code="B1")
    today = clock.today_local()
    s = f.subject(db, b, status="reported", correction_end_date=today + timedelta(days=200))
    bureau, bureau2 = f.staff(db, "bureau_officer"), f.staff(db, "bureau_officer")
    hb, hb2 = f.login(client, bureau.username), f.login(client, bureau2.username)
    sid = s.id

    def post(path, body, headers=hb, status=(200, 201)):
        r = client.post(f"/api/v1{path}", json=body, headers=headers)
        assert r.status_code in status, (path, r.text)
        return r.json()

    ids = {"sid": sid}
    client.put(f"/api/v1/subjects/{sid}/reception", json={"identity_verified": True}, headers=hb)
    ids["announcement"] = post(f"/subjects/{sid}/announcements", {"kind": "entry", "place": "宣告室", "present": ["王所长"]})
    ids["document"] = ids["announcement"]["documents"][0]["id"]
    ids["review"] = client.get(f"/api/v1/subjects/{sid}/level-reviews", headers=hb).json()[0]["id"]
    ids["plan"] = post(f"/subjects/{sid}/plans", {"circumstances": "初犯", "goals": "守法", "measures": "教育"})["id"]
    post(f"/subjects/{sid}/records", {"kind": "talk", "occurred_on": today.isoformat(), "summary": "谈话教育"})
    ids["leave"] = post(f"/subjects/{sid}/leave-requests", {"start": (today + timedelta(days=1)).isoformat(),
                                                            "end": (today + timedelta(days=2)).isoformat(),
                                                            "destination": "济南", "reason": "探亲访友"})["id"]
    ids["transfer"] = post(f"/subjects/{sid}/transfers", {"to_agency": "某区司法局", "to_address": "某地",
                                                          "reason": "迁居就业"})["id"]
    ids["sanction"] = post(f"/subjects/{sid}/sanctions", {"kind": "admonition", "reason": "迟到报告"})["id"]
    ids["proposal"] = post(f"/subjects/{sid}/proposals", {"kind": "police_penalty", "reason": "违反规定"})["id"]
    ids["assessment"] = post("/assessments", {"office_id": b.id, "person_name": "某人", "entrusting_organ": "某法院",
                                             "entrusted_on": today.isoformat(), "proposed_correction_type": "control",
                                             "crime": "盗窃罪"})["id"]
    ids["task"] = client.get("/api/v1/tasks", params={"subject_id": sid}, headers=hb).json()["items"][0]["id"]
    ids["a"] = a
    ids["hb2"] = hb2
    return ids


def routes(i: dict) -> list[tuple[str, str, dict | None]]:
    sid, today = i["sid"], clock.today_local().isoformat()
    return [
        ("get", f"/subjects/{sid}/reception", None),
        ("put", f"/subjects/{sid}/reception", {"identity_verified": True}),
        ("get", f"/subjects/{sid}/announcements", None),
        ("post", f"/subjects/{sid}/announcements", {"kind": "release", "place": "宣告室", "present": ["王所长"]}),
        ("post", f"/subjects/{sid}/termination", {"reason": "died"}),
        ("put", f"/subjects/{sid}/team", {"members": [{"name": "王五", "role": "司法所工作人员"}]}),
        ("get", f"/subjects/{sid}/plans", None),
        ("post", f"/subjects/{sid}/plans", {"circumstances": "初犯", "goals": "守法", "measures": "教育"}),
        ("post", f"/plans/{i['plan']}/reviews", {"findings": "良好"}),
        ("get", f"/subjects/{sid}/level-reviews", None),
        ("post", f"/subjects/{sid}/level-reviews", {}),
        ("post", f"/level-reviews/{i['review']}/decisions", {"decision": "confirm"}),
        ("get", f"/subjects/{sid}/records", None),
        ("post", f"/subjects/{sid}/records", {"kind": "talk", "occurred_on": today, "summary": "谈话教育"}),
        ("get", f"/subjects/{sid}/monthly-assessments", None),
        ("post", f"/subjects/{sid}/monthly-assessments", {"month": today[:7]}),
        ("get", f"/subjects/{sid}/leave-requests", None),
        ("post", f"/subjects/{sid}/leave-requests", {"start": today, "end": today, "destination": "济南",
                                                     "reason": "探亲访友"}),
        ("get", f"/subjects/{sid}/active-leaves", None),
        ("get", f"/leave-requests/{i['leave']}", None),
        ("post", f"/leave-requests/{i['leave']}/decisions", {"decision": "approve"}),
        ("post", f"/leave-requests/{i['leave']}/return", {}),
        ("get", f"/subjects/{sid}/transfers", None),
        ("post", f"/subjects/{sid}/transfers", {"to_agency": "某区司法局", "to_address": "某地", "reason": "迁居就业"}),
        ("post", f"/transfers/{i['transfer']}/consultation", {}),
        ("post", f"/transfers/{i['transfer']}/answer", {"answer": "agree"}),
        ("post", f"/transfers/{i['transfer']}/decision", {"decision": "reject"}),
        ("post", f"/transfers/{i['transfer']}/handover", {}),
        ("get", f"/subjects/{sid}/sanctions", None),
        ("post", f"/subjects/{sid}/sanctions", {"kind": "commendation", "reason": "表现良好"}),
        ("post", f"/sanctions/{i['sanction']}/decisions", {"decision": "approve"}),
        ("get", f"/subjects/{sid}/proposals", None),
        ("post", f"/subjects/{sid}/proposals", {"kind": "police_penalty", "reason": "违反规定"}),
        ("post", f"/subjects/{sid}/proposals/evaluate", {}),
        ("post", f"/proposals/{i['proposal']}/decisions", {"decision": "accept"}),
        ("post", f"/proposals/{i['proposal']}/sending", {}),
        ("post", f"/proposals/{i['proposal']}/outcome", {"outcome": "denied", "decided_on": today}),
        ("get", f"/subjects/{sid}/notifications", None),
        ("get", f"/subjects/{sid}/documents", None),
        ("get", f"/documents/{i['document']}", None),
        ("get", f"/subjects/{sid}/archive", None),
        ("get", f"/subjects/{sid}/timeline", None),
        ("get", f"/assessments/{i['assessment']}", None),
        ("post", f"/assessments/{i['assessment']}/findings", {"findings": "良好", "opinion": "suitable"}),
        ("post", f"/tasks/{i['task']}/done", {}),
    ]


def test_another_office_gets_404_on_every_route(client, db, foreign):
    officer = f.staff(db, "office_officer", foreign["a"])
    h = f.login(client, officer.username)
    for method, path, body in routes(foreign):
        kwargs = {"json": body} if body is not None else {}
        r = client.request(method.upper(), f"/api/v1{path}", headers=h, **kwargs)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        assert r.json()["message"] and not r.json()["message"].isascii()
    assert client.get("/api/v1/tasks", params={"subject_id": foreign["sid"]}, headers=h).json()["total"] == 0
    assert client.get("/api/v1/tasks", headers=h).json()["total"] == 0
    assert client.get("/api/v1/leave-requests", headers=h).json() == []
    assert client.get("/api/v1/assessments", headers=h).json() == []
    summary = client.get("/api/v1/tasks/summary", headers=h).json()
    assert summary["open"] == 0


@pytest.mark.parametrize("role", ["sysadmin", "auditor"])
def test_administrators_get_403(client, db, foreign, role):
    h = f.login(client, f.staff(db, role).username)
    for method, path, body in routes(foreign)[:12]:
        kwargs = {"json": body} if body is not None else {}
        r = client.request(method.upper(), f"/api/v1{path}", headers=h, **kwargs)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
    assert client.get("/api/v1/tasks", headers=h).status_code == 403


def test_operator_reads_but_cannot_write(client, db, foreign):
    h = f.login(client, f.staff(db, "operator").username)
    sid = foreign["sid"]
    assert client.get(f"/api/v1/subjects/{sid}/sanctions", headers=h).status_code == 200
    assert client.get("/api/v1/tasks", headers=h).json()["total"] > 0
    r = client.post(f"/api/v1/subjects/{sid}/records",
                    json={"kind": "talk", "occurred_on": clock.today_local().isoformat(), "summary": "谈话"}, headers=h)
    assert r.status_code == 403
    r = client.post(f"/api/v1/leave-requests/{foreign['leave']}/decisions", json={"decision": "approve"}, headers=h)
    assert r.status_code == 403


def test_writes_are_audited(client, db, foreign):
    ha = f.login(client, f.staff(db, "auditor").username)
    for table in ("receptions", "announcements", "documents", "level_reviews", "correction_plans", "daily_records",
                  "leave_requests", "transfers", "sanctions", "proposals", "pre_sentence_assessments", "tasks"):
        events = client.get("/api/v1/audit-events", params={"object_type": table}, headers=ha).json()["items"]
        assert any(e["action"] == "create" and e["actor_name"].startswith("bureau_officer") for e in events), table
    # the level confirmed later shows as a change of the subject, with before and after
    hb2 = foreign["hb2"]
    client.post(f"/api/v1/level-reviews/{foreign['review']}/decisions", json={"decision": "confirm"}, headers=hb2)
    events = client.get("/api/v1/audit-events", params={"object_type": "subjects", "object_id": str(foreign["sid"])},
                        headers=ha).json()["items"]
    assert any(e["action"] == "update" and e["changes"].get("supervision_level") == ["ordinary", "strict"]
               for e in events)
