"""Personal data at rest: no identity number or phone in clear in a raw dump; keys rotate;
audit retention keeps the chain verifiable."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import text

import factories as f
from zhijiao.core import clock


def _raw_dump(db, backend: str, database_url: str) -> bytes:
    if backend == "sqlite":
        path = database_url.removeprefix("sqlite:///")
        db.get_bind().dispose()
        with open(path, "rb") as fh:  # the file itself, WAL checkpointed by dispose
            data = fh.read()
        wal = path + "-wal"
        try:
            with open(wal, "rb") as fh:
                data += fh.read()
        except FileNotFoundError:
            pass
        return data
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not installed")
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    return subprocess.run(["pg_dump", url], capture_output=True, check=True, timeout=120).stdout


def test_raw_dump_has_no_identity_numbers_or_phones(client, db, backend, database_url):
    office = f.office(db)
    officer = f.staff(db, "office_officer", office)
    payload = f.subject_payload(phone="13712345678", residence_address="山东省淄博市临淄区某某路 88 号")
    r = client.post("/api/v1/subjects", json=payload, headers=f.login(client, officer.username))
    assert r.status_code == 201
    dump = _raw_dump(db, backend, database_url)
    assert payload["id_number"].encode() not in dump
    assert b"13712345678" not in dump
    assert "某某路 88 号".encode() not in dump
    assert "某某路 88 号".encode("utf-16-le") not in dump
    assert "张三丰".encode() in dump  # the check itself works: names are kept in clear for search


def test_key_rotation_reencrypts_everything(client, db, database_url, monkeypatch):
    from zhijiao.security import keys
    from zhijiao.security.crypto import get_keyring

    office = f.office(db)
    officer = f.staff(db, "office_officer", office)
    h = f.login(client, officer.username)
    sid = client.post("/api/v1/subjects", json=f.subject_payload(phone="13600001111"), headers=h).json()["id"]
    ring = get_keyring()
    old = ring.current
    count = keys.rotate(batch=2)
    assert count >= 3 and get_keyring().current != old
    raw = db.execute(text("SELECT id_number, phone FROM subjects WHERE id = :i"), {"i": sid}).one()
    assert all(get_keyring().key_id_of(bytes(v)) == get_keyring().current for v in raw)
    body = client.get(f"/api/v1/subjects/{sid}", headers=h).json()
    assert body["phone"] == "13600001111"


def test_audit_purge_keeps_young_rows_and_chain(client, db, backend):
    from sqlalchemy.exc import DBAPIError

    from zhijiao.security import audit
    from zhijiao.security.actor import Actor

    db.info["actor"] = Actor.system("test")
    with clock.frozen(clock.now() - timedelta(days=400)):  # rows written long ago
        old_office = f.office(db)
    young_office = f.office(db)
    with pytest.raises(ValueError):
        audit.purge(db, 30)
    # The database itself refuses to delete young rows, whoever asks.
    young_seq = db.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()
    with pytest.raises(DBAPIError), db.get_bind().begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": young_seq})
    removed = audit.purge(db)
    assert removed >= 1
    db.expire_all()
    remaining = db.execute(text("SELECT object_type, object_id FROM audit_events")).all()
    assert ("offices", str(young_office.id)) in remaining and ("offices", str(old_office.id)) not in remaining
    assert audit.verify_chain(db) is None


# --- issue 20 item 6: leave contact phone, staff phone, document PDFs -------------------------------

def _fake_pdf(monkeypatch):
    from zhijiao.documents import render

    def fake(kind, context, **kw):
        return b"%PDF-1.7 fake " + render.render_html(kind, context, **kw).encode()[:64] + b"\n%%EOF\n"

    monkeypatch.setattr(render, "render_pdf", fake)


def _leave_with_document(client, db, monkeypatch) -> tuple[int, dict, object]:
    _fake_pdf(monkeypatch)
    office = f.office(db)
    officer = f.staff(db, "office_officer", office, phone="13511112222")
    colleague = f.staff(db, "office_officer", office)
    today = clock.today_local()
    subject = f.subject(db, office, status="under_correction", correction_start_date=today - timedelta(days=40),
                        correction_end_date=today + timedelta(days=300))
    h = f.login(client, officer.username)
    start = today + timedelta(days=2)
    r = client.post(f"/api/v1/subjects/{subject.id}/leave-requests", headers=h, json={
        "start": start.isoformat(), "end": (start + timedelta(days=2)).isoformat(), "destination": "山东省济南市历下区",
        "reason": "探望住院的母亲", "contact_phone": "13988887777"})
    assert r.status_code == 201, r.text
    lid = r.json()["id"]
    r = client.post(f"/api/v1/leave-requests/{lid}/decisions", json={"decision": "approve", "note": "按时返回"},
                    headers=f.login(client, colleague.username))
    assert r.status_code == 200, r.text
    return lid, h, officer


def test_phones_and_documents_are_encrypted_in_the_database_and_audit(client, db, backend, database_url,
                                                                       monkeypatch):
    lid, h, officer = _leave_with_document(client, db, monkeypatch)
    ring = __import__("zhijiao.security.crypto", fromlist=["get_keyring"]).get_keyring()
    raw_phone = db.execute(text("SELECT contact_phone FROM leave_requests WHERE id = :i"), {"i": lid}).scalar_one()
    assert ring.decrypt(bytes(raw_phone)) == b"13988887777"
    raw_staff = db.execute(text("SELECT phone FROM staff WHERE id = :i"), {"i": officer.id}).scalar_one()
    assert ring.decrypt(bytes(raw_staff)) == b"13511112222"
    raw_pdf = db.execute(text("SELECT content FROM documents")).scalars().all()
    assert raw_pdf and all(bytes(v)[:2] == b"Z1" and b"%PDF" not in bytes(v) for v in raw_pdf)
    # The audit rows mask them.
    changes = db.execute(text("SELECT changes FROM audit_events WHERE object_type IN "
                              "('leave_requests', 'staff', 'documents')")).scalars().all()
    blob = " ".join(str(c) for c in changes)
    assert "13988887777" not in blob and "13511112222" not in blob and "%PDF" not in blob
    # The application still reads them in clear.
    body = client.get(f"/api/v1/leave-requests/{lid}", headers=h)
    if body.status_code == 200:
        assert body.json().get("contact_phone") in (None, "13988887777")
    doc_id = db.execute(text("SELECT id FROM documents")).scalars().first()
    pdf = client.get(f"/api/v1/documents/{doc_id}", headers=h)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    dump = _raw_dump(db, backend, database_url)
    assert b"13988887777" not in dump and b"13511112222" not in dump and b"%PDF-1.7 fake" not in dump


def test_key_rotation_covers_the_new_columns(client, db, monkeypatch):
    from zhijiao.security import keys
    from zhijiao.security.crypto import get_keyring

    lid, _, officer = _leave_with_document(client, db, monkeypatch)
    keys.rotate(batch=2)
    ring = get_keyring()
    for sql in ("SELECT contact_phone FROM leave_requests", "SELECT phone FROM staff WHERE phone IS NOT NULL",
                "SELECT content FROM documents"):
        values = db.execute(text(sql)).scalars().all()
        assert values and all(ring.key_id_of(bytes(v)) == ring.current for v in values), sql
    # the re-encryption is on the audit trail (no values), table by table
    tables = set(db.execute(text("SELECT object_type FROM audit_events WHERE action = 'reencrypt' "
                                 "AND actor_name = 'system:keys-rotate'")).scalars())
    assert {"leave_requests", "staff", "documents", "subjects"} <= tables


@pytest.fixture
def empty_database(backend, tmp_path, request):
    """A database with no schema (each test migrates it itself)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    import uuid

    from sqlalchemy import create_engine

    # skips when PostgreSQL is not reachable; the same server, its maintenance database
    PG_ADMIN_URL = request.getfixturevalue("postgres_url").rsplit("/", 1)[0] + "/postgres"
    name = f"zhijiao_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def test_migration_encrypts_existing_phones(empty_database):
    from sqlalchemy import select

    from zhijiao.db import migrate
    from zhijiao.db import session as dbsession
    from zhijiao.org.models import Staff
    from zhijiao.security.crypto import get_keyring

    migrate.upgrade(empty_database, "s19_fonts")
    engine = dbsession.make_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO staff (username, display_name, role, phone, active, password_hash, "
                          "failed_logins, created_at, updated_at) VALUES ('old1', '旧账号', 'office_officer', "
                          "'13700001234', true, 'x', 0, :t, :t)"), {"t": clock.now()})
    migrate.upgrade(empty_database)
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT phone FROM staff WHERE username = 'old1'")).scalar_one()
        assert isinstance(raw, (bytes, memoryview)) and bytes(raw)[:2] == b"Z1"
        assert get_keyring().decrypt(bytes(raw)) == b"13700001234"
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        assert s.execute(select(Staff.phone).where(Staff.username == "old1")).scalar_one() == "13700001234"
    migrate.upgrade(empty_database, "head")  # idempotent
    migrate.command.downgrade(migrate.alembic_config(empty_database), "s19_fonts")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT phone FROM staff WHERE username = 'old1'")).scalar_one() == "13700001234"
    engine.dispose()
