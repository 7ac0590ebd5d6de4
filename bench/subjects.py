"""Subject search through the API, in-process, over 100,000 subjects on SQLite and PostgreSQL.

Prints one JSON line: median and p95 of a filtered, paged search per backend (target p95 < 50 ms).
The app runs as configured (the scheduler on by default: its first deadline scan over the
100,000 subjects runs while the bench logs in and searches).

    PYTHONPATH=src python bench/subjects.py   (BENCH_SUBJECTS, BENCH_QUERIES change the sizes)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
if __name__ == "__main__":  # --help answers before anything is set up
    argparse.ArgumentParser(description=__doc__.splitlines()[0],
                            epilog="sizes: BENCH_SUBJECTS (100000), BENCH_QUERIES (300)").parse_args()
N = int(os.environ.get("BENCH_SUBJECTS", "100000"))
QUERIES = int(os.environ.get("BENCH_QUERIES", "300"))

tmp = Path(tempfile.mkdtemp(prefix="zhijiao-bench-"))
os.environ["ZHIJIAO_DATA_DIR"] = str(tmp)
os.environ["ZHIJIAO_DEMO_MODE"] = "true"
os.environ["ZHIJIAO_SECRET_KEY"] = "bench-" + uuid.uuid4().hex
os.environ["ZHIJIAO_JT808_ENABLED"] = "false"  # the API alone; no gateway beside a running demo

from _common import machine, on_postgres, own_ports, summary_ms  # noqa: E402

own_ports()
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from zhijiao.config import get_settings  # noqa: E402
from zhijiao.db import migrate  # noqa: E402
from zhijiao.db import session as dbsession  # noqa: E402
from zhijiao.demo import seed as demo_seed  # noqa: E402
from zhijiao.main import create_app  # noqa: E402
from zhijiao.security.crypto import get_keyring  # noqa: E402
from zhijiao.subjects import idcard  # noqa: E402
from zhijiao.subjects.models import Subject  # noqa: E402

STATUSES = ["under_correction"] * 8 + ["pending_reception", "reported", "released", "terminated"]


def _rows(office_ids: list[int], rng: random.Random) -> list[dict]:
    ring = get_keyring()
    rows = []
    for i in range(N):
        gender = "male" if rng.random() < 0.86 else "female"
        birth = date(1960, 1, 1) + timedelta(days=rng.randrange(16000))
        number = idcard.generate_id_number("370305", birth, gender, i % 500)
        name = demo_seed._name(rng, gender)
        rows.append(dict(
            office_id=rng.choice(office_ids), name=name, gender=gender, ethnicity="汉族", birth_date=birth,
            id_number=number, id_number_index=ring.blind_index(number), id_number_masked=idcard.mask_id_number(number),
            phone="13800138000", phone_masked="138****8000", correction_type=rng.choice(["probation", "parole", "control"]),
            crime="危险驾驶罪", sentence="拘役三个月，缓刑六个月", deciding_organ="淄博市临淄区人民法院",
            judgment_effective_date=date(2026, 1, 1) + timedelta(days=rng.randrange(300)),
            supervision_level=rng.choice(["strict", "ordinary", "lenient"]), is_minor=False,
            status=rng.choice(STATUSES), version=1,
        ))
    return rows


def run(url: str, label: str) -> dict:
    migrate.upgrade(url)
    dbsession.configure(url)
    demo_seed.seed(subjects=0)
    engine = dbsession.get_engine()
    rng = random.Random(7)
    with engine.connect() as conn:
        office_ids = [r[0] for r in conn.execute(text("SELECT id FROM offices"))]
    rows = _rows(office_ids, rng)
    t0 = time.perf_counter()
    now = __import__("zhijiao.core.clock", fromlist=["now"]).now()
    for r in rows:
        r["created_at"] = r["updated_at"] = now
    with engine.begin() as conn:
        for i in range(0, len(rows), 5000):
            conn.execute(insert(Subject.__table__), rows[i : i + 5000])
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE subjects"))
        else:
            conn.execute(text("ANALYZE"))
    load_s = time.perf_counter() - t0
    names = [r["name"] for r in rng.sample(rows, 50)]
    numbers = [r["id_number"] for r in rng.sample(rows, 50)]
    app = create_app(with_ui=False)
    samples: dict[str, list[float]] = {"office_status": [], "name": [], "id_number": [], "office_officer": []}
    with TestClient(app) as client:
        def token(user: str) -> dict:
            r = client.post("/api/v1/auth/token", data={"username": user, "password": demo_seed.DEMO_PASSWORD})
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        bureau, officer = token("bureau"), token("wenshao1")
        codes = [o[0] for o in demo_seed.OFFICES]
        cases = {
            "office_status": (bureau, lambda: {"office": rng.choice(codes), "status": "under_correction",
                                               "page": rng.randint(1, 20), "size": 20}),
            "name": (bureau, lambda: {"q": rng.choice(names)[:2], "size": 20}),
            "id_number": (bureau, lambda: {"q": rng.choice(numbers)}),
            "office_officer": (officer, lambda: {"status": "under_correction", "supervision_level": "strict",
                                                 "page": rng.randint(1, 5)}),
        }
        for _ in range(10):  # warm-up
            for headers, params in cases.values():
                client.get("/api/v1/subjects", params=params(), headers=headers)
        for _ in range(QUERIES // len(cases)):
            for key, (headers, params) in cases.items():
                t = time.perf_counter()
                r = client.get("/api/v1/subjects", params=params(), headers=headers)
                samples[key].append(time.perf_counter() - t)
                assert r.status_code == 200, r.text
        # The scheduler's first round (the deadline scan over every subject) runs in a thread that
        # must finish before this database goes away.
        scan = _first_round() if get_settings().scheduler_enabled else None
    all_samples = [s for v in samples.values() for s in v]
    dbsession.get_engine().dispose()
    return {"backend": label, "load_s": round(load_s, 1), **summary_ms(all_samples),
            "by_query": {k: summary_ms(v) for k, v in samples.items()}, "deadline_scan": scan}


def _first_round(timeout_s: float = 900.0) -> dict | None:
    """Wait for every job's first run; the deadline scan's figures (None: the scheduler never ran it)."""
    from zhijiao.jobs import service as jobs
    from zhijiao.security.actor import Actor

    deadline = time.perf_counter() + timeout_s
    while True:
        with dbsession.session_scope(Actor.system("bench")) as db:
            rows = {r["name"]: r for r in jobs.status(db_session=db)}
        if all(r["last_finished_at"] and not r["running"] for r in rows.values()) or time.perf_counter() > deadline:
            break
        time.sleep(0.5)
    scan = rows.get("supervision.deadlines")
    if not scan or not scan["last_status"]:
        return None
    return {"status": scan["last_status"], "error": scan["last_error"], **json.loads(scan["last_result"] or "{}")}


def main() -> None:
    results = [run(f"sqlite:///{tmp / 'bench.db'}", "sqlite")]
    results.append(on_postgres(lambda url: run(url, "postgresql")))
    print(json.dumps({"bench": "subjects_search", "subjects": N, "target_p95_ms": 50, "results": results,
                      "machine": machine()}, ensure_ascii=False))


if __name__ == "__main__":
    main()
