"""One definition of each count (subjects/counts.py): the API, the list and the command center agree
for every role, and the files a caller cannot open are counted apart (社区矫正法 第五十四条)."""

from __future__ import annotations

from datetime import timedelta

import pytest

import factories as f
from zhijiao.core import clock

LEVELS = ("strict", "ordinary", "lenient")


@pytest.fixture
def district(db):
    a, b = f.office(db), f.office(db)
    people = {
        "bureau": f.staff(db, "bureau_officer"), "operator": f.staff(db, "operator"),
        "leader": f.staff(db, "leader"), "assigned": f.staff(db, "office_officer", a),
        "colleague": f.staff(db, "office_officer", a), "other_office": f.staff(db, "office_officer", b),
    }
    assigned = people["assigned"].id
    today = clock.today_local()
    f.subject(db, a, status="pending_reception", judgment_effective_date=today - timedelta(days=20))  # overdue
    f.subject(db, a, status="pending_reception", judgment_effective_date=today - timedelta(days=10))  # on time
    f.subject(db, a, status="reported")
    for level in LEVELS:
        f.subject(db, a, status="under_correction", supervision_level=level)
        f.subject(db, b, status="under_correction", supervision_level=level)
    f.subject(db, b, status="released")
    # minors of office A, all assigned to one officer: two open, one sealed after release
    f.subject(db, a, is_minor=True, responsible_staff_id=assigned, status="under_correction",
              supervision_level="strict")
    f.subject(db, a, is_minor=True, responsible_staff_id=assigned, status="pending_reception",
              judgment_effective_date=today - timedelta(days=30))
    f.subject(db, a, is_minor=True, responsible_staff_id=assigned, status="released")
    return people


# (registered, under_correction, strict, total, overdue, hidden_active, hidden_sealed) per role
EXPECTED = {
    "bureau": (9, 6, 2, 10, 1, 2, 1),
    "operator": (9, 6, 2, 10, 1, 2, 1),
    "leader": (9, 6, 2, 10, 1, 2, 1),
    "assigned": (8, 4, 2, 8, 2, 0, 1),
    "colleague": (6, 3, 1, 6, 1, 2, 1),
    "other_office": (3, 3, 1, 4, 0, 0, 0),
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_counts_agree_with_the_list_and_the_command_center(client, db, district, role):
    h = f.login(client, district[role].username)
    c = client.get("/api/v1/subjects/counts", headers=h)
    assert c.status_code == 200, c.text
    c = c.json()
    got = (c["registered"], c["under_correction"], c["by_level"]["strict"], c["total"], c["report_overdue"],
           c["hidden_active"], c["hidden_sealed"])
    assert got == EXPECTED[role]

    def listed(**params) -> int:
        r = client.get("/api/v1/subjects", params={"size": 1, **params}, headers=h)
        assert r.status_code == 200, r.text
        return r.json()["total"]

    assert listed() == c["total"]
    for status, n in c["by_status"].items():
        assert listed(status=status) == n
    for level in LEVELS:
        assert listed(status="under_correction", supervision_level=level) == c["by_level"][level]
    assert c["registered"] == sum(c["by_status"][s] for s in ("pending_reception", "reported", "under_correction"))

    s = client.get("/api/v1/command/stats", headers=h).json()
    assert s["subjects_total"] == c["registered"]
    assert s["subjects_by_level"] == c["by_level"]
    assert all(s["subjects_by_status"][k] == c["by_status"][k] for k in s["subjects_by_status"])
    assert (s["subjects_hidden_active"], s["subjects_hidden_sealed"]) == (c["hidden_active"], c["hidden_sealed"])


def test_counts_need_the_right_to_read_files(client, db, district):
    h = f.login(client, f.staff(db, "auditor").username)
    r = client.get("/api/v1/subjects/counts", headers=h)
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert client.get("/api/v1/subjects/counts").status_code == 401
