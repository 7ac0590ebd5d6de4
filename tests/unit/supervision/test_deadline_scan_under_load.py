"""The deadline scan over 100,000 subjects does not lock the writers out (issue 27).

While the scan runs as the scheduler runs it, staff log in and acknowledge alarms in a loop
through the real HTTP app: no answer is a 5xx, the scan commits in many short transactions,
and the writers complete while it runs. The p99 of those requests is printed (no timing is
asserted: a slow machine must not fail this). Both databases.
"""

from __future__ import annotations

import statistics
import threading
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select, text

from tests import factories as f
from zhijiao.core import clock
from zhijiao.db import session as dbsession
from zhijiao.jobs import service as jobs
from zhijiao.jobs.models import JobRun
from zhijiao.monitoring import alarms
from zhijiao.security.actor import Actor
from zhijiao.security.crypto import get_keyring
from zhijiao.subjects import idcard
from zhijiao.subjects.models import Subject
from zhijiao.supervision import scheduled
from zhijiao.supervision.levels.models import LevelReview
from zhijiao.tasks.models import Task

SUBJECTS = 100_000
OVERDUE = 3_000  # pending reception past the 10 days: a report task each
LEVELLED = 200  # confirmed strict level: a quarter of duty tasks each
ALARMS = 400


def _seed(db, office_id: int) -> list[int]:
    """100,000 subjects by bulk insert (one identity, encrypted once: the scan never reads it)."""
    ring, today, now = get_keyring(), clock.today_local(), clock.now()
    number = f.id_number()
    identity = {"id_number": number, "id_number_index": ring.blind_index(number),
                "id_number_masked": idcard.mask_id_number(number)}
    supervised = SUBJECTS - OVERDUE
    rows = [dict(office_id=office_id, name=f"对象{i}", gender="male", ethnicity="汉族", birth_date=today.replace(year=1985),
                 **identity, correction_type="probation", crime="盗窃罪", sentence="有期徒刑一年，缓刑二年",
                 deciding_organ="淄博市临淄区人民法院", supervision_level="strict", is_minor=False, version=1,
                 judgment_effective_date=today - timedelta(days=30), correction_start_date=today - timedelta(days=20),
                 status="under_correction" if i < supervised else "pending_reception",
                 created_at=now, updated_at=now)
            for i in range(SUBJECTS)]
    conn = db.connection()
    for i in range(0, len(rows), 10_000):
        conn.execute(insert(Subject.__table__), rows[i:i + 10_000])
    ids = list(db.execute(select(Subject.id).where(Subject.status == "under_correction").order_by(Subject.id)
                          .limit(LEVELLED + ALARMS)).scalars())
    conn.execute(insert(LevelReview.__table__), [
        dict(subject_id=sid, current_level="strict", proposed_level="strict", reasons=[], facts={},
             status="confirmed", decided_level="strict", decided_by="tests", decided_at=now,
             effective_on=today - timedelta(days=20), created_by="tests", created_at=now, updated_at=now)
        for sid in ids[:LEVELLED]])
    db.commit()
    db.execute(text("ANALYZE"))
    db.commit()
    opened = [alarms.raise_alarm(db_session=db, subject_id=sid, type="left_permitted_area", at=now, commit=False,
                                 publish=False) for sid in ids[LEVELLED:]]
    db.commit()
    return [a.id for a in opened]


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000, 1)


@pytest.mark.slow
def test_logins_and_alarm_actions_go_on_while_the_scan_runs(db, backend):
    db.info["actor"] = Actor.system("tests")
    office = f.office(db)
    operator = f.staff(db, "operator", totp_secret=None)
    t0 = time.perf_counter()
    alarm_ids = _seed(db, office.id)
    seeded_s = time.perf_counter() - t0
    job = jobs.get_job(scheduled.JOB)
    scan: dict[str, float] = {}

    def run_scan() -> None:
        scan["start"] = time.perf_counter()
        try:
            scan["ran"] = jobs.execute(job, owner="scan-under-load")
        finally:
            scan["end"] = time.perf_counter()

    from zhijiao.main import create_app

    latencies: dict[str, list[float]] = {"login": [], "acknowledge": []}
    statuses: list[int] = []
    done_during_scan = 0
    with TestClient(create_app(with_ui=False), raise_server_exceptions=False) as client:
        form = {"username": operator.username, "password": f.PASSWORD}
        headers = {"Authorization": f"Bearer {client.post('/api/v1/auth/token', data=form).json()['access_token']}"}
        worker = threading.Thread(target=run_scan, name="deadline-scan")
        worker.start()
        pending = iter(alarm_ids)
        while worker.is_alive():
            t = time.perf_counter()
            r = client.post("/api/v1/auth/token", data=form)
            latencies["login"].append(time.perf_counter() - t)
            statuses.append(r.status_code)
            alarm_id = next(pending, None)
            if alarm_id is not None:
                t = time.perf_counter()
                r = client.post(f"/api/v1/alarms/{alarm_id}/actions", json={"action": "acknowledge"}, headers=headers)
                latencies["acknowledge"].append(time.perf_counter() - t)
                statuses.append(r.status_code)
                assert r.status_code == 200 or r.status_code < 500, r.text
            done_during_scan += worker.is_alive()
        worker.join()

    assert scan["ran"]
    assert [s for s in statuses if s >= 500] == []
    assert set(statuses) == {200}
    db.expire_all()
    run = db.get(JobRun, scheduled.JOB)
    assert run.last_status == "ok", run.last_error
    result = __import__("json").loads(run.last_result)
    assert result["report_overdue"] == OVERDUE and result["duty_tasks"] > 0
    assert result["transactions"] > 1  # committed in chunks, not in one transaction
    assert done_during_scan >= 5  # the writers completed while the scan was running
    tasks = db.execute(select(func.count()).select_from(Task)).scalar_one()
    assert tasks == OVERDUE + result["duty_tasks"]
    print(f"\n[{backend}] seeded {SUBJECTS} subjects in {seeded_s:.1f} s; scan {scan['end'] - scan['start']:.1f} s "
          f"in {result['transactions']} transactions (longest {result['longest_ms']} ms); "
          + "; ".join(f"{k}: n={len(v)} median={statistics.median(v) * 1000:.1f} ms p99={_p99(v)} ms"
                      for k, v in latencies.items() if v))
    # A second run adds nothing: tasks are keyed.
    assert jobs.execute(job, owner="scan-under-load", force=True)
    db.expire_all()
    assert db.execute(select(func.count()).select_from(Task)).scalar_one() == tasks
