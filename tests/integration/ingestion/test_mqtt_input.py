"""MQTT input through the real Mosquitto: our JSON, EMQX's JT/T 808 JSON, PUBACK after commit."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import timedelta

import aiomqtt
import pytest
from bound_devices import INSIDE, bind_device
from sqlalchemy import select

from zhijiao.core import clock
from zhijiao.ingestion.directory import DeviceEntry
from zhijiao.core.fix import Fix
from zhijiao.ingestion.mqtt import MqttInput
from zhijiao.ingestion.runtime import Ingestion
from zhijiao.monitoring.models import Alarm, FixRecord
from zhijiao.security.actor import Actor


def _url(mosquitto, unique: str, **extra: str) -> str:
    host, port = mosquitto
    query = {"prefix": unique, "client_id": f"{unique}-in", "emqx_topic": f"{unique}/jt808/+/+/up", **extra}
    return f"mqtt://{host}:{port}?" + "&".join(f"{k}={v}" for k, v in query.items())


async def _publish(mosquitto, unique: str, messages: list[tuple[str, bytes | str]]) -> None:
    host, port = mosquitto
    async with aiomqtt.Client(host, port, identifier=f"{unique}-pub") as pub:
        for topic, payload in messages:
            await pub.publish(topic, payload, qos=1)


async def _until(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


def _ours(at, token, where=INSIDE, **kw) -> str:
    return json.dumps({"fix_time": at.isoformat(), "lat": where[0], "lon": where[1], "accuracy_m": 8,
                       "battery_pct": 64, "token": token, **kw})


def _emqx(phone: str, at, *, alarm: int = 0, msg_id: int = 512) -> str:
    local = clock.to_local(at)
    body = {"alarm": alarm, "status": 2, "latitude": round(INSIDE[0] * 1e6), "longitude": round(INSIDE[1] * 1e6),
            "altitude": 40, "speed": 36, "direction": 90, "time": local.strftime("%y%m%d%H%M%S"),
            "extra": {"gnss_sat_num": 9, "rssi": 25, "mileage": 1234}}
    if msg_id == 1796:
        body = {"type": 1, "length": 1, "location": [body]}
    return json.dumps({"header": {"msg_id": msg_id, "encrypt": 0, "len": 28, "phone": "0" + phone, "msg_sn": 3},
                       "body": body})


def test_ours_and_emqx_end_to_end(client, db, mosquitto, unique):
    phone = bind_device(client, db, protocol="mqtt", ident="mqtt-7001", permitted=False)
    bracelet = bind_device(client, db, protocol="jt808", ident="13900007001", permitted=False)
    now = clock.now().replace(microsecond=0)
    own = f"{unique}/devices/mqtt-7001/fix"
    emqx = f"{unique}/jt808/13900007001/13900007001/up"

    async def scenario() -> Ingestion:
        ingestion = Ingestion(jt808=False, mqtt_url=_url(mosquitto, unique), event_stream="memory")
        await ingestion.start()
        try:
            await ingestion.mqtt.wait_connected()
            await _publish(mosquitto, unique, [
                (own, _ours(now - timedelta(seconds=30), phone["secret"], alarm_types=["sos"])),
                (own, "[" + _ours(now - timedelta(seconds=20), phone["secret"]) + "]"),  # an array: a backlog
                (own, _ours(now - timedelta(seconds=20), phone["secret"])),  # resent: stored once
                (own, b"\xff not json"),
                (own, _ours(now - timedelta(seconds=10), "wrong-token")),
                (own, json.dumps({"fix_time": "2026-01-01T08:00:00", "lat": 36.8, "lon": 118.3,
                                  "token": phone["secret"]})),  # no offset
                (f"{unique}/devices/nobody/fix", _ours(now, phone["secret"])),
                (emqx, _emqx("13900007001", now - timedelta(seconds=15), alarm=1 << 15)),  # tamper bit
                (emqx, _emqx("13900007001", now - timedelta(seconds=60), msg_id=1796)),  # 补传
                (emqx, json.dumps({"header": {"msg_id": 2, "phone": "013900007001"}, "body": {}})),  # heartbeat
            ])
            try:
                await _until(lambda: ingestion.mqtt.counters["acked"] >= 10)
            except TimeoutError:
                raise AssertionError(dict(ingestion.mqtt.counters)) from None
            await ingestion.pipeline.drain()
        finally:
            await ingestion.stop()
        return ingestion

    ingestion = asyncio.run(scenario())
    c = ingestion.mqtt.counters
    assert (c["bad_json"], c["bad_token"], c["bad_fix"], c["unknown_device"], c["ignored"]) == (1, 1, 1, 1, 1)
    db.info["actor"] = Actor.system("test")
    rows = db.execute(select(FixRecord).order_by(FixRecord.fix_time)).scalars().all()
    assert len(rows) == 4
    by_device = {r.device_id for r in rows}
    assert by_device == {phone["device"]["id"], bracelet["device"]["id"]}
    backfilled = [r for r in rows if r.flags & 1]
    assert len(backfilled) == 1 and backfilled[0].device_id == bracelet["device"]["id"]
    emqx_row = next(r for r in rows if r.device_id == bracelet["device"]["id"] and not r.flags & 1)
    assert emqx_row.speed_kmh == 3.6 and emqx_row.lat == pytest.approx(INSIDE[0]) and emqx_row.alarm_bits == 1 << 15
    alarms = {(a.subject_id, a.type) for a in db.execute(select(Alarm)).scalars()}
    assert alarms == {(phone["subject"].id, "sos"), (bracelet["subject"].id, "tamper")}


# -- PUBACK after commit, without a database -----------------------------------------------------


SECRET = "s3cret-token"


class Directory:
    def get(self, ident: str) -> DeviceEntry:
        return DeviceEntry(device_id=1, ident=ident, protocol="mqtt", profile="default_bracelet",
                           secret_hash=hashlib.sha256(SECRET.encode()).hexdigest(), active=True, subject_id=1,
                           order_in_force=True)


class Sink:
    def __init__(self, *, gate: bool = False, fail_first: int = 0) -> None:
        self.fixes: list[Fix] = []
        self.entered = asyncio.Event()
        self.gate = asyncio.Event() if gate else None
        self.fail_first = fail_first

    async def submit(self, fixes: list[Fix]) -> None:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_first:
            self.fail_first -= 1
            raise RuntimeError("database down")
        self.fixes.extend(fixes)


def test_unacknowledged_message_is_redelivered_after_a_crash(mosquitto, unique):
    url = _url(mosquitto, unique, emqx_topic="")
    topic = f"{unique}/devices/mqtt-1/fix"

    async def scenario() -> None:
        stuck = Sink(gate=True)
        first = MqttInput(url, stuck, Directory())
        await first.start()
        await first.wait_connected()
        await _publish(mosquitto, unique, [(topic, _ours(clock.now(), SECRET))])
        await asyncio.wait_for(stuck.entered.wait(), 5)
        assert first.counters["acked"] == 0  # the commit has not returned: no PUBACK
        first._task.cancel()  # the process "dies" here: connection gone, commit never finished
        await asyncio.gather(first._task, return_exceptions=True)

        sink = Sink()
        second = MqttInput(url, sink, Directory())  # same client id: the broker resumes the session
        await second.start()
        try:
            await _until(lambda: len(sink.fixes) == 1 and second.counters["acked"] == 1)
        finally:
            await second.stop()
        assert sink.fixes[0].device_ident == "mqtt-1"

        third_sink = Sink()
        third = MqttInput(url, third_sink, Directory())
        await third.start()
        await third.wait_connected()
        await asyncio.sleep(0.3)
        await third.stop()
        assert third_sink.fixes == []  # acknowledged after the commit: not delivered again
        stuck.gate.set()
        await first.batcher.stop()

    asyncio.run(scenario())


def test_failed_commit_is_not_acknowledged_and_comes_back(mosquitto, unique):
    url = _url(mosquitto, unique, emqx_topic="")
    topic = f"{unique}/devices/mqtt-2/fix"

    async def scenario() -> None:
        sink = Sink(fail_first=1)
        inp = MqttInput(url, sink, Directory(), reconnect_delay=0.1)
        await inp.start()
        try:
            await inp.wait_connected()
            await _publish(mosquitto, unique, [(topic, _ours(clock.now(), SECRET))])
            await _until(lambda: len(sink.fixes) == 1)
        finally:
            await inp.stop()
        assert inp.counters["commit_failed"] == 1 and inp.counters["reconnects"] >= 1
        assert inp.counters["acked"] == 1

    asyncio.run(scenario())
