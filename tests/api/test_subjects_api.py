"""The subject API contract, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import factories as f
from zhijiao.core import clock


def _setup(db):
    a = f.office(db, name="闻韶司法所", code="370305001")
    b = f.office(db, name="雪宫司法所", code="370305002")
    officer_a = f.staff(db, "office_officer", a)
    officer_b = f.staff(db, "office_officer", b)
    bureau = f.staff(db, "bureau_officer")
    return a, b, officer_a, officer_b, bureau


def test_create_read_and_list(client, db):
    a, b, officer_a, _, _ = _setup(db)
    h = f.login(client, officer_a.username)
    payload = f.subject_payload(name="王小明")
    r = client.post("/api/v1/subjects", json=payload, headers=h)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"] > 0 and body["office_id"] == a.id
    assert body["id_number"] == payload["id_number"]
    assert body["id_number_masked"].startswith(payload["id_number"][:6]) and "*" in body["id_number_masked"]
    assert body["birth_date"] == "1985-06-15"
    assert body["status"] == "pending_reception"
    assert body["derived"]["reporting_deadline"]
    r = client.get("/api/v1/subjects", params={"q": "王小"}, headers=h)
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 1 and page["items"][0]["name"] == "王小明"
    assert "id_number" not in page["items"][0]  # lists show masked values only
    r = client.get("/api/v1/subjects", params={"q": payload["id_number"]}, headers=h)
    assert r.json()["total"] == 1


def test_list_filters_and_paging(client, db):
    a, b, _, _, bureau = _setup(db)
    for i in range(7):
        f.subject(db, a, name=f"甲{i}号", status="under_correction" if i % 2 else "pending_reception")
    for i in range(3):
        f.subject(db, b, name=f"乙{i}号")
    h = f.login(client, bureau.username)
    r = client.get("/api/v1/subjects", params={"office": a.code, "size": 3, "page": 2}, headers=h).json()
    assert r["total"] == 7 and len(r["items"]) == 3 and r["page"] == 2
    r = client.get("/api/v1/subjects", params={"status": "under_correction"}, headers=h).json()
    assert r["total"] == 3
    r = client.get("/api/v1/subjects", params={"office_id": b.id}, headers=h).json()
    assert r["total"] == 3


def test_patch_subject(client, db):
    a, _, officer_a, _, _ = _setup(db)
    s = f.subject(db, a)
    h = f.login(client, officer_a.username)
    r = client.patch(f"/api/v1/subjects/{s.id}", json={"phone": "13700001111", "supervision_level": "strict"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["phone"] == "13700001111" and r.json()["supervision_level"] == "strict"
    assert r.json()["phone_masked"] == "137****1111"
    r = client.patch(f"/api/v1/subjects/{s.id}", json={"version": 1, "name": "改名"}, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "stale_version"


def test_validation_errors_are_chinese_with_codes(client, db):
    a, _, officer_a, _, _ = _setup(db)
    h = f.login(client, officer_a.username)
    bad = f.subject_payload(id_number="370305198506151234")  # wrong check digit
    r = client.post("/api/v1/subjects", json=bad, headers=h)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation_error"
    assert "校验码" in body["fields"]["id_number"]
    assert any(e["code"] == "id_number_checksum" for e in body["errors"])
    r = client.post("/api/v1/subjects", json={"name": "x"}, headers=h)
    assert r.status_code == 422
    fields = r.json()["fields"]
    assert fields["gender"] == "必填项" and "长度" in fields["name"]
    r = client.post("/api/v1/subjects", json=f.subject_payload(gender="female", id_number=f.id_number(gender="male")),
                    headers=h)
    assert r.status_code == 422 and "性别" in r.json()["message"]
    r = client.post("/api/v1/subjects", content=b"{not json", headers={**h, "content-type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    r = client.get("/api/v1/subjects/99999999999999999999", headers=h)
    assert r.status_code == 422
    r = client.get("/api/v1/subjects", params={"status": "bogus"}, headers=h)
    assert r.status_code == 422 and "取值必须是" in r.json()["fields"]["status"]


def test_duplicate_active_subject_conflicts(client, db):
    a, b, officer_a, officer_b, _ = _setup(db)
    payload = f.subject_payload()
    assert client.post("/api/v1/subjects", json=payload, headers=f.login(client, officer_a.username)).status_code == 201
    r = client.post("/api/v1/subjects", json=payload, headers=f.login(client, officer_b.username))
    assert r.status_code == 409 and r.json()["code"] == "duplicate_subject"


def test_unknown_route_and_no_auth(client, db):
    assert client.get("/api/v1/subjects").status_code == 401
    assert client.get("/api/v1/nope").json()["code"] == "not_found"
    assert client.get("/api/v1/health").json()["status"] == "ok"


def test_reporting_overdue_is_derived(client, db):
    a, _, officer_a, _, _ = _setup(db)
    s = f.subject(db, a, judgment_effective_date=clock.today_local() - timedelta(days=15))
    h = f.login(client, officer_a.username)
    body = client.get(f"/api/v1/subjects/{s.id}", headers=h).json()
    assert body["derived"]["report_overdue"] is True
    assert body["report_overdue"] is True


def test_masking_in_lists(client, db):
    a, _, officer_a, _, _ = _setup(db)
    h = f.login(client, officer_a.username)
    # a minor (16 on the decision date): derived from the dates, not from a flag (issue 20 item 9)
    payload = f.subject_payload(name="欧阳小明", phone="13812345678",
                                id_number=f.id_number(birth=clock.today_local() - timedelta(days=16 * 365)))
    sid = client.post("/api/v1/subjects", json=payload, headers=h).json()["id"]
    item = client.get("/api/v1/subjects", headers=h).json()["items"][0]
    number = payload["id_number"]
    assert item == {**item, "name": "欧阳某", "phone_masked": "138****5678",
                    "id_number_masked": number[:6] + "********" + number[-4:]}
    full = client.get(f"/api/v1/subjects/{sid}", headers=h).json()
    assert full["name"] == "欧阳小明" and full["id_number"] == number  # the file itself, audited


def test_patch_cannot_blank_required_fields(client, db):
    a, _, officer_a, _, _ = _setup(db)
    s = f.subject(db, a)
    h = f.login(client, officer_a.username)
    for field in ("crime", "name", "judgment_effective_date", "supervision_level", "is_minor"):
        r = client.patch(f"/api/v1/subjects/{s.id}", json={field: None}, headers=h)
        assert r.status_code == 422 and field in r.json()["fields"], (field, r.text)
    assert client.patch(f"/api/v1/subjects/{s.id}", json={"prohibitions": None}, headers=h).status_code == 200
