"""Issue 20 item 9 through the protocols, on SQLite and PostgreSQL: a location dated in the future
is refused on every path and never stored; wrong JT/T 808 auth codes get back-off, then the
connection is closed."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from bound_devices import INSIDE, bind_device
from sqlalchemy import func, select

from zhijiao.core import clock
from zhijiao.core.fix import Fix
from zhijiao.ingestion.protocols.jt808.client import Jt808Client
from zhijiao.ingestion.protocols.jt808.codec import GeneralResult, LocationReport
from zhijiao.ingestion.runtime import Ingestion
from zhijiao.ingestion.store import FixStore
from zhijiao.monitoring.models import FixRecord
from zhijiao.security.actor import Actor


def _count(db) -> int:
    db.info["actor"] = Actor.system("test")
    db.expire_all()
    return db.execute(select(func.count()).select_from(FixRecord)).scalar_one()


def test_http_fix_dated_in_the_future_is_refused(client, db):
    phone = bind_device(client, db, protocol="http", ident="phone-0020")
    body = {"device": "phone-0020", "fix_time": "2099-01-01T08:00:00+08:00", "lat": INSIDE[0], "lon": INSIDE[1],
            "source": "gnss"}
    r = client.post("/api/v1/fixes", json=body, headers={"Authorization": f"Device {phone['secret']}"})
    assert r.status_code == 422 and r.json()["code"] == "fix_time_in_future", r.text
    assert "晚于" in r.json()["message"]
    # within the tolerance (a terminal clock a minute fast) it is taken
    body["fix_time"] = (clock.now() + timedelta(minutes=1)).isoformat()
    r = client.post("/api/v1/fixes", json=body, headers={"Authorization": f"Device {phone['secret']}"})
    assert r.status_code in (200, 202), r.text
    assert _count(db) == 1


def test_store_drops_future_fixes_from_every_path(client, db):
    """MQTT and JetStream workers end in the store: a future fix is counted, never stored."""
    bind_device(client, db, protocol="mqtt", ident="mqtt-0020")
    from zhijiao.ingestion.directory import Directory

    store = FixStore(Directory())
    now = clock.now().replace(microsecond=0)
    new = store.store([Fix(device_ident="mqtt-0020", fix_time=now.replace(year=2099), lat=INSIDE[0], lon=INSIDE[1]),
                       Fix(device_ident="mqtt-0020", fix_time=now, lat=INSIDE[0], lon=INSIDE[1])])
    assert [f.fix_time for f in new] == [now] and store.counters["future"] == 1
    assert _count(db) == 1


def test_jt808_future_report_refused_and_auth_guessing_closed(client, db, monkeypatch):
    from zhijiao.ingestion import server

    monkeypatch.setattr(server, "AUTH_BACKOFF_S", 0.1)
    bind_device(client, db, protocol="jt808", ident="13900008020")
    now = clock.now().replace(microsecond=0)

    async def scenario() -> tuple[list, list, float, bool]:
        ingestion = Ingestion(jt808_port=0, host="127.0.0.1", event_stream="memory", mqtt_url="")
        ingestion.gateway.max_auth_failures = 3
        await ingestion.start()
        try:
            port = ingestion.gateway.port
            async with Jt808Client("127.0.0.1", port, "13900008020", timeout=5.0) as c:
                reg = await c.register()
                assert (await c.authenticate(reg.auth_code)).result == 0
                future = (await c.send_location(LocationReport.build(lat=INSIDE[0], lon=INSIDE[1],
                                                                     time=now.replace(year=2099)))).result
                batch = (await c.send_batch([LocationReport.build(lat=INSIDE[0], lon=INSIDE[1],
                                                                  time=now + timedelta(days=1))],
                                            backfill=True)).result
                good = (await c.send_location(LocationReport.build(lat=INSIDE[0], lon=INSIDE[1], time=now))).result
            await ingestion.pipeline.drain()
            # Guessing: answers slow down, and the connection is closed after 3 wrong codes.
            started = time.monotonic()
            answers = []
            closed = False
            async with Jt808Client("127.0.0.1", port, "13900008020", timeout=5.0) as c:
                for _ in range(5):
                    try:
                        answers.append((await c.authenticate("guess")).result)
                    except (ConnectionError, asyncio.IncompleteReadError, TimeoutError, EOFError):
                        closed = True
                        break
            elapsed = time.monotonic() - started
            return [future, batch, good], answers, elapsed, closed
        finally:
            await ingestion.stop()

    results, answers, elapsed, closed = asyncio.run(scenario())
    assert results == [GeneralResult.bad_message, GeneralResult.bad_message, GeneralResult.ok]
    assert _count(db) == 1  # only the report dated now
    assert answers == [GeneralResult.failure] * 3 and closed
    assert elapsed >= 0.1 + 0.2 + 0.4 - 0.05  # 0.1 s, doubling


@pytest.mark.parametrize("tolerance", [0])
def test_tolerance_is_configurable(monkeypatch, tolerance):
    from zhijiao.config import get_settings
    from zhijiao.core.fix import from_the_future

    monkeypatch.setattr(get_settings(), "future_fix_tolerance_s", tolerance)
    assert from_the_future(clock.now() + timedelta(seconds=5))
    monkeypatch.setattr(get_settings(), "future_fix_tolerance_s", 300)
    assert not from_the_future(clock.now() + timedelta(seconds=5))
