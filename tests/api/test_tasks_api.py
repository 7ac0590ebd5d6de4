"""Tasks and deadlines: one list per officer and per office, overdue counts, minors' names hidden."""

from __future__ import annotations

from datetime import timedelta

import pytest

import factories as f
from zhijiao.core import clock


@pytest.fixture
def world(db):
    from zhijiao.supervision import scheduled

    a, b = f.office(db, code="A1", name="闻韶司法所"), f.office(db, code="B1", name="雪宫司法所")
    officer_a, officer_b = f.staff(db, "office_officer", a), f.staff(db, "office_officer", b)
    today = clock.today_local()
    overdue_days = 14  # reporting deadline passed 4 days ago
    subjects = {
        "a1": f.subject(db, a, name="甲一", responsible_staff_id=officer_a.id,
                        judgment_effective_date=today - timedelta(days=overdue_days)),
        "a2": f.subject(db, a, name="甲二", judgment_effective_date=today - timedelta(days=overdue_days)),
        "a3": f.subject(db, a, name="甲三", responsible_staff_id=officer_a.id,
                        judgment_effective_date=today - timedelta(days=overdue_days)),
        "b1": f.subject(db, b, name="乙一", responsible_staff_id=officer_b.id,
                        judgment_effective_date=today - timedelta(days=overdue_days)),
    }
    assert scheduled.scan(db_session=db)["report_overdue"] == 4
    return {"a": a, "b": b, "officer_a": officer_a, "officer_b": officer_b, **subjects,
            "bureau": f.staff(db, "bureau_officer"), "leader": f.staff(db, "leader")}


def test_lists_per_office_and_per_officer(client, world):
    hb = f.login(client, world["bureau"].username)
    everything = client.get("/api/v1/tasks", headers=hb).json()
    assert everything["total"] == 4 and everything["counts"] == {"open": 4, "overdue": 0}  # due today
    a = client.get("/api/v1/tasks", params={"office": "A1"}, headers=hb).json()
    assert a["total"] == 3 and {t["office_name"] for t in a["items"]} == {"闻韶司法所"}
    ha = f.login(client, world["officer_a"].username)
    mine = client.get("/api/v1/tasks", params={"assignee": "me"}, headers=ha).json()
    assert {t["subject_id"] for t in mine["items"]} == {world["a1"].id, world["a3"].id}
    names = {t["subject_name"] for t in client.get("/api/v1/tasks", headers=ha).json()["items"]}
    assert names == {"甲一", "甲二", "甲三"}
    # an office officer asking for another office gets nothing, not an error
    assert client.get("/api/v1/tasks", params={"office": "B1"}, headers=ha).json()["total"] == 0
    unassigned = client.get("/api/v1/tasks", params={"assignee": "none"}, headers=hb).json()
    assert [t["subject_id"] for t in unassigned["items"]] == [world["a2"].id]


def test_overdue_filter_counts_and_summary(client, db, world):
    with clock.frozen(clock.now() + timedelta(days=2)):
        token = client.post("/api/v1/auth/token", data={"username": world["leader"].username, "password": f.PASSWORD,
                                                        "otp": f.otp(world["leader"].username)}).json()
        hl = {"Authorization": f"Bearer {token['access_token']}"}
        overdue = client.get("/api/v1/tasks", params={"overdue": True}, headers=hl).json()
        assert overdue["total"] == 4 and all(t["overdue"] and t["days_overdue"] == 2 for t in overdue["items"])
        assert client.get("/api/v1/tasks", params={"overdue": False}, headers=hl).json()["total"] == 0
        summary = client.get("/api/v1/tasks/summary", headers=hl).json()
        assert summary["open"] == 4 and summary["overdue"] == 4
        offices = {g["name"]: (g["open"], g["overdue"]) for g in summary["offices"]}
        assert offices == {"闻韶司法所": (3, 3), "雪宫司法所": (1, 1)}
        staff = {g["id"]: g["overdue"] for g in summary["staff"]}
        assert staff == {world["officer_a"].id: 2, world["officer_b"].id: 1, None: 1}


def test_a_minors_name_never_appears_in_a_list(client, db, world):
    from zhijiao.supervision import scheduled

    minor = f.subject(db, world["a"], name="欧阳小明", is_minor=True, responsible_staff_id=world["officer_a"].id,
                      judgment_effective_date=clock.today_local() - timedelta(days=14))
    scheduled.scan(db_session=db)
    ha = f.login(client, world["officer_a"].username)
    tasks = client.get("/api/v1/tasks", params={"subject_id": minor.id}, headers=ha).json()["items"]
    assert [t["subject_name"] for t in tasks] == ["欧阳某"]  # Law Art. 54, even for the assigned officer


def test_done_and_filters(client, world):
    ha = f.login(client, world["officer_a"].username)
    task = client.get("/api/v1/tasks", params={"assignee": "me"}, headers=ha).json()["items"][0]
    r = client.post(f"/api/v1/tasks/{task['id']}/done", json={"note": "已电话联系，明日报到"}, headers=ha)
    assert r.status_code == 200 and r.json()["status"] == "done" and r.json()["closed_by"] == world["officer_a"].username
    assert client.post(f"/api/v1/tasks/{task['id']}/done", headers=ha).json()["code"] == "task_closed"
    assert client.get("/api/v1/tasks", params={"status": "done"}, headers=ha).json()["total"] == 1
    assert client.get("/api/v1/tasks", params={"status": "all"}, headers=ha).json()["total"] == 3
    for bad in ({"overdue": "maybe"}, {"status": "closed"}, {"assignee": "you"}, {"size": 1000}, {"office_id": 0}):
        r = client.get("/api/v1/tasks", params=bad, headers=ha)
        assert r.status_code == 422 and r.json()["code"] == "validation_error", bad
    assert client.get("/api/v1/tasks", params={"office": "ZZ9"}, headers=ha).status_code == 404
    hb_other = f.login(client, world["officer_b"].username)
    assert client.post(f"/api/v1/tasks/{task['id']}/done", headers=hb_other).status_code == 404
