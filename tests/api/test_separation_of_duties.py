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
        return client.post("/api/v1/staff", headers=h, json={"username": f"new{id(h)}", "display_name": "新账号"})
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
    assert r.status_code == 403 and r.json()["code"] == "self_grant"
    target = world[2]
    r = client.post(f"/api/v1/staff/{target.id}/role", headers=h, json={"role": "operator"})
    assert r.status_code == 200 and r.json()["staff"]["role"] == "operator"  # replaces, never adds
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


# --- the full matrix of the three administrators (issue 20 item 1) -----------------------------------

ADMINS = ["sysadmin", "secadmin", "auditor"]
TARGETS = ["sysadmin", "secadmin", "auditor", "self"]
ACTIONS = ["create", "disable", "enable", "reset", "grant", "revoke", "approve_own"]
DUTY = {"create": "sysadmin", "disable": "sysadmin", "enable": "sysadmin", "reset": "sysadmin",
        "grant": "secadmin", "revoke": "secadmin", "approve_own": "secadmin"}
SELF_CODE = {"disable": "self_disable", "enable": "self_disable", "reset": "self_reset", "grant": "self_grant",
             "revoke": "self_grant"}


def expected(actor: str, target: str, action: str) -> tuple[int, str | None]:
    """The rule, written once: (status, error code)."""
    if actor != DUTY[action]:
        return 403, "permission_denied"
    if action == "create":
        return 201, None
    if target == "self":
        return (403 if action in ("grant", "revoke", "approve_own") else 409), SELF_CODE.get(action, "self_grant")
    if target == "auditor":
        return 403, "auditor_protected"
    if action == "approve_own":
        return 403, "second_admin_required"
    if action in ("grant", "revoke"):
        return 202, None  # a change to or from an administrator role waits for a second administrator
    return 200, None


@pytest.fixture
def admins(db):
    return {role: f.staff(db, role) for role in ADMINS}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("actor", ADMINS)
def test_administrator_matrix(client, db, admins, actor, action):
    me = admins[actor]
    h = f.login(client, me.username)
    refused = 0
    for target in TARGETS:
        other = me if target == "self" else f.staff(db, target)
        url = f"/api/v1/staff/{other.id}"
        if action == "create":
            r = client.post("/api/v1/staff", headers=h, json={"username": f"new{other.id}", "display_name": "新账号"})
        elif action in ("disable", "enable"):
            r = client.post(f"{url}/{action}", headers=h)
        elif action == "reset":
            r = client.post(f"{url}/password/reset", headers=h)
        elif action == "grant":
            r = client.post(f"{url}/role", headers=h, json={"role": "operator"})
        elif action == "revoke":
            r = client.post(f"{url}/role/revoke", headers=h)
        else:  # approve own request: asks for a change, then approves it itself
            ask = client.post(f"{url}/role", headers=h, json={"role": "operator"})
            r = ask if ask.status_code != 202 else client.post(
                f"/api/v1/role-changes/{ask.json()['pending']['id']}/approve", headers=h)
        status, code = expected(actor, target, action)
        assert r.status_code == status, (actor, target, action, r.status_code, r.text)
        if code:
            assert r.json()["code"] == code, (actor, target, action, r.text)
            assert r.json()["message"] and not r.json()["message"].isascii()
        refused += r.status_code == 403
        if action in ("grant", "revoke") and status == 202:
            db.expire_all()
            assert db.get(type(other), other.id).role == target  # unchanged until approved
        if action == "create" and status == 201:
            body = r.json()
            assert body["staff"]["role"] is None and len(body["activation_code"]) == 19
            assert "password" not in body and "totp_secret" not in body
    # every refusal is on record, for the auditor
    ha = f.login(client, admins["auditor"].username) if actor != "auditor" else h
    denied = client.get("/api/v1/audit-events", params={"action": "denied"}, headers=ha).json()["total"]
    assert denied == refused


def test_auditor_sees_the_refused_attempts(client, db, admins):
    auditor = admins["auditor"]
    hs = f.login(client, admins["sysadmin"].username)
    assert client.post(f"/api/v1/staff/{auditor.id}/disable", headers=hs).json()["code"] == "auditor_protected"
    db.expire_all()
    assert db.get(type(auditor), auditor.id).active is True
    ha = f.login(client, auditor.username)
    trail = client.get("/api/v1/audit-events", params={"action": "denied"}, headers=ha).json()["items"]
    assert [(e["object_id"], e["actor_name"]) for e in trail] == [(str(auditor.id), admins["sysadmin"].username)]
    assert trail[0]["changes"]["operation"] == "disable"


def test_second_administrator_approves_or_refuses(client, db, admins):
    target = f.staff(db, "office_officer", f.office(db, code="370305001"))
    hs, hsys = f.login(client, admins["secadmin"].username), f.login(client, admins["sysadmin"].username)
    ask = client.post(f"/api/v1/staff/{target.id}/role", headers=hs, json={"role": "sysadmin"})
    assert ask.status_code == 202, ask.text
    again = client.post(f"/api/v1/staff/{target.id}/role", headers=hs, json={"role": "secadmin"})
    assert again.status_code == 409 and again.json()["code"] == "role_change_pending"
    pending = client.get("/api/v1/role-changes", headers=hsys).json()
    assert [(c["staff_id"], c["from_role"], c["to_role"]) for c in pending] == [
        (target.id, "office_officer", "sysadmin")]
    # the target itself cannot approve; the auditor takes no part
    ht, ha = f.login(client, target.username), f.login(client, admins["auditor"].username)
    assert client.post(f"/api/v1/role-changes/{pending[0]['id']}/approve", headers=ht).status_code == 403
    assert client.post(f"/api/v1/role-changes/{pending[0]['id']}/approve", headers=ha).json()["code"] == \
        "permission_denied"
    r = client.post(f"/api/v1/role-changes/{pending[0]['id']}/refuse", headers=hsys)
    assert r.status_code == 200 and r.json()["status"] == "refused"
    assert r.json()["decided_by"] == admins["sysadmin"].username
    db.expire_all()
    assert db.get(type(target), target.id).role == "office_officer"
    assert client.get("/api/v1/role-changes", headers=hsys).json() == []
    # a non-administrator role change is immediate
    r = client.post(f"/api/v1/staff/{target.id}/role", headers=hs, json={"role": "operator"})
    assert r.status_code == 200 and r.json()["pending"] is None and r.json()["staff"]["role"] == "operator"
    # from an administrator role: approved by the other administrator
    ask = client.post(f"/api/v1/staff/{admins['sysadmin'].id}/role/revoke", headers=hs).json()["pending"]
    assert client.post(f"/api/v1/role-changes/{ask['id']}/approve", headers=hsys).json()["code"] == \
        "second_admin_required"  # nor by the account concerned
    other_sec = f.staff(db, "secadmin")
    r = client.post(f"/api/v1/role-changes/{ask['id']}/approve", headers=f.login(client, other_sec.username))
    assert r.status_code == 200 and r.json()["status"] == "approved"
    db.expire_all()
    assert db.get(type(target), admins["sysadmin"].id).role is None


def _activate(client, monkeypatch, code: str, password: str = "Gu@rd-Xq7!mZ") -> str:
    from datetime import timedelta

    import pyotp

    from zhijiao.core import clock

    start = client.post("/api/v1/activation", json={"code": code})
    assert start.status_code == 200, start.text
    secret = start.json()["totp_secret"]
    assert start.json()["otpauth_uri"].startswith("otpauth://totp/")
    r = client.post("/api/v1/activation/complete", json={
        "code": code, "password": password, "otp": pyotp.TOTP(secret).at(clock.now())})
    assert r.status_code == 204, r.text
    f.TOTP_SECRETS[start.json()["username"]] = secret
    # the code that confirmed the enrolment cannot also log in: the next login uses the next step
    later = clock.now() + timedelta(seconds=31)
    monkeypatch.setattr(clock, "now", lambda: later)
    return secret


def test_activation_then_grant_then_work(client, db, admins, monkeypatch):
    office = f.office(db, code="370305001")
    hsys, hsec = f.login(client, admins["sysadmin"].username), f.login(client, admins["secadmin"].username)
    r = client.post("/api/v1/staff", headers=hsys, json={"username": "zhaoxr", "display_name": "赵新人",
                                                         "office_code": office.code})
    assert r.status_code == 201, r.text
    code, new_id = r.json()["activation_code"], r.json()["staff"]["id"]
    # no password works before activation
    assert client.post("/api/v1/auth/token", data={"username": "zhaoxr", "password": "!activation-pending"}
                       ).status_code == 401
    weak = client.post("/api/v1/activation", json={"code": code})
    weak = client.post("/api/v1/activation/complete", json={"code": code, "password": "abc", "otp": "123456"})
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
    _activate(client, monkeypatch, code)
    reuse = client.post("/api/v1/activation", json={"code": code})
    assert reuse.status_code == 422 and reuse.json()["code"] == "activation_invalid"  # single use
    h = f.login(client, "zhaoxr", password="Gu@rd-Xq7!mZ")
    me = client.get("/api/v1/me", headers=h).json()
    assert me["role"] is None and me["permissions"] == [] and me["role_label"] == "未授予角色"
    assert client.get("/api/v1/subjects", headers=h).status_code == 403
    r = client.post(f"/api/v1/staff/{new_id}/role", headers=hsec, json={"role": "office_officer"})
    assert r.status_code == 200 and r.json()["staff"]["office_id"] == office.id
    assert client.get("/api/v1/subjects", headers=h).status_code == 200
    # the sysadmin's reset: a new activation, the old password and the session end
    r = client.post(f"/api/v1/staff/{new_id}/password/reset", headers=hsys)
    assert r.status_code == 200 and set(r.json()) == {"staff", "activation_code", "expires_at"}
    assert client.get("/api/v1/subjects", headers=h).status_code == 401
    assert client.post("/api/v1/auth/token", data={"username": "zhaoxr", "password": "Gu@rd-Xq7!mZ"}).status_code == 401
    assert r.json()["staff"]["role"] is None  # withheld: the sysadmin holds the code, not the role
    _activate(client, monkeypatch, r.json()["activation_code"], password="N3w-Gu@rd!pq")
    (restore,) = client.get("/api/v1/role-changes", headers=hsec).json()
    assert (restore["staff_id"], restore["from_role"], restore["to_role"]) == (new_id, None, "office_officer")
    assert client.post(f"/api/v1/role-changes/{restore['id']}/approve", headers=hsys).json()["code"] == \
        "second_admin_required"  # the sysadmin asked (by resetting): another administrator restores
    assert client.post(f"/api/v1/role-changes/{restore['id']}/approve", headers=hsec).status_code == 200
    f._TOKENS.pop((id(client), "zhaoxr"), None)
    assert client.get("/api/v1/me", headers=f.login(client, "zhaoxr", password="N3w-Gu@rd!pq")).json()["role"] == \
        "office_officer"
    ha = f.login(client, admins["auditor"].username)
    actions = [e["action"] for e in client.get("/api/v1/audit-events", params={"object_type": "staff"},
                                                headers=ha).json()["items"]]
    assert {"activation_issued", "activated", "password_reset"} <= set(actions)


def test_activation_expires(client, db, admins, monkeypatch):
    from datetime import timedelta

    from zhijiao.core import clock

    hsys = f.login(client, admins["sysadmin"].username)
    code = client.post("/api/v1/staff", headers=hsys, json={"username": "qianxr", "display_name": "钱新人"}
                       ).json()["activation_code"]
    later = clock.now() + timedelta(hours=73)
    monkeypatch.setattr(clock, "now", lambda: later)
    r = client.post("/api/v1/activation", json={"code": code})
    assert r.status_code == 422 and r.json()["code"] == "activation_invalid"
