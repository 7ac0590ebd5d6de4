"""Every write and every reveal of a full identity leaves one audit row."""

from __future__ import annotations

import factories as f


def test_writes_and_reads_are_audited(client, db):
    a = f.office(db)
    officer = f.staff(db, "office_officer", a)
    auditor = f.staff(db, "auditor")
    h = f.login(client, officer.username)
    r = client.post("/api/v1/subjects", json=f.subject_payload(), headers=h)
    sid = r.json()["id"]
    client.patch(f"/api/v1/subjects/{sid}", json={"crime": "诈骗罪"}, headers=h)
    client.get(f"/api/v1/subjects/{sid}", headers=h)

    ha = f.login(client, auditor.username)
    r = client.get("/api/v1/audit-events", params={"object_type": "subjects", "object_id": str(sid)}, headers=ha)
    assert r.status_code == 200
    events = r.json()["items"]
    actions = [e["action"] for e in events]
    assert actions.count("create") == 1
    assert actions.count("update") == 1
    assert actions.count("view_identity") >= 2  # after create, patch and get each return the full file
    update = next(e for e in events if e["action"] == "update")
    assert update["changes"]["crime"] == ["危险驾驶罪", "诈骗罪"]
    assert update["actor_name"] == officer.username and update["request_id"] and update["client_ip"]
    create = next(e for e in events if e["action"] == "create")
    assert create["changes"]["id_number"] == "***"  # personal data never enters the log in clear
    logins = client.get("/api/v1/audit-events", params={"object_type": "login"}, headers=ha).json()
    assert logins["total"] >= 2


def test_only_auditor_reads_audit_log(client, db):
    for role in ("sysadmin", "secadmin", "bureau_officer", "leader", "operator"):
        h = f.login(client, f.staff(db, role).username)
        assert client.get("/api/v1/audit-events", headers=h).status_code == 403


def test_audit_chain_verifies_and_detects_tampering(client, db, backend):
    from sqlalchemy import text

    from zhijiao.security import audit

    a = f.office(db)
    officer = f.staff(db, "office_officer", a)
    h = f.login(client, officer.username)
    for i in range(3):
        client.post("/api/v1/subjects", json=f.subject_payload(name=f"链{i}号"), headers=h)
    db.expire_all()
    assert audit.verify_chain(db) is None
    # An attacker with database access edits a row (bypassing the append-only trigger).
    with db.get_bind().begin() as conn:
        if backend == "postgres":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_guard"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("UPDATE audit_events SET actor_name = 'someone' WHERE seq = 3"))
        if backend == "postgres":
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_guard"))
    db.expire_all()
    broken = audit.verify_chain(db)
    assert broken is not None and broken.seq == 3


def test_application_cannot_update_audit_rows(client, db):
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    f.office(db)
    f.login(client, f.staff(db, "bureau_officer").username)
    with pytest.raises(DBAPIError):
        with db.get_bind().begin() as conn:
            conn.execute(text("UPDATE audit_events SET action = 'x'"))
    with pytest.raises(DBAPIError):
        with db.get_bind().begin() as conn:
            conn.execute(text("DELETE FROM audit_events"))


def test_audit_chain_detects_inserted_and_removed_rows(client, db, backend):
    from sqlalchemy import text

    from zhijiao.security import audit

    a = f.office(db)
    h = f.login(client, f.staff(db, "office_officer", a).username)
    for i in range(3):
        client.post("/api/v1/subjects", json=f.subject_payload(name=f"插入{i}号"), headers=h)
    db.expire_all()
    assert audit.verify_chain(db) is None
    head = db.execute(text("SELECT seq, mac FROM audit_head")).one()
    with db.get_bind().begin() as conn:
        # a forged row appended by someone without the key, with the head moved along
        conn.execute(text(
            "INSERT INTO audit_events (seq, at, actor_kind, actor_name, object_type, object_id, action, prev_mac, mac) "
            "VALUES (:s, :at, 'staff', 'mallory', 'subjects', '1', 'update', :p, :m)"),
            {"s": head.seq + 1, "at": "2026-01-01 00:00:00", "p": head.mac, "m": "0" * 64})
        conn.execute(text("UPDATE audit_head SET seq = :s, mac = :m"), {"s": head.seq + 1, "m": "0" * 64})
    db.expire_all()
    broken = audit.verify_chain(db)
    assert broken is not None and broken.seq == head.seq + 1
