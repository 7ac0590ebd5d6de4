"""Benchmark: the rules' memory per subject after a day of fixes; prints one JSON line.

The same simulated day as ``false_alarms.py`` (临淄区, an exclusion circle per subject, a fix a
minute with noise and dropouts) goes through the pipeline's :class:`RulesEngine` in batches of
2,000, in fix-time order: the live state of each subject and the checkpoints kept to replay late
data from. Backfilled fixes are left out (their replay reads the database). Reported: bytes a
subject holds (``tracemalloc``: the live states, the checkpoints, the engine's dicts), the
checkpoints kept per subject, and the objects the cyclic collector has to walk per subject; with
them, what a province's 700,000 subjects would hold. ``full_collection_ms``: one full collection of
this whole process, timed (the pause a service pays, rarely: see ``core.heap``).

    PYTHONPATH=src python bench/rules_memory.py [--subjects 300] [--seed 1]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import false_alarms as fa  # noqa: E402
from _common import machine  # noqa: E402

from zhijiao.ingestion.rules_engine import RulesEngine  # noqa: E402
from zhijiao.monitoring.geofence import Zone, ZoneKind  # noqa: E402
from zhijiao.monitoring.zone_index import ZoneIndex  # noqa: E402
from zhijiao.monitoring.rule_types import RuleSettings, SubjectContext  # noqa: E402

PROVINCE = 700_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--subjects", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    world, fixes = fa.simulate(args.subjects, args.seed)
    fixes = sorted((f for f in fixes if not f.backfill), key=lambda f: f.fix_time)
    for f in fixes:
        f.extras = {"flags": 0}  # as the store leaves them
    engine = RulesEngine(RuleSettings())
    engine.load(
        ZoneIndex([world.district] + [Zone(f"x{s.sid}", ZoneKind.exclusion, s.exclusion, s.sid)
                                      for s in world.subjects]),
        {s.sid: SubjectContext(s.sid, home=(float(s.home[0]), float(s.home[1])), monitoring_since=fa.DAY_START)
         for s in world.subjects},
    )
    tracemalloc.start()
    t = time.perf_counter()
    for i in range(0, len(fixes), 2000):
        engine.process(None, fixes[i : i + 2000])  # no late data: the database is never asked
    elapsed = time.perf_counter() - t
    del fixes, i
    gc.collect()
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    subjects = len(engine.subjects)
    per_subject = held / subjects
    evaluated, checkpoints = engine.counters["evaluated"], sum(len(e.checkpoints) for e in engine.subjects.values())
    t = time.perf_counter()
    gc.collect()  # a full collection walks every tracked object: the rules' share of that pause
    full_s = time.perf_counter() - t
    objects = len(gc.get_objects())
    engine.close()  # its subscription to directory changes holds it
    del engine
    gc.collect()
    objects -= len(gc.get_objects())
    print(json.dumps({
        "bench": "rules_memory",
        "subjects": subjects,
        "fixes_per_subject": round(evaluated / subjects),
        "bytes_per_subject": round(per_subject),
        "checkpoints_per_subject": round(checkpoints / subjects, 2),
        "tracked_objects_per_subject": round(objects / subjects),
        "province_gib": round(per_subject * PROVINCE / 2**30, 1),
        "full_collection_ms": round(full_s * 1000, 1),
        "full_collection_us_per_tracked_object": round(full_s / max(len(gc.get_objects()) + objects, 1) * 1e6, 3),
        "fixes_per_s_traced": round(evaluated / elapsed),
        "machine": machine(),
    }))


if __name__ == "__main__":
    main()
