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
