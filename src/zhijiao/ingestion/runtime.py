"""Wiring the device inputs to the pipeline inside one process (``serve``, ``gateway``)."""

from __future__ import annotations

import asyncio
import logging
import secrets

from sqlalchemy import update

from zhijiao.config import get_settings
from zhijiao.core import events, topics
from zhijiao.db import session as dbsession
from zhijiao.ingestion.directory import Directory, check_secret
from zhijiao.ingestion.pipeline import Pipeline
from zhijiao.ingestion.protocols.jt808.codec import RegisterResult, TerminalRegister, Version
from zhijiao.ingestion.protocols.jt808.profiles import DEFAULT_BRACELET, DeviceProfile, get_profile
from zhijiao.ingestion.batcher import FixSink
from zhijiao.ingestion.server import Jt808Gateway
from zhijiao.monitoring import service as monitoring_service
from zhijiao.monitoring.models import Device
from zhijiao.security import audit
from zhijiao.security.actor import Actor

log = logging.getLogger(__name__)


def is_nats(url: str | None) -> bool:
    """Whether ``ZHIJIAO_EVENT_STREAM`` points at NATS (``memory`` is the in-process default)."""
    return bool(url) and str(url).startswith(("nats://", "tls://"))


class DeviceAuthenticator:
    """JT/T 808 register and auth against the device registry (GB/T 22239 设备鉴别)."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    async def register(self, phone: str, reg_msg: TerminalRegister, version: Version) -> tuple[int, str | None]:
        entry = await asyncio.to_thread(self.directory.get, phone)
        if entry is None or not entry.active or entry.protocol != "jt808":
            return int(RegisterResult.no_such_terminal), None
        if entry.secret_hash is not None:
            # Already holds a code (preset or from an earlier registration): re-registering
            # must not hand a new one to whoever knows the phone number.
            return int(RegisterResult.terminal_registered), None
        code = secrets.token_hex(8)
        claimed = await asyncio.to_thread(_claim_code, entry.device_id, code)
        if not claimed:
            return int(RegisterResult.terminal_registered), None
        events.publish(topics.DIRECTORY, {"device_id": entry.device_id})
        return int(RegisterResult.ok), code

    async def authenticate(self, phone: str, auth_code: str) -> bool:
        entry = await asyncio.to_thread(self.directory.get, phone)
        return check_secret(entry, auth_code)


def _claim_code(device_id: int, code: str) -> bool:
    """Store the hash of a newly issued auth code, once (a conditional update), with its audit row.

    A bulk UPDATE passes no object through the flush, so the audit row is written explicitly
    in the same transaction (issue 20 item 8: no write of a device secret outside the audit).
    """
    with dbsession.session_scope(Actor.system("jt808:register")) as session:
        result = session.execute(
            update(Device).where(Device.id == device_id, Device.secret_hash.is_(None))
            .values(secret_hash=monitoring_service.device_secret_hash(code)),
            execution_options={"synchronize_session": False},
        )
        if result.rowcount != 1:
            return False
        audit.record(session, object_type="devices", object_id=device_id, action="update",
                     detail={"secret_hash": [None, audit.MASK], "via": "jt808_register"})
        return True


class Ingestion:
    """The device inputs of this process and where their fixes go.

    Embedded (the default): a local :class:`Pipeline` stores and evaluates them. With
    ``ZHIJIAO_EVENT_STREAM=nats://…`` they go to JetStream instead (:class:`~.nats.JetStreamSink`,
    acknowledged to the device after the PubAck) for ``zhijiao worker`` processes to store and
    evaluate, and the alarms those workers raise come back over NATS to this process's screens.
    """

    def __init__(self, *, jt808_port: int | None = None, host: str = "0.0.0.0", event_stream: str | None = None,
                 mqtt_url: str | None = None, jt808: bool = True) -> None:
        settings = get_settings()
        self.directory = Directory()
        stream = settings.event_stream if event_stream is None else event_stream
        self.bridge = None
        if is_nats(stream):
            from zhijiao.ingestion.nats import EventBridge, JetStreamSink

            self.pipeline: Pipeline | None = None
            self.sink: FixSink = JetStreamSink(stream)
            self.bridge = EventBridge(stream)
        else:
            self.pipeline = Pipeline(self.directory)
            self.sink = self.pipeline
        port = settings.jt808_port if jt808_port is None else jt808_port
        self.gateway = Jt808Gateway(host, port, sink=self.sink, authenticator=DeviceAuthenticator(self.directory),
                                    profile_for=self._profile) if jt808 else None
        self.mqtt_url = settings.mqtt_url if mqtt_url is None else mqtt_url
        self.mqtt = None

    def _profile(self, phone: str) -> DeviceProfile:
        entry = self.directory.peek(phone)  # loaded by the auth that opened the session
        if entry is None:
            return DEFAULT_BRACELET
        try:
            return get_profile(entry.profile)
        except KeyError:
            return DEFAULT_BRACELET

    async def start(self) -> None:
        if self.pipeline is not None:
            await self.pipeline.start()
        else:
            await self.sink.start()  # type: ignore[attr-defined]
        if self.bridge is not None:
            await self.bridge.start()
        if self.gateway is not None:
            await self.gateway.start()
            log.info("JT/T 808 gateway listening on %s:%s", self.gateway.host, self.gateway.port)
        if self.mqtt_url:
            from zhijiao.ingestion.mqtt import MqttInput

            self.mqtt = MqttInput(self.mqtt_url, self.sink, self.directory)
            await self.mqtt.start()

    async def stop(self) -> None:
        if self.mqtt is not None:
            await self.mqtt.stop()
        if self.gateway is not None:
            await self.gateway.stop()
        if self.bridge is not None:
            await self.bridge.stop()
        if self.pipeline is not None:
            await self.pipeline.stop()
        else:
            await self.sink.stop()  # type: ignore[attr-defined]
            self.directory.close()
