"""Security headers, body limits and caching (GB/T 22239 入侵防范, 剩余信息保护)."""

from __future__ import annotations

import factories as f


def test_security_headers_on_api(client, db):
    h = f.login(client, f.staff(db, "bureau_officer").username)
    r = client.get("/api/v1/subjects", headers=h)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-request-id"]


def test_oversized_request_is_413(client, db):
    from zhijiao.config import get_settings

    limit = get_settings().max_request_bytes
    h = f.login(client, f.staff(db, "bureau_officer").username)
    r = client.post("/api/v1/subjects", content=b"x" * (limit + 1), headers={**h, "content-type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "too_large"


def test_oversized_chunked_request_is_413(client, db):
    from zhijiao.config import get_settings

    limit = get_settings().max_request_bytes
    h = f.login(client, f.staff(db, "bureau_officer").username)

    def chunks():
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    r = client.post("/api/v1/subjects", content=chunks(), headers={**h, "content-type": "application/json"})
    assert r.status_code == 413


def test_api_docs_are_served_without_a_cdn(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/docs-assets/swagger-ui-bundle.js" in page.text and "cdn" not in page.text.lower()
    js = client.get("/docs-assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert client.get("/redoc").status_code == 404
