"""Configuration of the scaled inputs: broker URLs, shards, EMQX's JSON; no servers needed."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from zhijiao.ingestion.directory import DeviceEntry
from zhijiao.ingestion.mqtt import MqttOptions, emqx_report
from zhijiao.ingestion.nats import FixWorker, StreamOptions, parse_shards, shard_of


def test_mqtt_url():
    o = MqttOptions.from_url("mqtts://dev%40x:p%40ss@broker.example:9883?share=workers&prefix=zj&trust_broker=1")
    assert (o.host, o.port, o.tls, o.username, o.password) == ("broker.example", 9883, True, "dev@x", "p@ss")
    assert o.subscriptions() == ["$share/workers/zj/devices/+/fix", "$share/workers/jt808/+/+/up"]
    assert o.trust_broker
    plain = MqttOptions.from_url("mqtt://127.0.0.1?emqx_topic=gw/+/+/up")  # "+" is a wildcard, not a space
    assert plain.port == 1883 and plain.subscriptions() == ["zhijiao/devices/+/fix", "gw/+/+/up"]
    assert MqttOptions.from_url("mqtt://h?emqx_topic=").subscriptions() == ["zhijiao/devices/+/fix"]
    with pytest.raises(ValueError):
        MqttOptions.from_url("http://h")


def test_emqx_location_body():
    report = emqx_report({"alarm": 1, "status": 2 | 4 | 8, "latitude": 36_800_000, "longitude": 118_300_000,
                          "altitude": 12, "speed": 125, "direction": 270, "time": "261128080910",
                          "extra": {"gnss_sat_num": 7, "custome": {"225": "VQ=="}}})
    assert (report.lat, report.lon) == (-36.8, -118.3)  # south and west status bits
    assert report.speed_kmh == 12.5 and report.positioned and report.satellites == 7
    assert report.time.isoformat() == "2026-11-28T00:09:10+00:00"  # Beijing time in, UTC out
    assert report.item(0xE1) == b"\x55"  # a vendor item EMQX passed on as base64
    with pytest.raises(ValueError):
        emqx_report({"status": 0, "latitude": 91_000_000, "longitude": 0, "time": "261128080910"})


def test_stream_options_and_shards():
    o = StreamOptions.from_url("nats://10.0.0.5:4222?stream=LZ&prefix=lz.fixes")
    assert (o.servers, o.stream, o.subject(3), o.consumer(3), o.events_prefix) == (
        "nats://10.0.0.5:4222", "LZ", "lz.fixes.3", "lz-3", "lz.events")
    assert parse_shards("all") == list(range(16)) and parse_shards("0-2,7") == [0, 1, 2, 7]
    with pytest.raises(ValueError):
        parse_shards("15-16")
    assert {shard_of(f"139{n:08d}") for n in range(400)} == set(range(16))  # spread over every shard


def test_worker_judges_silence_only_for_its_own_shards():
    idents = {sid: next(f"139{n:08d}" for n in range(10_000) if shard_of(f"139{n:08d}") == shard)
              for sid, shard in ((1, 0), (2, 5), (3, 9))}
    entries = [DeviceEntry(device_id=sid, ident=ident, protocol="jt808", profile="default_bracelet", secret_hash=None,
                           active=True, subject_id=sid, order_in_force=True) for sid, ident in idents.items()]
    pipeline = SimpleNamespace(rules=SimpleNamespace(subject_filter=None),
                               directory=SimpleNamespace(version=1, entries=lambda: entries))
    FixWorker("nats://127.0.0.1:4222", pipeline, shards=[0, 9])
    owns = pipeline.rules.subject_filter
    assert [owns(sid) for sid in (1, 2, 3)] == [True, False, True]
