"""Documents keep the data they were made from and can be re-rendered under the same number (issue 19)."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from sqlalchemy import text

import factories as f
from zhijiao.core import clock

render = pytest.importorskip("zhijiao.documents.render")
pypdf = pytest.importorskip("pypdf")

ENTRY = {"kind": "entry", "place": "司法所宣告室", "present": ["王所长（司法所）", "张建国之妻（家属）"]}


@pytest.fixture
def world(db):
    a, b = f.office(db, code="A1"), f.office(db, code="B1")
    officer = f.staff(db, "office_officer", a)
    today = clock.today_local()
    return {
        "a": a, "officer": officer,
        "other": f.staff(db, "office_officer", b),
        "bureau": f.staff(db, "bureau_officer"),
        "leader": f.staff(db, "leader"),
        "auditor": f.staff(db, "auditor"),
        "subject": f.subject(db, a, name="张建国", status="reported", responsible_staff_id=officer.id,
                             judgment_effective_date=today - timedelta(days=3),
                             correction_end_date=today + timedelta(days=180)),
    }


def _announce(client, world) -> tuple[dict, dict]:
    h = f.login(client, world["officer"].username)
    docs = client.post(f"/api/v1/subjects/{world['subject'].id}/announcements", json=ENTRY, headers=h).json()
    return docs["documents"][0], h


def _text(pdf: bytes) -> str:
    return "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages).replace(" ", "").replace("\n", "")


def test_a_broken_document_is_rerendered_under_its_number_and_audited(client, db, world):
    doc, h = _announce(client, world)
    assert doc["template_version"] == render.template_version() and doc["rendered_at"]
    # The document was stored broken (as when no CJK font was installed).
    broken = b"%PDF-1.7 boxes only\n%%EOF\n"
    db.execute(text("UPDATE documents SET content = :c, sha256 = :s, size = :n WHERE id = :i"),
               {"c": broken, "s": hashlib.sha256(broken).hexdigest(), "n": len(broken), "i": doc["id"]})
    db.commit()

    r = client.post(f"/api/v1/documents/{doc['id']}/rerender", headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["id"] == doc["id"] and out["number"] == doc["number"]
    assert out["old_sha256"] == hashlib.sha256(broken).hexdigest() and out["changed"] is True
    assert out["sha256"] == doc["sha256"]  # same data, same templates: the PDF first made, byte for byte

    pdf = client.get(f"/api/v1/documents/{doc['id']}", headers=h)
    assert hashlib.sha256(pdf.content).hexdigest() == out["sha256"]
    assert "张建国" in _text(pdf.content) and doc["number"] in _text(pdf.content)

    ha = f.login(client, world["auditor"].username)
    events = client.get("/api/v1/audit-events", params={"object_type": "documents", "object_id": str(doc["id"])},
                        headers=ha).json()["items"]
    rerender = next(e for e in events if e["action"] == "rerender")
    assert rerender["changes"]["old_sha256"] == out["old_sha256"]
    assert rerender["changes"]["new_sha256"] == out["sha256"] and rerender["changes"]["number"] == doc["number"]


def test_rerendering_an_intact_document_changes_nothing(client, world):
    doc, h = _announce(client, world)
    out = client.post(f"/api/v1/documents/{doc['id']}/rerender", headers=h).json()
    assert out["changed"] is False and out["sha256"] == out["old_sha256"] == doc["sha256"]


def test_the_render_context_is_encrypted_at_rest(client, db, world):
    doc, _ = _announce(client, world)
    raw = db.execute(text("SELECT render_context FROM documents WHERE id = :i"), {"i": doc["id"]}).scalar_one()
    raw = bytes(raw)
    assert raw and "张建国".encode() not in raw and world["subject"].id_number.encode() not in raw
    assert "司法所宣告室".encode() not in raw


def test_rerender_is_scoped_like_the_download(client, world):
    doc, _ = _announce(client, world)
    url = f"/api/v1/documents/{doc['id']}/rerender"
    r = client.post(url, headers=f.login(client, world["other"].username))
    assert r.status_code == 404 and r.json()["code"] == "document_not_found"
    assert client.post(url, headers=f.login(client, world["auditor"].username)).status_code == 403
    assert client.post(url, headers=f.login(client, world["leader"].username)).status_code == 403
    assert client.post(url, headers=f.login(client, world["bureau"].username)).status_code == 200
    assert client.post("/api/v1/documents/999999/rerender",
                       headers=f.login(client, world["officer"].username)).status_code == 404


def test_a_document_made_before_contexts_were_kept_is_refused(client, db, world):
    doc, h = _announce(client, world)
    db.execute(text("UPDATE documents SET render_context = NULL, template_version = NULL, rendered_at = NULL "
                    "WHERE id = :i"), {"i": doc["id"]})
    db.commit()
    listed = client.get(f"/api/v1/subjects/{world['subject'].id}/documents", headers=h).json()
    assert next(d for d in listed if d["id"] == doc["id"])["template_version"] is None
    r = client.post(f"/api/v1/documents/{doc['id']}/rerender", headers=h)
    assert r.status_code == 409
    assert r.json()["code"] == "document_context_missing" and "无法按原文号重新生成" in r.json()["message"]
    # nothing changed
    pdf = client.get(f"/api/v1/documents/{doc['id']}", headers=h)
    assert hashlib.sha256(pdf.content).hexdigest() == doc["sha256"]
