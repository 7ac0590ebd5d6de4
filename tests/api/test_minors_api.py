"""Minors (社区矫正法 第五十二至五十八条): visible only to the assigned officer, sealed after release."""

from __future__ import annotations

import factories as f


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
    from zhijiao.core import clock
    from zhijiao.monitoring import alarms
    from zhijiao.security.actor import Actor

    office = f.office(db)
    assigned = f.staff(db, "office_officer", office)
    minor = f.subject(db, office, is_minor=True, responsible_staff_id=assigned.id, status="under_correction")
    db.info["actor"] = Actor.system("test")
    alarms.raise_alarm(db_session=db, subject_id=minor.id, type="sos", at=clock.now())
    op = f.login(client, f.staff(db, "operator").username)
    assert client.get("/api/v1/alarms", headers=op).json()["total"] == 0
    assert client.get("/api/v1/alarms", headers=f.login(client, assigned.username)).json()["total"] == 1
