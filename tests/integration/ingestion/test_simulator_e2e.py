"""The simulator against the real gateway and pipeline: register, store, restart, backfill."""

from __future__ import annotations

import asyncio
import json

import pytest

from sqlalchemy import select

import factories as f
from zhijiao.demo.seed import device_ident
from zhijiao.demo.simulator import Simulator, start_demo
from zhijiao.ingestion.runtime import Ingestion
from zhijiao.monitoring.models import FLAG_BACKFILL, Device, FixRecord

IDENTS = [device_ident(n) for n in (1, 2, 3)]


def _devices(db) -> None:
    f._system(db)
    db.add_all(Device(kind="bracelet", protocol="jt808", ident=i, model_profile="default_bracelet") for i in IDENTS)
    db.commit()


async def _until(predicate, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("backend", ["sqlite"])  # a client of the gateway: one backend is enough
def test_registers_reports_and_survives_a_gateway_restart(db, tmp_path):
    _devices(db)
    codes = tmp_path / "codes.json"

    async def scenario() -> tuple[Simulator, Simulator]:
        ingestion = Ingestion(jt808_port=0, host="127.0.0.1", mqtt_url="", event_stream="memory")
        await ingestion.start()
        port = ingestion.gateway.port
        sim = Simulator("127.0.0.1", port, IDENTS, interval_s=1.0, codes_path=codes, dropout_chance=0.0,
                        retry_s=(0.2, 0.4), first_violation_s=3600)
        task = asyncio.create_task(sim.run())
        try:
            await _until(lambda: sim.counters["acked"] >= 6)
            await ingestion.stop()  # the gateway goes away: reports pile up on the devices
            await asyncio.sleep(2.5)
            ingestion = Ingestion(jt808_port=port, host="127.0.0.1", mqtt_url="", event_stream="memory")
            await ingestion.start()
            await _until(lambda: sim.counters["backfilled"] >= 3 and sim.counters["logins"] >= 6)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await ingestion.pipeline.drain()
            await ingestion.stop()

        # a restarted simulator: registration answers 3, the stored code authenticates
        ingestion = Ingestion(jt808_port=0, host="127.0.0.1", mqtt_url="", event_stream="memory")
        await ingestion.start()
        again = start_demo(ingestion.gateway.port, devices=3, interval_s=1.0,
                           loader=lambda n: (IDENTS, {}, {}), codes_path=codes, first_violation_s=3600)
        try:
            await _until(lambda: again.simulator is not None and again.simulator.counters["acked"] >= 3)
        finally:
            await again.stop()
            await ingestion.stop()
        return sim, again.simulator

    first, second = asyncio.run(scenario())
    assert first.counters["logins"] >= 6 and not first.counters["disabled"]  # 3 at start, 3 after the restart
    assert second.counters["logins"] == 3 and not second.counters["disabled"]
    assert set(json.loads(codes.read_text())) == set(IDENTS)
    db.expire_all()
    rows = db.execute(select(FixRecord)).scalars().all()
    assert len({r.device_id for r in rows}) == 3
    assert any(r.flags & FLAG_BACKFILL for r in rows)  # what piled up came as 补传
    assert len(rows) >= first.counters["acked"] + first.counters["backfilled"] - 3  # (same-second duplicates)
