"""Rewards, punishments and proposals (Law Arts. 28, 33, 45–49) through the API: who decides,
escalation, and the court's 30-day clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

import factories as f
from zhijiao.core import clock
from zhijiao.documents import render
from zhijiao.supervision import scheduled


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
        "bureau2": f.staff(db, "bureau_officer"),
        "subject": f.subject(db, a, status="under_correction", correction_start_date=today - timedelta(days=100),
                             correction_end_date=today + timedelta(days=300)),
    }


def _sanction(client, sid, kind, h, reason="未按规定时间报到"):
    r = client.post(f"/api/v1/subjects/{sid}/sanctions", json={"kind": kind, "reason": reason}, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def test_office_proposes_bureau_decides_warning(client, world):
    ho, hb = f.login(client, world["officer"].username), f.login(client, world["bureau"].username)
    sid = world["subject"].id
    body = _sanction(client, sid, "warning", ho, "脱离监管十二日")
    assert body["status"] == "pending" and body["documents"] == [] and body["label"] == "警告"
    assert "第三十六条" in body["basis"]
    tasks = client.get("/api/v1/tasks", params={"kind": "sanction_decision"}, headers=hb).json()
    assert tasks["total"] == 1 and tasks["items"][0]["assignee_id"] is None
    r = client.post(f"/api/v1/sanctions/{body['id']}/decisions", json={"decision": "approve"}, headers=ho)
    assert r.status_code == 403 and r.json()["code"] == "bureau_decides"
    r = client.post(f"/api/v1/sanctions/{body['id']}/decisions", json={"decision": "reject"}, headers=hb)
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    r = client.post(f"/api/v1/sanctions/{body['id']}/decisions", json={"decision": "approve", "note": "经核实属实"},
                    headers=hb)
    assert r.status_code == 200, r.text
    decided = r.json()
    assert decided["status"] == "decided" and decided["decided_by"] == world["bureau"].username
    assert [d["kind"] for d in decided["documents"]] == ["warning_decision"]
    assert decided["documents"][0]["number"].startswith("临司矫警〔")
    assert client.get("/api/v1/tasks", params={"kind": "sanction_decision"}, headers=hb).json()["total"] == 0
    r = client.post(f"/api/v1/sanctions/{body['id']}/decisions", json={"decision": "approve"}, headers=hb)
    assert r.status_code == 409


def test_commendation_by_the_bureau_is_decided_at_once(client, world):
    hb = f.login(client, world["bureau"].username)
    body = _sanction(client, world["subject"].id, "commendation", hb, "见义勇为，协助抓获盗窃嫌疑人")
    assert body["status"] == "decided" and body["documents"] == []
    listed = client.get(f"/api/v1/subjects/{world['subject'].id}/sanctions", headers=hb).json()
    assert [s["kind"] for s in listed] == ["commendation"]


def test_revocation_cannot_be_decided_inside_the_bureau(client, world):
    hb = f.login(client, world["bureau"].username)
    r = client.post(f"/api/v1/subjects/{world['subject'].id}/sanctions",
                    json={"kind": "revoke_probation", "reason": "两次警告仍不改正"}, headers=hb)
    assert r.status_code == 409 and r.json()["code"] == "decided_externally"
    assert "人民法院" in r.json()["message"]
    r = client.post(f"/api/v1/subjects/{world['subject'].id}/sanctions",
                    json={"kind": "detention", "reason": "两次警告仍不改正"}, headers=hb)
    assert r.status_code == 422


def test_two_admonitions_suggest_a_warning(client, world):
    ho, hb = f.login(client, world["officer"].username), f.login(client, world["bureau"].username)
    sid = world["subject"].id
    first = _sanction(client, sid, "admonition", hb)
    assert first["suggestions"] == [] and first["documents"][0]["kind"] == "admonition_decision"
    second = _sanction(client, sid, "admonition", hb, "未经批准离开居住地")
    assert [(p["kind"], p["status"], p["source"]) for p in second["suggestions"]] == [("warning", "suggested", "escalation")]
    proposal = second["suggestions"][0]
    assert proposal["reason"] == "受到2次训诫仍不改正" and proposal["decider"] == "bureau"
    # the office officer accepts: the warning becomes the office's proposal for the bureau
    r = client.post(f"/api/v1/proposals/{proposal['id']}/decisions", json={"decision": "accept"}, headers=ho)
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    sanction_id = r.json()["sanction_id"]
    sanctions = {s["id"]: s for s in client.get(f"/api/v1/subjects/{sid}/sanctions", headers=ho).json()}
    assert sanctions[sanction_id]["status"] == "pending" and sanctions[sanction_id]["proposal_id"] == proposal["id"]
    r = client.post(f"/api/v1/sanctions/{sanction_id}/decisions", json={"decision": "approve"}, headers=hb)
    assert r.json()["status"] == "decided" and r.json()["documents"][0]["kind"] == "warning_decision"
    # deciding it again suggests nothing new: the same reason is never suggested twice
    kinds = [p["kind"] for p in client.get(f"/api/v1/subjects/{sid}/proposals", headers=hb).json()]
    assert kinds == ["warning"]


def test_two_warnings_lead_to_a_revocation_proposal_and_the_court_clock(client, db, world):
    ho, hb, hb2 = (f.login(client, world[k].username) for k in ("officer", "bureau", "bureau2"))
    sid = world["subject"].id
    _sanction(client, sid, "warning", hb, "脱离监管十二日")
    second = _sanction(client, sid, "warning", hb, "违反禁止令进入娱乐场所")
    [proposal] = second["suggestions"]
    assert proposal["kind"] == "revoke_probation" and proposal["decider"] == "court"
    assert proposal["decider_label"] == "人民法院"
    pid = proposal["id"]
    # illegal moves: a 司法所 cannot accept a proposal to the court; nobody here grants it
    r = client.post(f"/api/v1/proposals/{pid}/decisions", json={"decision": "accept"}, headers=ho)
    assert r.status_code == 403 and r.json()["code"] == "bureau_decides"
    r = client.post(f"/api/v1/proposals/{pid}/decisions", json={"decision": "grant"}, headers=hb)
    assert r.status_code == 409 and r.json()["code"] == "decided_externally"
    assert "人民法院" in r.json()["message"]
    r = client.post(f"/api/v1/proposals/{pid}/sending", json={}, headers=hb)
    assert r.status_code == 409  # not accepted yet
    r = client.post(f"/api/v1/proposals/{pid}/decisions", json={"decision": "accept", "note": "经集体讨论"}, headers=hb)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"
    assert [d["kind"] for d in r.json()["documents"]] == ["revocation_proposal"]

    today = clock.today_local()
    r = client.post(f"/api/v1/proposals/{pid}/sending", json={"sent_on": today.isoformat()}, headers=hb2)
    assert r.status_code == 200 and r.json()["status"] == "sent"
    assert r.json()["answer_due"] == (today + timedelta(days=30)).isoformat()
    assert r.json()["recipient"] == world["subject"].deciding_organ
    court = client.get("/api/v1/tasks", params={"kind": "court_answer"}, headers=hb).json()
    assert court["items"][0]["due_on"] == (today + timedelta(days=30)).isoformat()

    with clock.frozen(clock.now() + timedelta(days=31)):
        assert scheduled.scan(db_session=db)["court_answer_overdue"] == 1
        hb_later = client.post("/api/v1/auth/token", data={"username": world["bureau"].username, "password": f.PASSWORD,
                                                           "otp": f.otp(world["bureau"].username)}).json()
        h_later = {"Authorization": f"Bearer {hb_later['access_token']}"}
        listed = client.get(f"/api/v1/subjects/{sid}/proposals", headers=h_later).json()
        assert listed[-1]["answer_overdue"] is True
        overdue = client.get("/api/v1/tasks", params={"overdue": True}, headers=h_later).json()
        assert "court_answer" in {t["kind"] for t in overdue["items"]} and overdue["counts"]["overdue"] >= 1

    r = client.post(f"/api/v1/proposals/{pid}/outcome", json={"outcome": "granted", "decided_on": today.isoformat(),
                                                             "ruling_number": "（2026）鲁0305刑更12号"}, headers=hb)
    assert r.status_code == 200 and r.json()["status"] == "court_decided" and r.json()["outcome"] == "granted"
    follow = client.get("/api/v1/tasks", params={"kind": "termination_followup"}, headers=hb).json()
    assert follow["total"] == 1
    # the court revoked probation: correction terminates, with the notices of Law Art. 48
    r = client.post(f"/api/v1/subjects/{sid}/termination",
                    json={"reason": "revoked_parole", "proposal_id": pid}, headers=hb)
    assert r.status_code == 409  # a probationer's probation, not parole
    r = client.post(f"/api/v1/subjects/{sid}/termination", json={"reason": "revoked_probation", "proposal_id": pid,
                                                                  "decided_on": today.isoformat()}, headers=hb)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "terminated" and out["termination_reason"] == "revoked_probation"
    assert "第四十八条" in out["basis"] or "第四十六条" in out["basis"]
    bodies = {(n["body"], n["ours"]) for n in out["notifications"]}
    assert ("public_security", True) in bodies and ("bureau", False) in bodies
    assert client.get("/api/v1/tasks", params={"subject_id": sid}, headers=hb).json()["total"] == 0
    r = client.post(f"/api/v1/subjects/{sid}/sanctions", json={"kind": "warning", "reason": "终止后不能再处理"}, headers=hb)
    assert r.status_code == 409 and r.json()["code"] == "subject_closed"


def test_manual_proposals_and_rejection(client, world):
    ho, hb, hb2 = (f.login(client, world[k].username) for k in ("officer", "bureau", "bureau2"))
    sid = world["subject"].id
    r = client.post(f"/api/v1/subjects/{sid}/proposals", json={"kind": "revoke_parole", "reason": "不适用"}, headers=ho)
    assert r.status_code == 409 and r.json()["code"] == "proposal_kind_mismatch"
    r = client.post(f"/api/v1/subjects/{sid}/proposals",
                    json={"kind": "sentence_reduction", "reason": "有重大立功表现"}, headers=hb)
    assert r.status_code == 201 and r.json()["decider"] == "court" and r.json()["status"] == "suggested"
    pid = r.json()["id"]
    r = client.post(f"/api/v1/proposals/{pid}/decisions", json={"decision": "accept"}, headers=hb)
    assert r.status_code == 403 and r.json()["code"] == "self_approval"
    r = client.post(f"/api/v1/proposals/{pid}/decisions", json={"decision": "reject"}, headers=hb2)
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    r = client.post(f"/api/v1/proposals/{pid}/decisions", json={"decision": "reject", "note": "立功material不足"}, headers=hb2)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    police = client.post(f"/api/v1/subjects/{sid}/proposals",
                         json={"kind": "police_penalty", "reason": "违反监督管理规定"}, headers=ho).json()
    assert police["decider"] == "public_security"
    client.post(f"/api/v1/proposals/{police['id']}/decisions", json={"decision": "accept"}, headers=hb)
    r = client.post(f"/api/v1/proposals/{police['id']}/sending", json={}, headers=hb)
    assert r.status_code == 200 and r.json()["answer_due"] is None and r.json()["recipient"] == "执行地公安机关"


def test_absconding_is_evaluated_on_verified_facts(client, world):
    hb = f.login(client, world["bureau"].username)
    sid = world["subject"].id
    today = clock.today_local()
    r = client.post(f"/api/v1/subjects/{sid}/proposals/evaluate",
                    json={"absconded_from": (today - timedelta(days=12)).isoformat()}, headers=hb)
    assert r.status_code == 200 and [(p["kind"], p["reason"]) for p in r.json()] == [("warning", "脱离监管超过10日（12日）")]
    r = client.post(f"/api/v1/subjects/{sid}/proposals/evaluate",
                    json={"absconded_from": (today - timedelta(days=40)).isoformat()}, headers=hb)
    assert [p["kind"] for p in r.json()] == ["revoke_probation"]
    r = client.post(f"/api/v1/subjects/{sid}/proposals/evaluate",
                    json={"absconded_from": (today - timedelta(days=40)).isoformat()}, headers=hb)
    assert r.json() == []  # already suggested
    r = client.post(f"/api/v1/subjects/{sid}/proposals/evaluate",
                    json={"absconded_until": today.isoformat()}, headers=hb)
    assert r.status_code == 422 and r.json()["code"] == "abscond_from_required"
