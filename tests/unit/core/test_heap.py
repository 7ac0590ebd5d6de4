"""The collector setting of a service process (run in a child: freezing would keep this
process's test objects for good)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import gc, weakref
    from zhijiao.core import heap

    startup = [[i] for i in range(1000)]  # what startup built
    heap.tune_for_service()
    assert gc.isenabled()
    assert gc.get_threshold() == (heap.YOUNG, heap.MIDDLE_EVERY, heap.FULL_EVERY)
    assert gc.get_freeze_count() >= len(startup)

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only the collector frees it
    gone = weakref.ref(a)
    del a, b
    keep = []
    for i in range(3 * heap.YOUNG):  # enough allocations for young collections to run by themselves
        keep.append([i])
        if gone() is None:
            break
    print("collected" if gone() is None else "kept")
    """
)


def test_a_service_process_collects_rarely_but_still_collects_cycles() -> None:
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "collected"
