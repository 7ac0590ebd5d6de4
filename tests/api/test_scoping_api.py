"""Jurisdiction: an office officer never reaches another office's subject (404, never listed)."""

from __future__ import annotations

import pytest

import factories as f


@pytest.fixture
def world(db):
    a = f.office(db, code="A1")
    b = f.office(db, code="B1")
    return {
        "a": a, "b": b,
        "officer_a": f.staff(db, "office_officer", a),
        "subject_b": f.subject(db, b, name="外所对象"),
        "subject_a": f.subject(db, a, name="本所对象"),
    }


def test_office_officer_cannot_touch_other_office(client, world):
    h = f.login(client, world["officer_a"].username)
    sid = world["subject_b"].id
    assert client.get(f"/api/v1/subjects/{sid}", headers=h).status_code == 404
    assert client.patch(f"/api/v1/subjects/{sid}", json={"crime": "盗窃罪"}, headers=h).status_code == 404
    r = client.post(f"/api/v1/subjects/{sid}/transitions", json={"to": "reported"}, headers=h)
    assert r.status_code == 404
    names = [i["name"] for i in client.get("/api/v1/subjects", headers=h).json()["items"]]
    assert names == ["本所对象"]
    assert client.get("/api/v1/subjects", params={"q": "外所"}, headers=h).json()["total"] == 0
    assert client.get("/api/v1/subjects", params={"office": "B1"}, headers=h).json()["total"] == 0
    assert client.get(f"/api/v1/subjects/{world['subject_a'].id}", headers=h).status_code == 200


def test_office_officer_cannot_create_in_other_office(client, world):
    h = f.login(client, world["officer_a"].username)
    r = client.post("/api/v1/subjects", json=f.subject_payload(office_id=world["b"].id), headers=h)
    assert r.status_code == 403


@pytest.mark.parametrize("role", ["sysadmin", "secadmin", "auditor", "kiosk"])
def test_administrators_see_no_case_file(client, db, world, role):
    admin = f.staff(db, role)
    h = f.login(client, admin.username)
    assert client.get("/api/v1/subjects", headers=h).status_code == 403
    assert client.get(f"/api/v1/subjects/{world['subject_a'].id}", headers=h).status_code == 403
    assert client.post("/api/v1/subjects", json=f.subject_payload(office_id=world["a"].id), headers=h).status_code == 403


@pytest.mark.parametrize("role", ["bureau_officer", "operator", "leader"])
def test_district_roles_see_every_office(client, db, world, role):
    h = f.login(client, f.staff(db, role).username)
    assert client.get("/api/v1/subjects", headers=h).json()["total"] == 2


def test_operator_and_leader_cannot_write(client, db, world):
    for role in ("operator", "leader"):
        h = f.login(client, f.staff(db, role).username)
        r = client.patch(f"/api/v1/subjects/{world['subject_a'].id}", json={"crime": "诈骗罪"}, headers=h)
        assert r.status_code == 403


def test_scoping_applies_to_service_queries_without_routes(db, world):
    """The ORM listener, not the routes, filters: a raw select as office A sees only A's rows."""
    from sqlalchemy import select

    from zhijiao.security.actor import Actor
    from zhijiao.security.scoping import ScopeMissing
    from zhijiao.subjects.models import Subject, SubjectTransition

    officer = world["officer_a"]
    db.info["actor"] = Actor(kind="staff", username="x", staff_id=officer.id, role="office_officer",
                             office_id=world["a"].id)
    db.expunge_all()
    assert [s.name for s in db.execute(select(Subject)).scalars()] == ["本所对象"]
    assert db.execute(select(SubjectTransition)).all() == []
    db.info.pop("actor")
    with pytest.raises(ScopeMissing):
        db.execute(select(Subject)).all()
