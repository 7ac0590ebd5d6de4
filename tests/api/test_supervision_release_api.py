"""Release (Law Art. 44) with its documents and notices, and the change of the place of execution."""

from __future__ import annotations

from datetime import timedelta

import pytest

import factories as f
from zhijiao.core import clock
from zhijiao.documents import render


@pytest.fixture(autouse=True)
def fast_pdf(monkeypatch):
    """Validate each document's context with the real template, skip WeasyPrint (tested elsewhere)."""
    def fake(kind, context, **kw):
        return b"%PDF-1.7 fake " + render.render_html(kind, context, **kw).encode()[:64] + b"\n%%EOF\n"

    monkeypatch.setattr(render, "render_pdf", fake)


@pytest.fixture
def world(db):
    a = f.office(db, code="A1")
    today = clock.today_local()
    return {
        "a": a,
        "officer": f.staff(db, "office_officer", a),
        "bureau": f.staff(db, "bureau_officer"),
        "due": f.subject(db, a, name="期满者", status="under_correction",
                         correction_start_date=today - timedelta(days=365), correction_end_date=today),
        "running": f.subject(db, a, name="在矫者", status="under_correction",
                             correction_start_date=today - timedelta(days=30),
                             correction_end_date=today + timedelta(days=200)),
    }


RELEASE = {"kind": "release", "place": "司法所宣告室", "present": ["王所长", "村委会主任"],
           "performance": "矫正期间遵纪守法，表现良好"}


def test_release_on_the_last_day_with_documents_and_notices(client, world):
    h = f.login(client, world["officer"].username)
    sid = world["due"].id
    r = client.post(f"/api/v1/subjects/{sid}/announcements", json=RELEASE, headers=h)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["subject_status"] == "released" and out["reason"] == "term_completed"
    assert [d["kind"] for d in out["documents"]] == ["release_announcement", "release_certificate"]
    assert {n["body"] for n in out["notifications"]} == {"subject", "deciding_organ", "procuratorate",
                                                         "public_security"}
    assert all(n["ours"] and n["status"] == "pending" for n in out["notifications"])
    subject = client.get(f"/api/v1/subjects/{sid}", headers=h).json()
    assert subject["status"] == "released" and subject["transitions"][-1]["to_status"] == "released"
    nid = out["notifications"][0]["id"]
    r = client.post(f"/api/v1/notifications/{nid}/done", json={"note": "已当面送达"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "done" and r.json()["done_by"] == world["officer"].username
    assert client.post(f"/api/v1/notifications/{nid}/done", json={}, headers=h).status_code == 409
    r = client.post(f"/api/v1/subjects/{sid}/announcements", json=RELEASE, headers=h)
    assert r.status_code == 409


def test_release_before_the_term_ends_is_refused_unless_pardoned(client, world):
    h = f.login(client, world["officer"].username)
    sid = world["running"].id
    r = client.post(f"/api/v1/subjects/{sid}/announcements", json=RELEASE, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "release_not_due"
    assert client.get(f"/api/v1/subjects/{sid}/documents", headers=h).json() == []
    r = client.post(f"/api/v1/subjects/{sid}/announcements", json={**RELEASE, "reason": "pardoned"}, headers=h)
    assert r.status_code == 201 and r.json()["reason"] == "pardoned" and r.json()["subject_status"] == "released"


def test_release_needs_correction(client, db, world):
    h = f.login(client, world["officer"].username)
    pending = f.subject(db, world["a"], name="待接收", correction_end_date=clock.today_local())
    r = client.post(f"/api/v1/subjects/{pending.id}/announcements", json=RELEASE, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"


def test_death_terminates_with_notices(client, world):
    h = f.login(client, world["officer"].username)
    r = client.post(f"/api/v1/subjects/{world['running'].id}/termination", json={"reason": "died"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "terminated"
    assert len(r.json()["notifications"]) == 4
    listed = client.get(f"/api/v1/subjects/{world['running'].id}/notifications", headers=h).json()
    assert {n["event"] for n in listed} == {"termination"}
    r = client.post(f"/api/v1/subjects/{world['running'].id}/termination", json={"reason": "died"}, headers=h)
    assert r.status_code == 409


def test_transfer_consult_answer_decide_hand_over(client, world):
    h, hb = f.login(client, world["officer"].username), f.login(client, world["bureau"].username)
    sid = world["running"].id
    r = client.post(f"/api/v1/subjects/{sid}/transfers", json={
        "to_agency": "济南市历下区司法局", "to_address": "济南市历下区某小区", "reason": "随配偶工作调动迁居"}, headers=h)
    assert r.status_code == 201 and r.json()["status"] == "applied"
    tid = r.json()["id"]
    assert client.post(f"/api/v1/subjects/{sid}/transfers", json={
        "to_agency": "济南市历下区司法局", "to_address": "某地", "reason": "重复申请"}, headers=h).status_code == 409
    r = client.post(f"/api/v1/transfers/{tid}/answer", json={"answer": "agree"}, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "transfer_state"
    today = clock.today_local()
    r = client.post(f"/api/v1/transfers/{tid}/consultation", json={"sent_on": today.isoformat()}, headers=h)
    assert r.json()["status"] == "consulting" and r.json()["consult_deadline"] == (today + timedelta(days=5)).isoformat()
    assert client.get("/api/v1/tasks", params={"kind": "transfer_consult"}, headers=h).json()["total"] == 1
    r = client.post(f"/api/v1/transfers/{tid}/decision", json={"decision": "approve"}, headers=hb)
    assert r.status_code == 409 and r.json()["code"] == "transfer_not_agreed"
    r = client.post(f"/api/v1/transfers/{tid}/answer", json={"answer": "agree", "note": "同意接收"}, headers=h)
    assert r.json()["status"] == "answered"
    r = client.post(f"/api/v1/transfers/{tid}/decision", json={"decision": "approve"}, headers=h)
    assert r.status_code == 403 and r.json()["code"] == "bureau_decides"
    r = client.post(f"/api/v1/transfers/{tid}/decision", json={"decision": "approve"}, headers=hb)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "approved" and out["report_deadline"] == (today + timedelta(days=7)).isoformat()
    assert {(n["body"], n["ours"]) for n in out["notifications"]} == {
        ("deciding_organ", True), ("new_bureau", True), ("procuratorate", False), ("public_security", False)}
    kinds = {t["kind"] for t in client.get("/api/v1/tasks", params={"subject_id": sid}, headers=h).json()["items"]}
    assert {"transfer_handover", "transfer_report"} <= kinds and "transfer_consult" not in kinds
    r = client.post(f"/api/v1/transfers/{tid}/handover",
                    json={"handed_over_on": today.isoformat(), "new_place_reported_on": today.isoformat()}, headers=h)
    assert r.json()["status"] == "completed"
    assert client.get(f"/api/v1/subjects/{sid}/transfers", headers=h).json()[0]["handed_over_on"] == today.isoformat()


def test_timeline_shows_every_event_with_its_documents(client, world):
    h = f.login(client, world["officer"].username)
    sid = world["due"].id
    client.post(f"/api/v1/subjects/{sid}/records", json={
        "kind": "report", "channel": "in_person", "occurred_on": clock.today_local().isoformat(),
        "summary": "最后一次当面报告"}, headers=h)
    client.post(f"/api/v1/subjects/{sid}/sanctions", json={"kind": "commendation", "reason": "表现良好"}, headers=h)
    out = client.post(f"/api/v1/subjects/{sid}/announcements", json=RELEASE, headers=h).json()
    entries = client.get(f"/api/v1/subjects/{sid}/timeline", headers=h).json()
    kinds = [e["kind"] for e in entries]
    assert {"report", "sanction", "announcement_release", "transition"} <= set(kinds)
    release = next(e for e in entries if e["kind"] == "announcement_release")
    assert release["document_ids"] == [d["id"] for d in out["documents"]]
    assert next(e for e in entries if e["kind"] == "report")["label"] == "当面报告"
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
