"""Writers during a long job: logins and fix commits while the deadline scan runs, side by side
with the same writers and no scan (issue 27), on SQLite and PostgreSQL.

A district of ``--subjects`` (100,000) subjects, one in twelve pending reception past its 10 days
(a report task each) and ``--levelled`` with a confirmed strict level (a quarter of duty tasks
each). One loop logs the operator in through the HTTP app (in-process) and commits one fix batch
(the durable hand-off of the fix pipeline, ``FixStore.store``) after another: first for
``--baseline-seconds`` with no job, then while the scheduler's ``supervision.deadlines`` runs in a
worker thread of the same process, as ``zhijiao serve`` runs it. Prints one JSON line: median and
p99 of each writer with the scan off and on, any 5xx, and the scan's duration, transactions and
longest transaction (the time it held the write lock).

    PYTHONPATH=src python bench/writers_during_jobs.py [--subjects 100000] [--levelled 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import latency_ms, log, machine, on_postgres, own_ports  # noqa: E402

DEVICES = 200


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=100_000)
    ap.add_argument("--levelled", type=int, default=1_000, help="subjects with a confirmed level (duty tasks)")
    ap.add_argument("--baseline-seconds", type=float, default=20.0, help="writers alone, before the scan")
    ap.add_argument("--backends", default="sqlite,postgresql")
    return ap


def _seed(n: int, levelled: int) -> list[int]:
    """The district by bulk insert; returns the subject ids that wear a bracelet."""
    from sqlalchemy import insert, select, text

    from zhijiao.core import clock
    from zhijiao.db import session as dbsession
    from zhijiao.demo import seed as demo_seed
    from zhijiao.monitoring.models import Device, DeviceBinding, PositioningOrder
    from zhijiao.security.crypto import get_keyring
    from zhijiao.subjects import idcard
    from zhijiao.subjects.models import Subject
    from zhijiao.supervision.levels.models import LevelReview

    demo_seed.seed(subjects=0)
    engine = dbsession.get_engine()
    rng = random.Random(27)
    ring, now, today = get_keyring(), clock.now(), clock.today_local()
    with engine.connect() as conn:
        office_ids = [r[0] for r in conn.execute(text("SELECT id FROM offices"))]
    rows = []
    for i in range(n):
        number = idcard.generate_id_number("370305", date(1960, 1, 1) + timedelta(days=rng.randrange(16000)),
                                           "male", i % 500)
        pending = i % 12 == 0
        rows.append(dict(
            office_id=rng.choice(office_ids), name=f"对象{i}", gender="male", ethnicity="汉族",
            birth_date=date(1980, 1, 1), id_number=number, id_number_index=ring.blind_index(number),
            id_number_masked=idcard.mask_id_number(number), correction_type="probation", crime="危险驾驶罪",
            sentence="拘役三个月，缓刑六个月", deciding_organ="淄博市临淄区人民法院",
            judgment_effective_date=today - timedelta(days=rng.randrange(5, 300)),
            correction_start_date=None if pending else today - timedelta(days=rng.randrange(1, 200)),
            supervision_level=rng.choice(["strict", "ordinary", "lenient"]), is_minor=False,
            status="pending_reception" if pending else "under_correction", version=1, created_at=now, updated_at=now))
    with engine.begin() as conn:
        for i in range(0, n, 5000):
            conn.execute(insert(Subject.__table__), rows[i:i + 5000])
        supervised = list(conn.execute(select(Subject.id).where(Subject.status == "under_correction")
                                       .order_by(Subject.id).limit(levelled + DEVICES)).scalars())
        if levelled:
            conn.execute(insert(LevelReview.__table__), [
                dict(subject_id=sid, current_level="strict", proposed_level="strict", reasons=[], facts={},
                     status="confirmed", decided_level="strict", decided_by="bench", decided_at=now,
                     effective_on=today - timedelta(days=rng.randrange(1, 60)), created_by="bench",
                     created_at=now, updated_at=now) for sid in supervised[:levelled]])
        worn = supervised[-DEVICES:]
        dids = [r[0] for r in conn.execute(insert(Device.__table__).returning(Device.__table__.c.id), [
            dict(kind="bracelet", protocol="jt808", ident=f"1390{k:07d}", model_profile="default_bracelet",
                 active=True, created_at=now, updated_at=now) for k in range(DEVICES)])]
        conn.execute(insert(DeviceBinding.__table__), [
            dict(device_id=d, subject_id=s, start_at=now - timedelta(days=1), bound_by="bench")
            for d, s in zip(dids, worn, strict=True)])
        conn.execute(insert(PositioningOrder.__table__), [
            dict(subject_id=s, trigger="left_without_approval", kind="initial", start_date=today - timedelta(days=1),
                 end_date=today + timedelta(days=60), approved_by_name="bench", approved_at=now, reason="基准测试")
            for s in worn])
        conn.execute(text("ANALYZE"))
    return worn


class Writers:
    """One loop of a login and a fix commit after the other; latencies and statuses."""

    def __init__(self, client, store) -> None:
        self.client, self.store = client, store
        self.rng = random.Random(808)
        self.form = {"username": "operator", "password": "Zhijiao@2026"}

    def run(self, until) -> dict:
        from zhijiao.core import clock
        from zhijiao.core.fix import Fix, FixSource

        login, fix, statuses = [], [], []
        while until():
            t = time.perf_counter()
            r = self.client.post("/api/v1/auth/token", data=self.form)
            login.append(time.perf_counter() - t)
            statuses.append(r.status_code)
            now = clock.now()
            batch = [Fix(device_ident=f"1390{k:07d}", fix_time=now, lat=36.82 + self.rng.uniform(-0.01, 0.01),
                         lon=118.31 + self.rng.uniform(-0.01, 0.01), source=FixSource.gnss, accuracy_m=10.0,
                         received_at=now) for k in self.rng.sample(range(DEVICES), 20)]
            t = time.perf_counter()
            try:
                self.store.store(batch)
                statuses.append(200)
            except Exception as exc:  # noqa: BLE001 - counted: a lost fix batch is this bench's failure
                log("fix commit failed:", exc)
                statuses.append(500)
            fix.append(time.perf_counter() - t)
        return {"login": latency_ms(login, with_max=True), "fix_commit": latency_ms(fix, with_max=True),
                "errors_5xx": sum(s >= 500 for s in statuses),
                "other_statuses": sorted({s for s in statuses if s not in (200, 500)})}


def run(url: str, label: str, args) -> dict:
    from fastapi.testclient import TestClient

    from zhijiao.db import migrate
    from zhijiao.db import session as dbsession
    from zhijiao.ingestion.directory import Directory
    from zhijiao.ingestion.store import FixStore
    from zhijiao.jobs import service as jobs
    from zhijiao.main import create_app
    from zhijiao.supervision import scheduled

    migrate.upgrade(url)
    dbsession.configure(url)
    t0 = time.perf_counter()
    _seed(args.subjects, args.levelled)
    log(f"[{label}] seeded {args.subjects} subjects in {time.perf_counter() - t0:.1f} s")
    directory = Directory()
    store = FixStore(directory)
    out: dict = {"backend": label}
    with TestClient(create_app(with_ui=False), raise_server_exceptions=False) as client:
        writers = Writers(client, store)
        end = time.perf_counter() + args.baseline_seconds
        out["scan_off"] = writers.run(lambda: time.perf_counter() < end)
        log(f"[{label}] scan off: {out['scan_off']}")
        job = jobs.get_job(scheduled.JOB)
        worker = threading.Thread(target=jobs.execute, args=(job,), kwargs={"owner": "bench"}, name="deadline-scan")
        t0 = time.perf_counter()
        worker.start()
        out["scan_on"] = writers.run(worker.is_alive)
        worker.join()
        scan_s = time.perf_counter() - t0
        log(f"[{label}] scan on: {out['scan_on']}")
    store.close()
    directory.close()
    status = {row["name"]: row for row in _status()}[scheduled.JOB]
    out["scan"] = {"seconds": round(scan_s, 1), "status": status["last_status"], "error": status["last_error"],
                   **json.loads(status["last_result"] or "{}")}
    dbsession.get_engine().dispose()
    return out


def _status() -> list[dict]:
    from zhijiao.db import session as dbsession
    from zhijiao.jobs import service as jobs
    from zhijiao.security.actor import Actor

    with dbsession.session_scope(Actor.system("bench")) as db:
        return jobs.status(db_session=db)


def main() -> None:
    args = _parser().parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="zhijiao-bench-"))
    os.environ["ZHIJIAO_DATA_DIR"] = str(tmp)
    os.environ["ZHIJIAO_DEMO_MODE"] = "true"
    os.environ["ZHIJIAO_SECRET_KEY"] = "bench-" + uuid.uuid4().hex
    # The scan is started here, at a known moment; the app's own scheduler would start it too.
    os.environ["ZHIJIAO_SCHEDULER_ENABLED"] = "false"
    os.environ["ZHIJIAO_JT808_ENABLED"] = "false"
    own_ports()
    from zhijiao.jobs import service as jobs

    backends = args.backends.split(",")
    results = []
    if "sqlite" in backends:
        results.append(run(f"sqlite:///{tmp / 'bench.db'}", "sqlite", args))
    if "postgresql" in backends:
        results.append(on_postgres(lambda url: run(url, "postgresql", args)))
    print(json.dumps({"bench": "writers_during_jobs", "subjects": args.subjects, "levelled": args.levelled,
                      "chunk_budget_ms": jobs.CHUNK_BUDGET.total_seconds() * 1000, "results": results,
                      "machine": machine()}, ensure_ascii=False))


if __name__ == "__main__":
    main()
