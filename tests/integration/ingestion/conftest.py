"""Fixtures for the ingestion tests: the real Mosquitto and NATS servers (bound devices are in
``bound_devices``).

Like PostgreSQL in ``tests/conftest.py``: a test that needs a broker skips when nothing answers on
its port, and fails instead when ``CI=true``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid

import pytest

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
