"""Issue 20 item 9 through the API, on SQLite and PostgreSQL: input and integrity findings.

The protocol cases (future-dated fixes, JT/T 808 auth guessing) are in
tests/integration/ingestion/test_security_findings_ingestion.py.
"""

from __future__ import annotations

import factories as f
from zhijiao.core import clock
from zhijiao.monitoring import alarms
from zhijiao.security.actor import Actor


def _alarm(db, office):
    subject = f.subject(db, office, status="under_correction")
    db.info["actor"] = Actor.system("test")
    return alarms.raise_alarm(db_session=db, subject_id=subject.id, type="sos", at=clock.now())


def test_dispatch_to_a_missing_staff_is_a_chinese_4xx(client, db):
    office = f.office(db)
    alarm = _alarm(db, office)
    op = f.login(client, f.staff(db, "operator").username)
    r = client.post(f"/api/v1/alarms/{alarm.id}/actions", json={"action": "dispatch", "dispatch_to": 999999},
                    headers=op)
    assert r.status_code == 422 and r.json()["code"] == "staff_not_found", r.text
    assert "不存在" in r.json()["message"]


def test_dispatch_only_to_a_field_officer_of_the_subjects_office(client, db):
    office, other = f.office(db), f.office(db)
    alarm = _alarm(db, office)
    op = f.login(client, f.staff(db, "operator").username)
    url = f"/api/v1/alarms/{alarm.id}/actions"
    for role in ("sysadmin", "secadmin", "auditor", "operator"):
        target = f.staff(db, role, office if role == "operator" else None)
        r = client.post(url, json={"action": "dispatch", "dispatch_to": target.id}, headers=op)
        assert r.status_code == 422 and r.json()["code"] == "staff_not_field_officer", (role, r.text)
    elsewhere = f.staff(db, "office_officer", other)
    r = client.post(url, json={"action": "dispatch", "dispatch_to": elsewhere.id}, headers=op)
    assert r.status_code == 422 and r.json()["code"] == "staff_other_office"
    officer = f.staff(db, "office_officer", office)
    r = client.post(url, json={"action": "dispatch", "dispatch_to": officer.id}, headers=op)
    assert r.status_code == 200, r.text


def test_responsible_staff_must_be_a_field_officer_of_the_office(client, db):
    office = f.office(db)
    h = f.login(client, f.staff(db, "bureau_officer").username)
    admin = f.staff(db, "sysadmin")
    payload = f.subject_payload(office_id=office.id, responsible_staff_id=admin.id)
    r = client.post("/api/v1/subjects", json=payload, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "staff_not_field_officer", r.text
    officer = f.staff(db, "office_officer", office)
    r = client.post("/api/v1/subjects", json={**payload, "responsible_staff_id": officer.id}, headers=h)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    r = client.patch(f"/api/v1/subjects/{sid}", json={"responsible_staff_id": admin.id}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "staff_not_field_officer", r.text


# --- is_minor: derived from the dates; only the leader overrides it, on the record -------------------

def _minor_payload(office, officer, **kw):
    from datetime import timedelta

    birth = clock.today_local() - timedelta(days=16 * 365)
    return f.subject_payload(office_id=office.id, responsible_staff_id=officer.id, id_number=f.id_number(birth=birth),
                             **kw)


def test_is_minor_is_derived_and_no_writer_can_clear_it(client, db):
    office = f.office(db)
    officer = f.staff(db, "office_officer", office)
    h = f.login(client, officer.username)
    r = client.post("/api/v1/subjects", json=_minor_payload(office, officer, is_minor=False), headers=h)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["is_minor"] is True  # the flag sent is not taken
    r = client.patch(f"/api/v1/subjects/{sid}", json={"is_minor": False}, headers=h)
    assert r.status_code == 200 and r.json()["is_minor"] is True
    # an adult stays an adult whatever the writer sends
    adult = client.post("/api/v1/subjects", json=f.subject_payload(office_id=office.id, is_minor=True), headers=h)
    assert adult.status_code == 201 and adult.json()["is_minor"] is False
    # a colleague of the same office still does not see the minor's file
    colleague = f.login(client, f.staff(db, "office_officer", office).username)
    assert client.get(f"/api/v1/subjects/{sid}", headers=colleague).status_code == 404


def test_minor_override_only_by_the_leader_with_a_reason_and_audited(client, db):
    from sqlalchemy import text

    office = f.office(db)
    officer = f.staff(db, "office_officer", office)
    h = f.login(client, officer.username)
    sid = client.post("/api/v1/subjects", json=_minor_payload(office, officer), headers=h).json()["id"]
    url = f"/api/v1/subjects/{sid}/minor-override"
    body = {"is_minor": False, "reason": "户籍核实出生日期有误，已满十八周岁"}
    for role in ("office_officer", "bureau_officer", "operator", "sysadmin"):
        who = f.staff(db, role, office if role == "office_officer" else None)
        r = client.post(url, json=body, headers=f.login(client, who.username))
        assert r.status_code == 403, (role, r.text)
    leader = f.login(client, f.staff(db, "leader").username)
    assert client.post(url, json={"is_minor": False, "reason": ""}, headers=leader).status_code == 422
    r = client.post(url, json=body, headers=leader)
    assert r.status_code == 200, r.text
    assert r.json()["is_minor"] is False and r.json()["minor_override"] is False and r.json()["by"]
    db.rollback()
    rows = db.execute(text("SELECT action, changes FROM audit_events WHERE object_type = 'subjects' "
                           "AND object_id = :i"), {"i": str(sid)}).all()
    import json

    details = [json.loads(c) if isinstance(c, str) else c for a, c in rows if a == "minor_override"]
    assert details and "户籍核实" in details[0]["reason"], rows
    # back to the dates
    r = client.post(url, json={"is_minor": None, "reason": "撤销更正，按日期确定"}, headers=leader)
    assert r.status_code == 200 and r.json()["is_minor"] is True and r.json()["minor_override"] is None


# --- the kiosk does not tell a known ID number from an unknown one ----------------------------------

def test_kiosk_answers_alike_for_known_and_unknown_id_numbers(client, db):
    import statistics
    import time

    import pytest

    ck = pytest.importorskip("test_checkins_api")  # its face images (scikit-image)
    office = f.office(db)
    officer = f.staff(db, "office_officer", office)
    enrolled = f.subject(db, office, status="under_correction")
    no_face = f.subject(db, office, status="under_correction")
    h = f.login(client, officer.username)
    r = client.post(f"/api/v1/subjects/{enrolled.id}/face", files={"image": ("a.jpg", ck.jpeg(ck.HEAD), "image/jpeg")},
                    headers=h)
    assert r.status_code == 201, r.text
    ck._only_turn_right(client, db)
    kiosk = f.login(client, f.staff(db, "kiosk").username)
    impostor = [ck.other_person()] * 3

    def attempt(number: str) -> tuple[dict, float]:
        nonce = ck._challenge(client, kiosk)
        started = time.perf_counter()
        r = client.post("/api/v1/checkins", headers=kiosk, files=ck._files(impostor),
                        data={"source": "kiosk", "id_number": number, "nonce": nonce})
        took = time.perf_counter() - started
        assert r.status_code == 201, r.text
        body = r.json()
        body.pop("id")
        return body, took

    unknown_number = f.id_number()
    answers, times = {}, {}
    for label, number in (("known", enrolled.id_number), ("no_face", no_face.id_number),
                          ("unknown", unknown_number)):
        runs = [attempt(number) for _ in range(3)]
        answers[label] = runs[0][0]
        times[label] = statistics.median(t for _, t in runs)
    assert answers["known"] == answers["unknown"] == answers["no_face"], answers
    assert answers["unknown"]["code"] == "face_mismatch" and answers["unknown"]["score"] is None
    # similar time: the unknown number does the same work (face analysis, comparison, liveness)
    print("kiosk timings (s):", {k: round(v, 3) for k, v in times.items()})
    assert times["unknown"] > 0.5 * times["known"], times
    # the office still sees the real reason on the record
    rows = client.get(f"/api/v1/subjects/{enrolled.id}/checkins", headers=h)
    if rows.status_code == 200 and rows.json():
        assert rows.json()[0]["code"] == "face_mismatch"
