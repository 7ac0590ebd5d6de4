"""三员 (GB/T 22239 访问控制): system, security and audit administrators kept apart, as a matrix."""

from __future__ import annotations

import pytest

import factories as f

ROLES = ["sysadmin", "secadmin", "auditor", "bureau_officer", "office_officer", "operator", "leader"]
# operation -> roles allowed
MATRIX = {
    "read_case_files": {"bureau_officer", "office_officer", "operator", "leader"},
    "read_audit_log": {"auditor"},
    "export_audit_log": {"auditor"},
    "create_account": {"sysadmin"},
    "disable_account": {"sysadmin"},
    "reset_password": {"sysadmin"},
    "grant_role": {"secadmin"},
    "reset_second_factor": {"secadmin"},
    # case staff list only active case staff (to pick a responsible officer), administrators all accounts
    "list_accounts": {"sysadmin", "secadmin", "bureau_officer", "office_officer"},
}


@pytest.fixture
def world(db):
    office = f.office(db, code="370305001")
    subject = f.subject(db, office)
    target = f.staff(db, "office_officer", office)
    people = {role: f.staff(db, role, office if role == "office_officer" else None) for role in ROLES}
    return office, subject, target, people


def _call(client, h, op, world):
    office, subject, target, _ = world
    if op == "read_case_files":
        return client.get(f"/api/v1/subjects/{subject.id}", headers=h)
    if op == "read_audit_log":
        return client.get("/api/v1/audit-events", headers=h)
    if op == "export_audit_log":
        return client.get("/api/v1/audit-events/export", headers=h)
    if op == "create_account":
        return client.post("/api/v1/staff", headers=h, json={
            "username": f"new{id(h)}", "display_name": "新账号", "role": "operator", "password": "Strong#Pass1"})
    if op == "disable_account":
        return client.post(f"/api/v1/staff/{target.id}/disable", headers=h)
    if op == "reset_password":
        return client.post(f"/api/v1/staff/{target.id}/password/reset", headers=h)
    if op == "grant_role":
        return client.post(f"/api/v1/staff/{target.id}/role", headers=h, json={"role": "operator"})
    if op == "reset_second_factor":
        return client.post(f"/api/v1/staff/{target.id}/totp/reset", headers=h)
    if op == "list_accounts":
        return client.get("/api/v1/staff", headers=h)
    raise AssertionError(op)


@pytest.mark.parametrize("role", ROLES)
def test_matrix(client, world, role):
    h = f.login(client, world[3][role].username)
    for op, allowed in MATRIX.items():
        r = _call(client, h, op, world)
        if role in allowed:
            assert r.status_code in (200, 201), (role, op, r.status_code, r.text)
        else:
            assert r.status_code in (403, 404), (role, op, r.status_code, r.text)
            assert r.status_code != 404 or op == "read_case_files"


def test_one_role_per_account_and_no_self_grant(client, world):
    people = world[3]
    h = f.login(client, people["secadmin"].username)
    r = client.post(f"/api/v1/staff/{people['secadmin'].id}/role", headers=h, json={"role": "auditor"})
    assert r.status_code == 409 and r.json()["code"] == "self_grant"
    r = client.post(f"/api/v1/staff/{people['auditor'].id}/role", headers=h, json={"role": "sysadmin"})
    assert r.status_code == 200 and r.json()["role"] == "sysadmin"  # replaces, never adds
    hs = f.login(client, people["sysadmin"].username)
    assert client.post(f"/api/v1/staff/{people['sysadmin'].id}/disable", headers=hs).json()["code"] == "self_disable"


def test_audit_export_is_csv_and_audited(client, world):
    h = f.login(client, world[3]["auditor"].username)
    r = client.get("/api/v1/audit-events/export", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    header = r.content.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("序号,时间,操作人用户名,角色") and "变更内容" in header  # in Chinese (issue 19)
    exports = client.get("/api/v1/audit-events", params={"action": "export"}, headers=h).json()
    assert exports["total"] == 1


def test_password_reset_gives_a_working_password_once(client, db, world):
    _, _, target, people = world
    h = f.login(client, people["sysadmin"].username)
    r = client.post(f"/api/v1/staff/{target.id}/password/reset", headers=h)
    assert r.status_code == 200, r.text
    password = r.json()["password"]
    assert password != f.PASSWORD and len(password) >= 12
    r = client.post("/api/v1/auth/token", data={"username": target.username, "password": password,
                                                "otp": f.otp(target.username)})
    assert r.status_code == 200, r.text
    assert client.post(f"/api/v1/staff/{people['sysadmin'].id}/password/reset", headers=h).json()["code"] == \
        "self_reset"
    trail = client.get("/api/v1/audit-events", params={"action": "password_reset"},
                       headers=f.login(client, people["auditor"].username)).json()
    assert [(e["object_id"], e["actor_name"]) for e in trail["items"]] == [(str(target.id), people["sysadmin"].username)]
