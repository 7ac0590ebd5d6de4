"""Fixtures for the ingestion tests: the real Mosquitto and NATS servers, and bound devices.

Like PostgreSQL in ``tests/conftest.py``: a test that needs a broker skips when nothing answers on
its port, and fails instead when ``CI=true``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from datetime import timedelta

import pytest

import factories as f
from zhijiao.core import clock

CI = os.environ.get("CI", "").lower() == "true"
MQTT_HOST = os.environ.get("ZHIJIAO_TEST_MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.environ.get("ZHIJIAO_TEST_MQTT_PORT", "1883"))
NATS_URL = os.environ.get("ZHIJIAO_TEST_NATS_URL", "nats://127.0.0.1:4222")

def pytest_asyncio_loop_factories(config, item):  # noqa: ARG001 - pytest-asyncio's hook
    """The gateway's sockets run on uvloop in production (``zhijiao serve``/``gateway``): its TCP
    tests run on that loop as well as on asyncio's own."""
    if item.path.name != "test_gateway_tcp.py":
        return None
    import uvloop

    return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


# The district-sized square the e2e tests use as the permitted area, and points in and out of it.
SQUARE = {"type": "Polygon", "coordinates": [[[118.30, 36.80], [118.34, 36.80], [118.34, 36.84], [118.30, 36.84],
                                              [118.30, 36.80]]]}
INSIDE = (36.82, 118.32)
OUTSIDE = (36.90, 118.45)


def _listening(host: str, port: int) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as exc:
        return str(exc)


def _require(name: str, host: str, port: int) -> None:
    problem = _listening(host, port)
    if problem:
        if CI:
            pytest.fail(f"{name} is required in CI but not reachable on {host}:{port}: {problem}")
        pytest.skip(f"{name} not reachable on {host}:{port}: {problem}")


@pytest.fixture(scope="session")
def mosquitto() -> tuple[str, int]:
    _require("Mosquitto", MQTT_HOST, MQTT_PORT)
    return MQTT_HOST, MQTT_PORT


@pytest.fixture(scope="session")
def nats_server() -> str:
    host_port = NATS_URL.split("://", 1)[1].split("?")[0]
    host, _, port = host_port.rpartition(":")
    _require("NATS", host, int(port))
    return NATS_URL


@pytest.fixture
def unique() -> str:
    """A fresh name for topics, streams and client ids: runs never see each other's messages."""
    return "t" + uuid.uuid4().hex[:10]


def bind_device(client, db, *, protocol: str, ident: str, permitted: bool = True) -> dict:
    """A subject under correction with a device of ``protocol``, an order in force and a permitted zone.

    Returns ``{"subject", "device", "secret", "officer"}``; the secret is the one shown at registration.
    """
    office = f.office(db)
    officer = f.staff(db, "office_officer", office)
    leader = f.staff(db, "leader")
    subject = f.subject(db, office, status="under_correction", correction_start_date=clock.today_local())
    h = f.login(client, officer.username)
    r = client.post("/api/v1/devices", headers=h, json={
        "kind": "bracelet" if protocol == "jt808" else "phone", "protocol": protocol, "ident": ident})
    assert r.status_code == 201, r.text
    device = r.json()
    assert client.post(f"/api/v1/subjects/{subject.id}/devices", json={"device_id": device["id"]},
                       headers=h).status_code == 201
    today = clock.today_local()
    r = client.post(f"/api/v1/subjects/{subject.id}/positioning-orders", headers=f.login(client, leader.username),
                    json={"trigger": "left_without_approval", "start_date": today.isoformat(),
                          "end_date": (today + timedelta(days=30)).isoformat(), "reason": "未经批准离开临淄区"})
    assert r.status_code == 201, r.text
    if permitted:
        assert client.post("/api/v1/zones", json={"name": "活动范围", "kind": "permitted", "geometry": SQUARE},
                           headers=h).status_code == 201
    return {"subject": subject, "device": device, "secret": device.get("secret"), "officer": officer}
