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
