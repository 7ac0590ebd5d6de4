"""Generated documents and the archive export, with the real renderer (WeasyPrint, Noto CJK)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest

import factories as f
from zhijiao.core import clock

render = pytest.importorskip("zhijiao.documents.render")
pypdf = pytest.importorskip("pypdf")


def _text(pdf: bytes) -> str:
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    return text.replace(" ", "").replace("\n", "")


@pytest.fixture
def fast_pdf(monkeypatch):
    def fake(kind, context, **kw):
        return b"%PDF-1.7 fake " + render.render_html(kind, context, **kw).encode()[:64] + b"\n%%EOF\n"

    monkeypatch.setattr(render, "render_pdf", fake)


@pytest.fixture
def world(db):
    a, b = f.office(db, code="A1"), f.office(db, code="B1")
    officer = f.staff(db, "office_officer", a)
    today = clock.today_local()
    return {
        "a": a, "b": b, "officer": officer,
        "other": f.staff(db, "office_officer", b),
        "bureau": f.staff(db, "bureau_officer"),
        "auditor": f.staff(db, "auditor"),
        "subject": f.subject(db, a, name="张建国", status="reported", responsible_staff_id=officer.id,
                             judgment_effective_date=today - timedelta(days=3),
                             correction_end_date=today + timedelta(days=180)),
    }


ENTRY = {"kind": "entry", "place": "司法所宣告室", "present": ["王所长（司法所）", "张建国之妻（家属）"]}


def test_announcement_pdfs_download_and_archive_round_trip(client, world):
    h = f.login(client, world["officer"].username)
    sid = world["subject"].id
    out = client.post(f"/api/v1/subjects/{sid}/announcements", json=ENTRY, headers=h).json()
    assert [d["kind"] for d in out["documents"]] == ["entry_announcement", "notice_of_obligations"]
    entry = out["documents"][0]
    assert entry["pages"] and entry["size"] > 1000

    r = client.get(f"/api/v1/documents/{entry['id']}", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(r.content).hexdigest() == entry["sha256"] == r.headers["x-content-sha256"]
    text = _text(r.content)
    assert "张建国" in text and entry["number"] in text and "第二十二条" in text and "入矫宣告书" in text

    r = client.get(f"/api/v1/subjects/{sid}/archive", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    names = set(zf.namelist())
    assert {"catalogue.pdf", "record.json", "manifest.sha256"} <= names
    manifest = [line.split("  ", 1) for line in zf.read("manifest.sha256").decode().splitlines()]
    assert {path for _, path in manifest} == names - {"manifest.sha256"}
    for sha, path in manifest:
        assert hashlib.sha256(zf.read(path)).hexdigest() == sha, path
    record = json.loads(zf.read("record.json"))
    assert record["subject"]["name"] == "张建国" and record["subject"]["status"] == "under_correction"
    assert [d["number"] for d in record["documents"]] == [d["number"] for d in out["documents"]]
    assert record["announcements"][0]["kind"] == "entry" and record["level_reviews"][0]["proposed_level"] == "strict"
    for d in record["documents"]:
        assert hashlib.sha256(zf.read(d["path"])).hexdigest() == d["sha256"]
    catalogue = _text(zf.read("catalogue.pdf"))
    assert "卷内目录" in catalogue and "入矫宣告书" in catalogue and "社区矫正工作档案" in catalogue

    # both reads were audited: the download and the export
    ha = f.login(client, world["auditor"].username)
    events = client.get("/api/v1/audit-events", params={"object_type": "documents"}, headers=ha).json()["items"]
    assert {"create", "download"} <= {e["action"] for e in events}
    exports = client.get("/api/v1/audit-events", params={"object_type": "subjects", "object_id": str(sid)},
                         headers=ha).json()["items"]
    export = next(e for e in exports if e["action"] == "export")
    assert export["changes"]["sha256"] == hashlib.sha256(r.content).hexdigest()


def test_numbers_run_per_bureau_and_year_without_gaps(client, db, world, fast_pdf):
    h = f.login(client, world["officer"].username)
    others = [f.subject(db, world["a"], name=f"对象{i}", status="reported",
                        correction_end_date=clock.today_local() + timedelta(days=90)) for i in range(2)]
    year = clock.today_local().year
    # a refused announcement (no term) takes no number
    no_term = f.subject(db, world["a"], name="无期限", status="reported")
    assert client.post(f"/api/v1/subjects/{no_term.id}/announcements", json=ENTRY, headers=h).status_code == 422
    numbers = []
    for s in [world["subject"], *others]:
        docs = client.post(f"/api/v1/subjects/{s.id}/announcements", json=ENTRY, headers=h).json()["documents"]
        numbers.append(docs[0]["number"])
    assert numbers == [f"临司矫宣〔{year}〕{i}号" for i in (1, 2, 3)]


def test_documents_are_scoped(client, world, fast_pdf):
    h = f.login(client, world["officer"].username)
    sid = world["subject"].id
    doc = client.post(f"/api/v1/subjects/{sid}/announcements", json=ENTRY, headers=h).json()["documents"][0]
    ho = f.login(client, world["other"].username)
    assert client.get(f"/api/v1/documents/{doc['id']}", headers=ho).status_code == 404
    assert client.get(f"/api/v1/subjects/{sid}/documents", headers=ho).status_code == 404
    assert client.get(f"/api/v1/subjects/{sid}/archive", headers=ho).status_code == 404
    assert client.get("/api/v1/documents/999999", headers=h).status_code == 404
    assert client.get(f"/api/v1/documents/{doc['id']}", headers=f.login(client, world["auditor"].username)).status_code == 403
    hb = f.login(client, world["bureau"].username)
    r = client.get(f"/api/v1/subjects/{sid}/archive", headers=hb)
    assert r.status_code == 200
    record = json.loads(zipfile.ZipFile(io.BytesIO(r.content)).read("record.json"))
    assert record["subject"]["id"] == sid


def test_a_minors_archive_is_restricted_and_sealed(client, db, world, fast_pdf):
    """Law Art. 54. The service refuses with 403; where scoping already hides a minor's file from
    everyone but the assigned officer (and seals it after release) the answer is 404: both hold."""
    h, hb = f.login(client, world["officer"].username), f.login(client, world["bureau"].username)
    active = f.subject(db, world["a"], name="李小华", is_minor=True, status="under_correction",
                       responsible_staff_id=world["officer"].id)
    assert client.get(f"/api/v1/subjects/{active.id}/archive", headers=h).status_code == 200
    r = client.get(f"/api/v1/subjects/{active.id}/archive", headers=hb)
    assert r.status_code in (403, 404)
    if r.status_code == 403:
        assert r.json()["code"] == "minor_archive_restricted"
    sealed = f.subject(db, world["a"], name="王小明", is_minor=True, status="released",
                       responsible_staff_id=world["officer"].id)
    r = client.get(f"/api/v1/subjects/{sealed.id}/archive", headers=h)
    assert r.status_code in (403, 404)
    if r.status_code == 403:
        assert r.json()["code"] == "minor_archive_sealed"
    r = client.get(f"/api/v1/subjects/{sealed.id}/archive", params={"purpose": "judicial_case"}, headers=hb)
    assert r.status_code in (403, 404)  # a judicial purpose still needs the case's reference


def test_concurrent_numbering_never_repeats_a_number(db, world):
    """Eight writers at once: every number once, none skipped (row lock on PostgreSQL, write lock on SQLite)."""
    from concurrent.futures import ThreadPoolExecutor

    from zhijiao.db import session as dbsession
    from zhijiao.documents import service as documents_service
    from zhijiao.security.actor import Actor

    bureau_id = world["a"].bureau_id

    def take(_: int) -> int:
        with dbsession.session_scope(Actor.system("numbering-test")) as s:
            return documents_service.allocate_number(s, bureau_id=bureau_id, prefix="临司矫测", year=2026)

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(take, range(16)))
    assert sorted(numbers) == list(range(1, 17))


def test_rendering_leaves_pillow_strict(client, world):
    """WeasyPrint relaxes Pillow globally on import; the document service puts it back (check-in photos)."""
    from PIL import ImageFile

    h = f.login(client, world["officer"].username)
    client.post(f"/api/v1/subjects/{world['subject'].id}/announcements", json=ENTRY, headers=h)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
