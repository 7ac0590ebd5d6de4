"""Lifecycle transitions through the API: legal steps recorded, illegal ones 409."""

from __future__ import annotations

import pytest

import factories as f

LEGAL_PATHS = [
    ("probation", [("reported", None), ("under_correction", None), ("released", None)]),
    ("probation", [("reported", None), ("under_correction", None), ("terminated", "revoked_probation")]),
    ("parole", [("reported", None), ("under_correction", None), ("terminated", "revoked_parole")]),
    ("medical_parole", [("reported", None), ("under_correction", None), ("terminated", "recommitted")]),
    ("control", [("reported", None), ("under_correction", None), ("terminated", "died")]),
]


@pytest.mark.parametrize("ctype,path", LEGAL_PATHS)
def test_legal_paths(client, db, ctype, path):
    a = f.office(db)
    officer = f.staff(db, "office_officer", a)
    s = f.subject(db, a, correction_type=ctype)
    h = f.login(client, officer.username)
    for to, reason in path:
        r = client.post(f"/api/v1/subjects/{s.id}/transitions", json={"to": to, "reason": reason}, headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == to
    body = r.json()
    assert [t["to_status"] for t in body["transitions"]] == [p[0] for p in path]
    assert all(t["basis"] and t["actor_name"] == officer.username for t in body["transitions"])
    assert body["ended_at"] is not None
    assert body["reported_at"] is not None and body["correction_start_date"] is not None


@pytest.mark.parametrize(
    "status,to,reason,code",
    [
        ("pending_reception", "under_correction", None, "illegal_transition"),
        ("pending_reception", "released", None, "illegal_transition"),
        ("reported", "reported", None, "illegal_transition"),
        ("under_correction", "reported", None, "illegal_transition"),
        ("released", "under_correction", None, "illegal_transition"),
        ("terminated", "reported", None, "illegal_transition"),
        ("under_correction", "terminated", "revoked_parole", "illegal_transition"),  # probation subject
    ],
)
def test_illegal_transitions_conflict(client, db, status, to, reason, code):
    a = f.office(db)
    officer = f.staff(db, "office_officer", a)
    s = f.subject(db, a, status=status, correction_type="probation")
    r = client.post(f"/api/v1/subjects/{s.id}/transitions", json={"to": to, "reason": reason},
                    headers=f.login(client, officer.username))
    assert r.status_code == 409, r.text
    assert r.json()["code"] == code and "不能从" in r.json()["message"]


def test_termination_needs_reason(client, db):
    a = f.office(db)
    officer = f.staff(db, "office_officer", a)
    s = f.subject(db, a, status="under_correction")
    r = client.post(f"/api/v1/subjects/{s.id}/transitions", json={"to": "terminated"},
                    headers=f.login(client, officer.username))
    assert r.status_code == 422 and r.json()["code"] == "termination_reason_required"


def test_closed_file_cannot_be_edited(client, db):
    a = f.office(db)
    officer = f.staff(db, "office_officer", a)
    s = f.subject(db, a, status="released")
    r = client.patch(f"/api/v1/subjects/{s.id}", json={"crime": "盗窃罪"}, headers=f.login(client, officer.username))
    assert r.status_code == 409 and r.json()["code"] == "subject_closed"
