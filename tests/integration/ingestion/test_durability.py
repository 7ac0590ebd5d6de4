"""kill -9 of a real ``zhijiao gateway`` mid-stream: every acknowledged fix is in the database."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

import factories as f
from zhijiao.core import clock
from zhijiao.ingestion.protocols.jt808.client import Jt808Client
from zhijiao.ingestion.protocols.jt808.codec import LocationReport
from zhijiao.monitoring.models import Device, FixRecord

TERMINALS = 40
WINDOW = 8  # reports in flight per terminal
KILL_AFTER_ACKS = 1200
SRC = str(Path(__file__).resolve().parents[3] / "src")


def _start_gateway(database_url: str, tmp_path: Path) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "PYTHONPATH": SRC, "ZHIJIAO_DATABASE_URL": database_url, "ZHIJIAO_DATA_DIR": str(tmp_path),
           "ZHIJIAO_MQTT_URL": "", "ZHIJIAO_EVENT_STREAM": "memory"}
    proc = subprocess.Popen([sys.executable, "-m", "zhijiao.cli", "gateway", "--host", "127.0.0.1", "--port", "0"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()  # printed once listening
    assert "gateway listening on" in line, line
    return proc, int(line.rsplit(":", 1)[1])


async def _terminal(port: int, phone: str, code: str, base, acked: list, sent: list, stop: asyncio.Event) -> None:
    async with Jt808Client("127.0.0.1", port, phone, timeout=3.0) as c:
        assert (await c.authenticate(code)).result == 0
        k = 0
        in_flight: list[tuple[int, object]] = []
        while not stop.is_set():
            while len(in_flight) < WINDOW:
                when = base + timedelta(seconds=k)
                k += 1
                serial = await c.send(LocationReport.build(lat=36.82, lon=118.32, time=when, satellites=8))
                in_flight.append((serial, when))
                sent.append((phone, when))
            serial, when = in_flight.pop(0)
            try:
                reply = await c.wait_reply(serial, timeout=2.0)
            except TimeoutError:
                return  # the gateway is gone
            if reply.body.result == 0:  # type: ignore[union-attr]
                acked.append((phone, when))


def test_kill_minus_nine_loses_no_acknowledged_fix(db, database_url, tmp_path):
    f._system(db)
    codes = {f"1370000{i:04d}": f"code-{i}" for i in range(TERMINALS)}
    db.add_all(Device(kind="bracelet", protocol="jt808", ident=phone, model_profile="default_bracelet",
                      secret_hash=hashlib.sha256(code.encode()).hexdigest()) for phone, code in codes.items())
    db.commit()
    proc, port = _start_gateway(database_url, tmp_path)
    acked: list = []
    sent: list = []
    base = clock.now().replace(microsecond=0) - timedelta(hours=2)

    async def scenario() -> None:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(_terminal(port, phone, code, base, acked, sent, stop))
                 for phone, code in codes.items()]
        try:
            async with asyncio.timeout(15):
                while len(acked) < KILL_AFTER_ACKS:
                    await asyncio.sleep(0.005)
            os.kill(proc.pid, signal.SIGKILL)  # mid-stream: every terminal has reports in flight
            proc.wait(timeout=10)
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            stop.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    asyncio.run(scenario())
    assert proc.returncode == -signal.SIGKILL
    ids = {d.id: d.ident for d in db.execute(select(Device)).scalars()}
    db.expire_all()
    stored = {(ids[r.device_id], r.fix_time) for r in db.execute(select(FixRecord)).scalars()}
    assert len(acked) >= KILL_AFTER_ACKS and len(sent) > len(acked)  # it really was mid-stream
    missing = set(acked) - stored
    assert not missing, f"{len(missing)} acknowledged fixes lost, e.g. {sorted(missing)[:3]}"
