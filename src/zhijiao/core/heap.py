"""CPython's cyclic garbage collector, set for a long-running service process.

With the default thresholds (a young collection every 700 net allocations, and a full one
each time the survivors grew the heap by a quarter) the gateway spent about 30 % of its CPU in
the collector at 10,000 fixes a second: every fix allocates some dozens of tracked objects (the
message, the fix and its extras, futures, rows), and while a batch waits for its commit or the
rules they survive into the older generations, so full collections came every second or two
and each walked the whole heap (``bench/ingest.py``: ``gc_cpu_us_per_fix``, ``--default-gc``).

Almost none of it is cyclic garbage: it is freed by reference counting the moment a batch is
done. So the service collects the young generation fifty times less often and the older ones
rarely, and it moves what startup built (modules, classes, the app, the zone index) out of the
collector's sight for good. Cycles are still collected; they live a little longer.

Only a process's entry point calls :func:`tune_for_service` (``zhijiao serve``, ``gateway``,
``worker``): in the test process, objects frozen here would never be collected.
"""

from __future__ import annotations

import gc

# Net allocations of tracked objects between young collections (CPython's default is 700), then
# how many young collections per middle one (default 10) and middle per full one (default 10).
YOUNG = 50_000
MIDDLE_EVERY = 20
FULL_EVERY = 100


def tune_for_service() -> None:
    """Call once startup has built what lives as long as the process."""
    gc.collect()  # what startup left as garbage must not be frozen with the rest
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE_EVERY, FULL_EVERY)
