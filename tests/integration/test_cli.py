"""The command line against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys

import factories as f


def _run(args: list[str], database_url: str, stdin: str = "", extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "ZHIJIAO_DATABASE_URL": database_url, **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "zhijiao.cli", *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=120)


def test_users_create_and_login(client, db, database_url):
    office = f.office(db, code="370305001")
    r = _run(["users", "create", "--username", "wang", "--role", "office_officer", "--office", office.code,
              "--password-stdin", "--totp-secret", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"], database_url,
             stdin="Strong#Pass1\n")
    assert r.returncode == 0, r.stderr
    f.TOTP_SECRETS["wang"] = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    h = f.login(client, "wang", password="Strong#Pass1")
    me = client.get("/api/v1/me", headers=h).json()
    assert me["role"] == "office_officer" and me["office_id"] == office.id


def test_users_create_rejects_bad_input(db, database_url):
    f.office(db, code="X1")
    weak = _run(["users", "create", "--username", "lisi", "--role", "bureau_officer", "--password-stdin"], database_url,
                stdin="weak\n")
    assert weak.returncode == 2 and "weak_password" in weak.stderr
    role = _run(["users", "create", "--username", "lisi", "--role", "king", "--password-stdin"], database_url,
                stdin="Strong#Pass1\n")
    assert role.returncode == 2 and "validation_error" in role.stderr
    office = _run(["users", "create", "--username", "lisi", "--role", "office_officer", "--password-stdin"],
                  database_url, stdin="Strong#Pass1\n")
    assert office.returncode == 2 and "office_required" in office.stderr


def test_audit_verify_cli(client, db, database_url, backend):
    from sqlalchemy import text

    o = f.office(db)
    h = f.login(client, f.staff(db, "office_officer", o).username)
    client.post("/api/v1/subjects", json=f.subject_payload(), headers=h)
    ok = _run(["audit", "verify"], database_url)
    assert ok.returncode == 0, ok.stderr
    with db.get_bind().begin() as conn:
        if backend == "postgres":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_guard"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_young_delete"))
        conn.execute(text("DELETE FROM audit_events WHERE seq = 2"))
        if backend == "postgres":
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_guard"))
    bad = _run(["audit", "verify"], database_url)
    assert bad.returncode == 1 and "seq=2" in bad.stderr


def test_users_create_is_the_bootstrap_only(db, database_url):
    """The first administrator of each role may be created on the host; afterwards 账号管理 (issue 20)."""
    first = _run(["users", "create", "--username", "sec1", "--role", "secadmin", "--password-stdin"], database_url,
                 stdin="Strong#Pass1\n")
    assert first.returncode == 0, first.stderr
    again = _run(["users", "create", "--username", "sec2", "--role", "secadmin", "--password-stdin"], database_url,
                 stdin="Strong#Pass1\n")
    assert again.returncode == 2 and "bootstrap_only" in again.stderr
    officer = _run(["users", "create", "--username", "op1", "--role", "operator", "--password-stdin"], database_url,
                   stdin="Strong#Pass1\n")
    assert officer.returncode == 2 and "bootstrap_only" in officer.stderr
