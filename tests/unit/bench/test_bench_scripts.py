"""Every benchmark answers ``--help`` without running, and none takes the demo's JT/T 808 port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"
SCRIPTS = sorted(p.name for p in BENCH.glob("[a-z]*.py"))


def test_there_are_benchmarks() -> None:
    assert "subjects.py" in SCRIPTS and "ingest.py" in SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_answers_without_running(script: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TMPDIR": str(tmp_path)}
    r = subprocess.run([sys.executable, str(BENCH / script), "--help"], capture_output=True, text=True,
                       timeout=120, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage:"), r.stdout
    assert "{" not in r.stdout.splitlines()[-1]  # no JSON result line: nothing was measured
    assert not list(tmp_path.iterdir()), "--help created files: it started the benchmark"


def test_benchmarks_pick_free_ports() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import _common
    finally:
        sys.path.remove(str(BENCH))
    with socket.socket() as held:  # a running demo's gateway
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        env = _common.own_ports({"ZHIJIAO_JT808_PORT": str(taken)})
        port = int(env["ZHIJIAO_JT808_PORT"])
        assert port != taken
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # free
