"""Helpers shared by the benchmarks: machine facts and percentiles."""

from __future__ import annotations

import os
import platform
import statistics


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary_ms(samples_s: list[float]) -> dict:
    return {
        "median_ms": round(statistics.median(samples_s) * 1000, 2),
        "p95_ms": round(pct(samples_s, 95) * 1000, 2),
        "n": len(samples_s),
    }
