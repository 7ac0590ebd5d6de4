"""Minors (社区矫正法 第五十二至五十八条): visible only to the assigned officer, sealed after release."""

from __future__ import annotations

import factories as f
from zhijiao.core import clock
from zhijiao.monitoring import alarms
from zhijiao.security.actor import Actor


def test_minor_file_visible_only_to_assigned_officer(client, db):
    office = f.office(db)
    assigned = f.staff(db, "office_officer", office)
    colleague = f.staff(db, "office_officer", office)
    bureau = f.staff(db, "bureau_officer")
    minor = f.subject(db, office, name="少年甲", is_minor=True, responsible_staff_id=assigned.id,
                      status="under_correction")
    adult = f.subject(db, office, name="成年乙")
    ha = f.login(client, assigned.username)
    assert client.get(f"/api/v1/subjects/{minor.id}", headers=ha).status_code == 200
    listed = client.get("/api/v1/subjects", headers=ha).json()
    assert {i["name"] for i in listed["items"]} == {"少某", "成年乙"}  # masked even for the assigned officer
    for other in (colleague, bureau):
        h = f.login(client, other.username)
        assert client.get(f"/api/v1/subjects/{minor.id}", headers=h).status_code == 404
        assert [i["id"] for i in client.get("/api/v1/subjects", headers=h).json()["items"]] == [adult.id]
    # sealed after release, even for the assigned officer
    minor.status = "released"
    db.commit()
    assert client.get(f"/api/v1/subjects/{minor.id}", headers=ha).status_code == 404


def test_minor_alarms_hidden_from_district_roles(client, db):
    office = f.office(db)
    assigned = f.staff(db, "office_officer", office)
    minor = f.subject(db, office, is_minor=True, responsible_staff_id=assigned.id, status="under_correction")
    db.info["actor"] = Actor.system("test")
    alarms.raise_alarm(db_session=db, subject_id=minor.id, type="sos", at=clock.now())
    op = f.login(client, f.staff(db, "operator").username)
    assert client.get("/api/v1/alarms", headers=op).json()["total"] == 0
    assert client.get("/api/v1/alarms", headers=f.login(client, assigned.username)).json()["total"] == 1


def test_operator_takes_a_minors_alarm_without_the_file(client, db):
    """A minor's SOS must not go unanswered: the center acknowledges and dispatches it; the
    assigned officer, who may see the file, verifies and closes it (Art. 54)."""

    office = f.office(db)
    assigned = f.staff(db, "office_officer", office)
    colleague = f.staff(db, "office_officer", office)
    minor = f.subject(db, office, is_minor=True, responsible_staff_id=assigned.id, status="under_correction")
    adult_elsewhere = f.subject(db, f.office(db), status="under_correction")
    db.info["actor"] = Actor.system("test")
    alarm = alarms.raise_alarm(db_session=db, subject_id=minor.id, type="sos", at=clock.now())
    other = alarms.raise_alarm(db_session=db, subject_id=adult_elsewhere.id, type="sos", at=clock.now())
    op = f.login(client, f.staff(db, "operator").username)
    url = f"/api/v1/alarms/{alarm.id}/actions"
    r = client.post(url, json={"action": "verify", "verdict": "false_alarm", "note": "x"}, headers=op)
    assert r.status_code == 403 and r.json()["code"] == "minor_alarm_restricted"
    assert client.post(url, json={"action": "acknowledge"}, headers=op).status_code == 200
    r = client.post(url, json={"action": "dispatch", "dispatch_to": assigned.id}, headers=op)
    assert r.status_code == 200, r.text
    h_colleague = f.login(client, colleague.username)  # same office, not assigned: nothing at all
    assert client.post(url, json={"action": "acknowledge"}, headers=h_colleague).status_code == 404
    ha = f.login(client, assigned.username)
    assert client.post(url, json={"action": "verify", "verdict": "confirmed", "note": "已电话联系，系误触"},
                       headers=ha).status_code == 200
    assert client.post(url, json={"action": "close"}, headers=ha).status_code == 200
    # the office officer of another office still cannot touch an adult's alarm elsewhere
    assert client.post(f"/api/v1/alarms/{other.id}/actions", json={"action": "acknowledge"},
                       headers=ha).status_code == 404
