"""The security probe's authentication and data-at-rest findings (issue 20, items 2, 3, 4, 5, 7),
each through the API or the command line, on SQLite and PostgreSQL.

2 one TOTP code, many concurrent logins: exactly one succeeds.
3 login limits per account and per client address (behind trusted proxies): an attack on one
  account locks no one else out, nor the phone login from the same (proxy) address.
4 common and personal passwords refused; a password change ends the other sessions; phone logout.
5 browser sessions are no API credentials; every file under the data directory is private.
7 the audit chain's head anchored outside the database; ``zhijiao audit verify`` finds truncation.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

import factories as f
from zhijiao.config import get_settings, reset_settings
from zhijiao.core import clock
from zhijiao.security import auth
from zhijiao.security.auth import PER_ACCOUNT_ADDRESS_FAILURES, PER_IP_ACCOUNTS, ip_limiter
from zhijiao.security.models import AuditEvent

TOKEN = "/api/v1/auth/token"


def _token(client, username, password=f.PASSWORD, otp=None, headers=None):
    data = {"username": username, "password": password}
    if otp is not None:
        data["otp"] = otp
    return client.post(TOKEN, data=data, headers=headers or {})


def _bearer(response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _phone_subject(client, db, password="Phone#2026"):
    """An office officer, a subject under correction in the office, and the subject's phone password."""
    o = f.office(db)
    officer = f.staff(db, "office_officer", o)
    subject = f.subject(db, o, status="under_correction")
    h = f.login(client, officer.username)
    r = client.post(f"/api/v1/subjects/{subject.id}/phone-password", json={"password": password}, headers=h)
    assert r.status_code == 204, r.text
    return subject, h


def _phone_login(client, subject, password="Phone#2026", headers=None):
    return client.post("/api/v1/m/login", json={"id_number": subject.id_number, "password": password},
                       headers=headers or {})


# --- 2: the one-time check of a TOTP code is atomic in the database ---------------------------------


def test_one_totp_code_logs_in_once_under_eight_concurrent_logins(client, db):
    s = f.staff(db, "bureau_officer")
    with clock.frozen(clock.now()):
        code = f.otp(s.username)
        gate = threading.Barrier(8)

        def attempt(_: int) -> int:
            gate.wait()
            return _token(client, s.username, otp=code).status_code

        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(attempt, range(8)))
    assert sorted(codes) == [200] + [401] * 7, codes
    db.expire_all()
    logins = db.execute(select(AuditEvent.action).where(AuditEvent.object_type == "login",
                                                        AuditEvent.object_id == s.username)).scalars().all()
    assert logins.count("login") == 1 and logins.count("login_failed") == 7


# --- 3: login limits per account and per address, trusted proxies ----------------------------------


def test_attack_on_one_account_locks_out_no_one_else(client, db):
    victim = f.staff(db, "bureau_officer")
    colleague = f.staff(db, "bureau_officer")
    subject, _h = _phone_subject(client, db)
    for _ in range(PER_ACCOUNT_ADDRESS_FAILURES):
        assert _token(client, victim.username, password="Wrong#2026").status_code == 401
    r = _token(client, victim.username, password="Wrong#2026")
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts"
    assert "分钟后再试" in r.json()["message"]
    assert 0 < int(r.headers["retry-after"]) <= 15 * 60
    # the same address: another account, and a subject's phone, still log in
    assert _token(client, colleague.username, otp=f.otp(colleague.username)).status_code == 200
    assert _phone_login(client, subject).status_code == 200
    # the victim's own account follows the lockout policy (5 failures, 30 minutes), unchanged
    ip_limiter.reset()
    r = _token(client, victim.username, otp=f.otp(victim.username))
    assert r.status_code == 401 and r.json()["code"] == "login_failed"


def test_spraying_many_accounts_blocks_that_address_for_staff_logins_only(client, db):
    staff = f.staff(db, "bureau_officer")
    subject, _h = _phone_subject(client, db)
    for i in range(PER_IP_ACCOUNTS):
        assert _token(client, f"ghost{i}", password="Wrong#2026").status_code == 401
    r = _token(client, staff.username, otp=f.otp(staff.username))
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts" and "retry-after" in r.headers
    assert _phone_login(client, subject).status_code == 200  # the phone login has its own limits


@pytest.fixture
def proxied(app, monkeypatch):
    """A client whose connections come from the bureau's reverse proxy 10.9.0.5 (trusted)."""
    monkeypatch.setenv("ZHIJIAO_TRUSTED_PROXIES", "10.9.0.0/16, 127.0.0.1")
    reset_settings()
    ip_limiter.reset()
    yield TestClient(app, raise_server_exceptions=False, client=("10.9.0.5", 40000))
    monkeypatch.delenv("ZHIJIAO_TRUSTED_PROXIES")
    reset_settings()


def test_behind_the_trusted_proxy_each_client_has_its_own_address(proxied, client, db):
    attacker = {"X-Forwarded-For": "203.0.113.7"}
    staff = f.staff(db, "bureau_officer")
    subject, _h = _phone_subject(client, db)
    for i in range(PER_IP_ACCOUNTS):
        assert _token(proxied, f"ghost{i}", password="Wrong#2026", headers=attacker).status_code == 401
    assert _token(proxied, "ghost-x", password="Wrong#2026", headers=attacker).status_code == 429
    # the attacker cannot step around the limit with a forged left part of the header
    spoofed = {"X-Forwarded-For": "198.51.100.99, 203.0.113.7"}
    assert _token(proxied, "ghost-y", password="Wrong#2026", headers=spoofed).status_code == 429
    # everyone else behind the same proxy logs in, staff and phone alike
    colleague = {"X-Forwarded-For": "198.51.100.20"}
    assert _token(proxied, staff.username, otp=f.otp(staff.username), headers=colleague).status_code == 200
    assert _phone_login(proxied, subject, headers=colleague).status_code == 200
    db.expire_all()
    failed = db.execute(select(AuditEvent.client_ip).where(AuditEvent.action == "login_failed")).scalars().all()
    assert set(failed) == {"203.0.113.7"}  # the audit log names the real address


def test_forwarded_for_from_an_untrusted_peer_is_ignored(app, client, db):
    direct = TestClient(app, raise_server_exceptions=False, client=("192.0.2.50", 1234))
    for i in range(PER_IP_ACCOUNTS):
        headers = {"X-Forwarded-For": f"198.51.100.{i}"}  # a different forged address each time
        assert _token(direct, f"ghost{i}", password="Wrong#2026", headers=headers).status_code == 401
    assert _token(direct, "ghost-z", password="Wrong#2026",
                  headers={"X-Forwarded-For": "198.51.100.200"}).status_code == 429


# --- 4: password policy, revocation on change, phone logout --------------------------------------


@pytest.mark.parametrize("weak", ["Abcdefg1", "Password1", "P@ssw0rd1", "Qwerty123!", "Woaini1314!", "Aa123456"])
def test_common_passwords_are_refused(client, db, weak):
    s = f.staff(db, "bureau_officer")
    h = f.login(client, s.username)
    r = client.post("/api/v1/auth/password", json={"current_password": f.PASSWORD, "new_password": weak}, headers=h)
    assert r.status_code == 422 and r.json()["code"] in ("common_password", "weak_password"), r.text
    assert r.json()["code"] == "common_password" or weak == "Aa123456"


def test_passwords_holding_the_users_own_data_are_refused(client, db):
    s = f.staff(db, "bureau_officer", username="wangjg", display_name="王建国", phone="13957294613")
    h = f.login(client, s.username)
    for bad in ("Wangjg#2026", "Wangjianguo#1", "Jianguo@2026", "Zz#957294613", "Qx!572946x"):
        r = client.post("/api/v1/auth/password", json={"current_password": f.PASSWORD, "new_password": bad},
                        headers=h)
        assert r.status_code == 422 and r.json()["code"] == "password_personal", (bad, r.text)
        assert "个人信息" in r.json()["fields"]["password"]
    # a subject's phone password must not hold six digits of the ID number
    o = f.office(db)
    officer = f.staff(db, "office_officer", o)
    subject = f.subject(db, o, name="赵丽华", status="under_correction")
    ho = f.login(client, officer.username)
    for bad in (f"Zx#{subject.id_number[6:14]}", "Zhaolihua#26"):
        r = client.post(f"/api/v1/subjects/{subject.id}/phone-password", json={"password": bad}, headers=ho)
        assert r.status_code == 422 and r.json()["code"] == "password_personal", (bad, r.text)


def test_demo_passwords_still_pass_the_policy():
    from zhijiao.demo.seed import DEMO_PASSWORD, PHONE_PASSWORD
    from zhijiao.security import passwords

    for pw in (DEMO_PASSWORD, PHONE_PASSWORD, "Strong#Pass1"):
        passwords.check_policy(pw)


def test_password_change_ends_every_other_session(client, db):
    s = f.staff(db, "bureau_officer")
    with clock.frozen(clock.now()) as frozen:
        h1 = _bearer(_token(client, s.username, otp=f.otp(s.username)))
        frozen.tick(timedelta(seconds=30))
        h2 = _bearer(_token(client, s.username, otp=f.otp(s.username)))
        frozen.tick(timedelta(seconds=30))
        ui = auth.login(db, username=s.username, password=f.PASSWORD, otp=f.otp(s.username), kind="ui").token
        r = client.post("/api/v1/auth/password", json={"current_password": f.PASSWORD,
                                                       "new_password": "Tiaoxiu#Qi7"}, headers=h1)
        assert r.status_code == 204, r.text
        assert client.get("/api/v1/me", headers=h1).status_code == 200  # the session that changed it stays
        r = client.get("/api/v1/me", headers=h2)
        assert r.status_code == 401 and r.json()["code"] == "session_revoked"
        db.expire_all()
        with pytest.raises(auth.Unauthorized):
            auth.resolve(db, ui, kinds=auth.UI_KINDS)
    changed = db.execute(select(AuditEvent).where(AuditEvent.action == "password_changed")).scalar_one()
    assert changed.changes == {"sessions_revoked": 2}


def test_phone_logout_and_new_phone_password_end_phone_sessions(client, db):
    subject, h = _phone_subject(client, db)
    hs = _bearer(_phone_login(client, subject))
    assert client.get("/api/v1/m/rollcalls/pending", headers=hs).status_code == 200
    assert client.post("/api/v1/m/logout", headers=hs).status_code == 204
    assert client.get("/api/v1/m/rollcalls/pending", headers=hs).status_code == 401
    hs = _bearer(_phone_login(client, subject))
    r = client.post(f"/api/v1/subjects/{subject.id}/phone-password", json={"password": "Xinmima#2027"}, headers=h)
    assert r.status_code == 204
    assert client.get("/api/v1/m/rollcalls/pending", headers=hs).status_code == 401
    assert client.post("/api/v1/m/logout").status_code == 401  # no token, nothing to end
    page = client.get("/m/app.js").text
    assert "/logout" in page and "退出" in client.get("/m/").text


# --- 5: tokens and files at rest -------------------------------------------------------------------


def test_browser_session_is_no_api_credential_and_delegates_end_with_it(client, db):
    s = f.staff(db, "bureau_officer")
    ui = auth.login(db, username=s.username, password=f.PASSWORD, otp=f.otp(s.username), kind="ui").token
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {ui}"}).status_code == 401
    assert auth.resolve(db, ui, kinds=auth.UI_KINDS).staff_id == s.id  # it opens the screens
    kiosk = auth.delegate(db, ui)
    hk = {"Authorization": f"Bearer {kiosk}"}
    assert client.get("/api/v1/me", headers=hk).status_code == 200
    with pytest.raises(auth.Unauthorized):
        auth.delegate(db, kiosk)  # an API token cannot mint delegates
    auth.logout(db, ui)
    assert client.get("/api/v1/me", headers=hk).status_code == 401
    with clock.frozen(clock.now()) as frozen:  # and a delegate lives 10 minutes at most
        frozen.tick(timedelta(seconds=30))
        ui = auth.login(db, username=s.username, password=f.PASSWORD, otp=f.otp(s.username), kind="ui").token
        hk = {"Authorization": f"Bearer {auth.delegate(db, ui)}"}
        frozen.tick(timedelta(minutes=9))
        assert client.get("/api/v1/me", headers=hk).status_code == 200
        frozen.tick(timedelta(minutes=2))
        assert client.get("/api/v1/me", headers=hk).status_code == 401


def test_the_app_leaves_no_file_readable_by_others(client):
    from zhijiao.security import filemodes

    root = Path(get_settings().data_dir)
    assert root.exists() and filemodes.loose_paths(root) == []
    assert os.umask(0o077) == 0o077  # set by create_app (and put back here)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    root = tmp_path / "data"
    monkeypatch.setenv("ZHIJIAO_DATA_DIR", str(root))
    reset_settings()
    old = os.umask(0o022)
    yield root
    os.umask(old)
    monkeypatch.undo()
    reset_settings()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_start_up_repairs_loose_modes_and_new_files_are_private(data_dir):
    from zhijiao import doctor
    from zhijiao.db import session as dbsession
    from zhijiao.security import filemodes

    (data_dir / "ui-storage").mkdir(parents=True, mode=0o755)
    os.chmod(data_dir, 0o755)
    for name in ("keys.json", "ui-storage/storage-user-abc.json", "zhijiao.db"):
        (data_dir / name).write_text("{}")
        os.chmod(data_dir / name, 0o644)
    check = doctor.check_file_modes()
    assert not check.ok and "他人可读" in check.detail
    fixed = filemodes.secure_process()
    assert len(fixed) == 5
    assert _mode(data_dir) == _mode(data_dir / "ui-storage") == 0o700
    assert {_mode(p) for p in data_dir.rglob("*") if p.is_file()} == {0o600}
    assert doctor.check_file_modes().ok
    # what the product creates from now on: the SQLite database with its WAL and SHM, anchors, storage
    (data_dir / "zhijiao.db").unlink()
    engine = dbsession.make_engine(f"sqlite:///{data_dir / 'zhijiao.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert {p.name for p in data_dir.glob("zhijiao.db*")} >= {"zhijiao.db", "zhijiao.db-wal", "zhijiao.db-shm"}
        assert {_mode(p) for p in data_dir.glob("zhijiao.db*")} == {0o600}
    engine.dispose()
    (data_dir / "ui-storage" / "storage-user-new.json").write_text("{}")
    assert filemodes.loose_paths(data_dir) == []


def test_start_up_refuses_files_it_cannot_make_private(data_dir, monkeypatch):
    from zhijiao.security import filemodes

    data_dir.mkdir(mode=0o700)
    (data_dir / "keys.json").write_text("{}")
    os.chmod(data_dir / "keys.json", 0o644)
    monkeypatch.setattr(filemodes.os, "chmod", lambda *_a, **_k: (_ for _ in ()).throw(PermissionError()))
    monkeypatch.setenv("ZHIJIAO_DEMO_MODE", "false")
    reset_settings()
    with pytest.raises(filemodes.LoosePermissions, match="拒绝启动"):
        filemodes.secure_process()


# --- 7: the audit chain anchored outside the database ----------------------------------------------


def _cli(args: list[str], database_url: str, anchor_file: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "ZHIJIAO_DATABASE_URL": database_url, "ZHIJIAO_AUDIT_ANCHOR_FILE": str(anchor_file)}
    return subprocess.run([sys.executable, "-m", "zhijiao.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def _cut_newest(db, backend: str, keep: int) -> None:
    """What a database superuser can do: delete the newest rows and move the chain head back."""
    with db.get_bind().begin() as conn:
        if backend == "postgres":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_guard"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_young_delete"))
        mac = conn.execute(text("SELECT mac FROM audit_events WHERE seq = :s"), {"s": keep}).scalar_one()
        conn.execute(text("DELETE FROM audit_events WHERE seq > :s"), {"s": keep})
        conn.execute(text("UPDATE audit_head SET seq = :s, mac = :m WHERE id = 1"), {"s": keep, "m": mac})
        if backend == "postgres":
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_guard"))


def test_audit_verify_finds_truncation_against_the_anchors(client, db, database_url, backend, tmp_path):
    from zhijiao.security import audit

    anchor_file = tmp_path / "anchors" / "audit-anchors.log"
    o = f.office(db)
    h = f.login(client, f.staff(db, "office_officer", o).username)
    assert client.post("/api/v1/subjects", json=f.subject_payload(), headers=h).status_code == 201
    r = _cli(["audit", "anchor"], database_url, anchor_file)
    assert r.returncode == 0, r.stderr
    lines = anchor_file.read_text().splitlines()
    head = db.execute(text("SELECT seq, mac FROM audit_head WHERE id = 1")).one()
    assert len(lines) == 1 and json.loads(lines[0])["seq"] == head.seq and json.loads(lines[0])["mac"] == head.mac
    assert set(json.loads(lines[0])) >= {"at", "seq", "id", "mac", "sig"}
    assert _mode(anchor_file) == 0o600
    assert _cli(["audit", "anchor"], database_url, anchor_file).returncode == 0  # head unchanged: no new line
    assert len(anchor_file.read_text().splitlines()) == 1
    ok = _cli(["audit", "verify"], database_url, anchor_file)
    assert ok.returncode == 0 and "1 个外部锚点" in ok.stdout, ok.stderr
    _cut_newest(db, backend, keep=head.seq - 3)
    db.expire_all()
    assert audit.verify_chain(db) is None  # the chain alone cannot see it
    bad = _cli(["audit", "verify"], database_url, anchor_file)
    assert bad.returncode == 1 and "末尾被删除" in bad.stderr and f"第 {head.seq} 条" in bad.stderr, bad.stderr


def test_anchor_file_cannot_be_forged_and_the_job_writes_it(client, db, tmp_path, monkeypatch):
    from zhijiao.jobs import service as jobs_service
    from zhijiao.security import anchors

    anchor_file = tmp_path / "audit-anchors.log"
    monkeypatch.setenv("ZHIJIAO_AUDIT_ANCHOR_FILE", str(anchor_file))
    reset_settings()
    try:
        f.login(client, f.staff(db, "bureau_officer").username)
        jobs_service.execute(jobs_service.get_job("audit.anchor"), force=True)
        first = json.loads(anchor_file.read_text().splitlines()[0])
        assert anchors.verify(db) == []
        # someone edits the anchor back to a lower head: the signature no longer matches
        forged = {**first, "seq": first["seq"] - 1}
        anchor_file.write_text(json.dumps(forged) + "\n")
        assert any("签名不符" in p for p in anchors.verify(db))
    finally:
        monkeypatch.delenv("ZHIJIAO_AUDIT_ANCHOR_FILE")
        reset_settings()


def test_a_password_reset_by_the_administrator_ends_the_accounts_sessions(client, db):
    s = f.staff(db, "bureau_officer")
    h = _bearer(_token(client, s.username, otp=f.otp(s.username)))
    admin = f.login(client, f.staff(db, "sysadmin").username)
    r = client.post(f"/api/v1/staff/{s.id}/password/reset", headers=admin)
    assert r.status_code in (200, 201), r.text
    r = client.get("/api/v1/me", headers=h)
    assert r.status_code == 401 and r.json()["code"] == "session_revoked"
