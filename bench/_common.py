"""Helpers shared by the benchmarks: machine facts, percentiles, free ports, a scratch PostgreSQL."""

from __future__ import annotations

import os
import platform
import socket
import statistics
import sys
import uuid
from collections.abc import Callable


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on now (the OS picks it), for a server a benchmark starts."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def own_ports(env: dict[str, str] | None = None) -> dict[str, str]:
    """The ports of this run: the JT/T 808 gateway on a free port, never the configured 6808 that a
    running ``make demo`` holds. Updates ``env`` (``os.environ`` by default) and returns it."""
    target = os.environ if env is None else env
    target["ZHIJIAO_JT808_PORT"] = str(free_port())
    return target  # type: ignore[return-value]


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


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def latency_ms(samples_s: list[float], *, with_max: bool = False) -> dict:
    """Median and p99 (and the worst, if asked) of samples in seconds, in milliseconds."""
    if not samples_s:
        return {"median_ms": None, "p99_ms": None, "n": 0}
    out = {"median_ms": round(statistics.median(samples_s) * 1000, 1), "p99_ms": round(pct(samples_s, 99) * 1000, 1)}
    if with_max:
        out["max_ms"] = round(max(samples_s) * 1000, 1)
    return {**out, "n": len(samples_s)}


PG_ADMIN = os.environ.get("ZHIJIAO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def on_postgres(run: Callable[[str], dict]) -> dict:
    """``run(url)`` on a new, empty PostgreSQL database, dropped afterwards; without a server,
    why PostgreSQL was skipped (the JSON line says so instead of failing)."""
    from sqlalchemy import create_engine, text

    name = f"zhijiao_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - no server, or no right to create
        admin.dispose()
        return {"backend": "postgresql", "skipped": str(exc).splitlines()[0]}
    try:
        return run(PG_ADMIN.rsplit("/", 1)[0] + "/" + name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
