"""The system administrator sees the scheduled jobs' health and can run one now (audited)."""

from __future__ import annotations

import factories as f


def test_jobs_listed_run_and_audited(client, db):
    sys = f.login(client, f.staff(db, "sysadmin").username)
    officer = f.login(client, f.staff(db, "office_officer", f.office(db)).username)
    rows = client.get("/api/v1/jobs", headers=sys).json()
    assert {"supervision.deadlines", "rollcalls.expire"} <= {r["name"] for r in rows}
    assert client.get("/api/v1/jobs", headers=officer).status_code == 403
    assert client.post("/api/v1/jobs/rollcalls.expire/run", headers=officer).status_code == 403
    r = client.post("/api/v1/jobs/nope/run", headers=sys)
    assert r.status_code == 404 and r.json()["code"] == "job_not_found"
    r = client.post("/api/v1/jobs/rollcalls.expire/run", headers=sys)
    assert r.status_code == 200
    body = r.json()
    assert (body["ran"], body["last_status"], body["last_result"], body["runs"]) == (True, "ok", '{"expired": 0}', 1)
    aud = f.login(client, f.staff(db, "auditor").username)
    trail = client.get("/api/v1/audit-events", params={"object_type": "job"}, headers=aud).json()
    assert trail["total"] == 1 and trail["items"][0]["object_id"] == "rollcalls.expire"
