"""Issue 20 item 8: every entry point writes audit rows for its writes, with no ``audit.install()``
of its own — ``zhijiao jobs run``, ``zhijiao gateway`` and ``zhijiao worker`` as real processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from bound_devices import INSIDE, bind_device
from sqlalchemy import text

from zhijiao.core import clock
from zhijiao.ingestion.protocols.jt808.client import Jt808Client
from zhijiao.ingestion.protocols.jt808.codec import LocationReport

SRC = str(Path(__file__).resolve().parents[3] / "src")


def _env(database_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC, "ZHIJIAO_DATABASE_URL": database_url, "ZHIJIAO_MQTT_URL": "",
            **extra}


def _audit(db, object_type: str) -> list[tuple[str, str]]:
    db.rollback()
    return [tuple(r) for r in db.execute(text("SELECT actor_name, action FROM audit_events WHERE object_type = :t"),
                                         {"t": object_type}).all()]


def test_jobs_run_writes_audit_rows(db, database_url):
    r = subprocess.run([sys.executable, "-m", "zhijiao.cli", "jobs", "run", "checkins.missed"],
                       env=_env(database_url), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rows = _audit(db, "job_runs")
    assert rows and all(name.startswith("system:") for name, _ in rows)
    assert ("system:scheduler", "create") in rows


def _start(args: list[str], env: dict, expect: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "zhijiao.cli", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    assert expect in line, line
    return proc, line


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_gateway_and_worker_write_audit_rows(client, db, database_url, nats_server, unique):
    """The gateway stores a newly issued auth code (a device secret) with its audit row; the worker
    raises an alarm with its audit row."""
    bind_device(client, db, protocol="jt808", ident="13900008021")
    stream = f"{nats_server}?stream=ZJ_{unique.upper()}&prefix={unique}.fixes"
    env = _env(database_url, ZHIJIAO_EVENT_STREAM=stream)
    worker, _ = _start(["worker"], env, "worker consuming")
    gateway, line = _start(["gateway", "--host", "127.0.0.1", "--port", "0"], env, "gateway listening on")
    port = int(line.rsplit(":", 1)[1])
    try:
        async def scenario() -> None:
            async with Jt808Client("127.0.0.1", port, "13900008021", timeout=5.0) as c:
                reg = await c.register()
                assert (await c.authenticate(reg.auth_code)).result == 0
                ack = await c.send_location(LocationReport.build(lat=INSIDE[0], lon=INSIDE[1], time=clock.now(),
                                                                 alarm=1))  # SOS
                assert ack.result == 0

        asyncio.run(scenario())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not _audit(db, "alarms"):
            time.sleep(0.2)
    finally:
        _stop(gateway)
        _stop(worker)
    devices = _audit(db, "devices")
    assert ("system:jt808:register", "update") in devices
    secret = db.execute(text("SELECT changes FROM audit_events WHERE object_type = 'devices' "
                             "AND actor_name = 'system:jt808:register'")).scalar_one()
    assert "***" in str(secret)
    alarms = _audit(db, "alarms")
    assert alarms and all(name.startswith("system:") for name, _ in alarms), alarms
    assert not [r for r in _audit(db, "alarms") if r[0] == "system:unattributed"]
