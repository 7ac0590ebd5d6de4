"""MQTT input: phones and apps on ``zhijiao/devices/<id>/fix``, and EMQX's JT/T 808 gateway.

Two kinds of message, both QoS 1:

- **Ours**, on ``<prefix>/devices/<device id>/fix``: a JSON object (or an array of them, for a
  backlog) ``{"fix_time", "lat", "lon", "accuracy_m", "source", "speed_kmh", "battery_pct",
  "alarm_types", "token"}``. ``fix_time`` is ISO 8601 with an offset; ``token`` is the device's
  secret, checked against the device registry (:func:`directory.check_secret`). A broker that
  authenticates devices itself (MQTT username = device id, password = its secret, each device
  allowed to publish only on its own topic; see ``POST /api/v1/mqtt/auth`` and ``/acl``) can be
  trusted instead with ``?trust_broker=1``; then the token may be left out.
- **EMQX's JT/T 808 gateway**, on ``jt808/<clientid>/<phone>/up`` (EMQX ≥ 5.4, its default
  ``up_topic`` under the mountpoint ``jt808/${clientid}/``): ``{"header": {"msg_id", "phone",
  ...}, "body": {...}}`` with the fields of EMQX's data exchange guide. 0x0200 (``msg_id`` 512:
  ``alarm``, ``status``, ``latitude``/``longitude`` in 1e-6 degrees with the south/west status
  bits, ``altitude``, ``speed`` in 0.1 km/h, ``direction``, ``time`` as BCD ``YYMMDDhhmmss``
  Beijing time, ``extra``) and 0x0704 (``msg_id`` 1796: ``type``, ``location`` list) become fixes
  through the same :func:`~.protocols.jt808.codec.location_to_fix` as our own gateway, with the
  device's alarm-bit profile. EMQX has done the register/auth handshake, so the terminal only has
  to be a known, active ``jt808`` device. Other message ids are acknowledged and ignored.

A message that cannot be used (bad JSON, unknown or inactive device, wrong token, impossible
values) is acknowledged, dropped and counted in :attr:`MqttInput.counters`: resending it would
not make it better.

**PUBACK only after commit.** The subscription is QoS 1 on a persistent session (fixed client id,
``clean_session`` false), and the paho client under aiomqtt is switched to manual
acknowledgement (``manual_ack``, paho-mqtt ≥ 2). Fixes of all messages go through one
:class:`~.batcher.FixBatcher` into the sink (the :class:`~.pipeline.Pipeline`), whose ``submit``
returns only after the commit. Each message's PUBACK is sent when the batch holding its fixes has
committed, and PUBACKs leave in the order the messages arrived (MQTT 3.1.1 §4.6). Until then
the broker keeps the message as in flight for our session; if the process dies, or a commit
fails (then we stop acknowledging and reconnect on purpose), the broker delivers it again when
the session resumes. Delivery is at least once; the store's ``(device, fix_time)`` key makes the
repeats harmless.

Broker address: ``ZHIJIAO_MQTT_URL``, ``mqtt://[user:password@]host[:port]`` or ``mqtts://`` for
TLS (system CA store), with optional query parameters ``client_id``, ``prefix`` (default
``zhijiao``), ``emqx_topic`` (default ``jt808/+/+/up``; empty turns it off), ``share`` (subscribe
as ``$share/<group>/…`` so several processes split the messages; a device's fixes may then reach
different processes, which is fine for storage but splits its rule state) and ``trust_broker``.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import json
import logging
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from zhijiao.config import MissingExtra

try:
    import aiomqtt
except ImportError as exc:  # the optional extra zhijiao[mqtt]
    raise MissingExtra("mqtt") from exc

from zhijiao.core import clock
from zhijiao.ingestion.directory import DeviceEntry, Directory, check_secret
from zhijiao.core.fix import Fix, FixSource
from zhijiao.ingestion.protocols.jt808.codec import (
    ITEM_MILEAGE,
    ITEM_SATELLITES,
    ITEM_SIGNAL,
    STATUS_SOUTH,
    STATUS_WEST,
    LocationItem,
    LocationReport,
    Version,
    location_to_fix,
    normalise_phone,
)
from zhijiao.ingestion.protocols.jt808.profiles import DEFAULT_BRACELET, DeviceProfile, alarm_bits_for, get_profile
from zhijiao.ingestion.batcher import FixBatcher, FixSink

log = logging.getLogger(__name__)

COUNTERS = ("messages", "fixes", "acked", "ignored", "bad_json", "bad_fix", "unknown_device", "bad_token",
            "commit_failed", "reconnects")
_GMT8 = timezone(timedelta(hours=8))
_EMQX_LOCATION, _EMQX_BATCH = 0x0200, 0x0704
_MAX_FIXES_PER_MESSAGE = 1000


class MqttFixIn(BaseModel):
    """One fix in our own MQTT JSON."""

    model_config = ConfigDict(extra="ignore")

    fix_time: AwareDatetime
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    source: Literal["gnss", "cell", "wifi"] = "gnss"
    speed_kmh: float | None = Field(default=None, ge=0, le=1000)
    course_deg: float | None = Field(default=None, ge=0, le=360)
    battery_pct: int | None = Field(default=None, ge=0, le=100)
    alarm_types: list[str] = Field(default_factory=list, max_length=16)
    backfill: bool = False
    token: str | None = Field(default=None, max_length=128)


class Dropped(Exception):
    """A message we acknowledge and do not store; ``reason`` is one of :data:`COUNTERS`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class MqttOptions:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None
    client_id: str
    prefix: str
    emqx_topic: str | None
    share: str | None
    trust_broker: bool

    @classmethod
    def from_url(cls, url: str) -> MqttOptions:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"MQTT URL must start with mqtt:// or mqtts://, got {url!r}")
        tls = parts.scheme in ("mqtts", "ssl")
        # "+" is an MQTT wildcard here, not a URL-encoded space
        query = {k: v[-1] for k, v in parse_qs(parts.query.replace("+", "%2B"), keep_blank_values=True).items()}
        emqx = query.get("emqx_topic", "jt808/+/+/up")
        return cls(
            host=parts.hostname or "127.0.0.1", port=parts.port or (8883 if tls else 1883), tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            client_id=query.get("client_id") or f"zhijiao-ingest-{socket.gethostname()}",
            prefix=query.get("prefix", "zhijiao").strip("/") or "zhijiao",
            emqx_topic=emqx or None, share=query.get("share") or None,
            trust_broker=query.get("trust_broker", "").lower() in ("1", "true", "yes"),
        )

    @property
    def own_topic(self) -> str:
        return f"{self.prefix}/devices/+/fix"

    def subscriptions(self) -> list[str]:
        topics = [self.own_topic] + ([self.emqx_topic] if self.emqx_topic else [])
        return [f"$share/{self.share}/{t}" for t in topics] if self.share else topics


class MqttInput:
    """Subscribes, turns messages into fixes, and acknowledges each message after its commit."""

    def __init__(self, url: str, sink: FixSink, directory: Directory, *, batch_max_delay: float = 0.005,
                 reconnect_delay: float = 1.0, keepalive: int = 30) -> None:
        self.options = MqttOptions.from_url(url)
        self.directory = directory
        self.counters: collections.Counter[str] = collections.Counter(dict.fromkeys(COUNTERS, 0))
        self.batcher = FixBatcher(sink, max_delay=batch_max_delay)
        self.connected = asyncio.Event()
        self._reconnect_delay = reconnect_delay
        self._keepalive = keepalive
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        self._stopping = False
        await self.batcher.start()
        self._task = asyncio.create_task(self._run(), name="mqtt-input")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.batcher.stop()

    async def wait_connected(self, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            await self.connected.wait()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except aiomqtt.MqttError as exc:
                log.warning("MQTT %s:%s: %s; reconnecting", self.options.host, self.options.port, exc)
            except Exception:
                log.exception("MQTT input failed; reconnecting")
            self.connected.clear()
            self.counters["reconnects"] += 1
            await asyncio.sleep(self._reconnect_delay)

    def _client(self) -> aiomqtt.Client:
        o = self.options
        client = aiomqtt.Client(
            o.host, o.port, username=o.username, password=o.password, identifier=o.client_id,
            clean_session=False, keepalive=self._keepalive,
            tls_context=ssl.create_default_context() if o.tls else None,
        )
        # Acknowledge ourselves, after the commit. aiomqtt (to 2.5) has no public manual ack
        # (its issue #345), so this goes to the paho-mqtt client it wraps (paho-mqtt ≥ 2.0).
        client._client.manual_ack_set(True)  # noqa: SLF001
        return client

    async def _session(self) -> None:
        client = self._client()
        acks = _AckQueue(client, self.counters)
        async with client:
            for topic in self.options.subscriptions():
                await client.subscribe(topic, qos=1)
            self.connected.set()
            log.info("MQTT input subscribed to %s", ", ".join(self.options.subscriptions()))
            reader = asyncio.create_task(self._read(client, acks))
            failed = asyncio.create_task(acks.failed.wait())
            try:
                await asyncio.wait({reader, failed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                reader.cancel()
                failed.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
            if acks.failed.is_set():
                self.counters["commit_failed"] += 1
                # Unacknowledged messages come back when the session resumes.
                raise aiomqtt.MqttError("a commit failed; reconnecting for redelivery")
            reader.result()  # the broker went away: raise its error

    async def _read(self, client: aiomqtt.Client, acks: _AckQueue) -> None:
        async for message in client.messages:
            self.counters["messages"] += 1
            fixes = self._fixes(message)
            if fixes:
                self.counters["fixes"] += len(fixes)
                acks.add(message, self.batcher.enqueue(fixes))
            else:
                acks.add(message, None)

    # -- messages → fixes ----------------------------------------------------------------------

    def _fixes(self, message: aiomqtt.Message) -> list[Fix]:
        received = clock.now()
        topic = message.topic.value
        try:
            try:
                data = json.loads(message.payload)
            except (ValueError, TypeError):
                raise Dropped("bad_json") from None
            if topic.startswith(self.options.prefix + "/devices/"):
                return self._own(topic.split("/")[-2], data, received)
            return self._emqx(data, received)
        except Dropped as exc:
            self.counters[exc.reason] += 1
            log.debug("MQTT message on %s dropped: %s", topic, exc.reason)
            return []
        except Exception:  # noqa: BLE001 - no payload may stop the subscriber
            self.counters["bad_fix"] += 1
            log.exception("MQTT message on %s could not be read", topic)
            return []

    def _entry(self, ident: str, protocol: str) -> DeviceEntry:
        entry = self.directory.get(ident)
        if entry is None or not entry.active or entry.protocol != protocol:
            raise Dropped("unknown_device")
        return entry

    def _own(self, ident: str, data: Any, received: datetime) -> list[Fix]:
        items = data if isinstance(data, list) else [data]
        if not items or len(items) > _MAX_FIXES_PER_MESSAGE or not all(isinstance(i, dict) for i in items):
            raise Dropped("bad_fix")
        try:
            parsed = [MqttFixIn.model_validate(i) for i in items]
        except ValidationError:
            raise Dropped("bad_fix") from None
        entry = self._entry(ident, "mqtt")
        if not self.options.trust_broker:
            # Every item carries the token, or the first one does for the whole array.
            token = parsed[0].token
            if token is None or not check_secret(entry, token) or any(
                    p.token not in (None, token) for p in parsed[1:]):
                raise Dropped("bad_token")
        profile = _profile(entry)
        return [own_fix(ident, p, received, profile) for p in parsed]

    def _emqx(self, data: Any, received: datetime) -> list[Fix]:
        if not isinstance(data, dict) or not isinstance(data.get("header"), dict):
            raise Dropped("bad_fix")
        header, body = data["header"], data.get("body") or {}
        msg_id = header.get("msg_id")
        if msg_id not in (_EMQX_LOCATION, _EMQX_BATCH):
            self.counters["ignored"] += 1
            return []
        try:
            ident = normalise_phone(str(header.get("phone", "")))
        except ValueError:
            raise Dropped("bad_fix") from None
        entry = self._entry(ident, "jt808")
        profile = _profile(entry)
        version = Version.V2019 if header.get("proto_ver") else Version.V2013
        if msg_id == _EMQX_LOCATION:
            reports, backfill = [body], False
        else:
            reports, backfill = body.get("location") or [], body.get("type") == 1
            if not isinstance(reports, list) or len(reports) > _MAX_FIXES_PER_MESSAGE:
                raise Dropped("bad_fix")
        try:
            return [location_to_fix(emqx_report(r), device_ident=ident, profile=profile, version=version,
                                    backfill=backfill, received_at=received) for r in reports]
        except (KeyError, TypeError, ValueError):
            raise Dropped("bad_fix") from None


class _AckQueue:
    """PUBACKs of one connection, sent in arrival order once each message's batch committed."""

    def __init__(self, client: aiomqtt.Client, counters: collections.Counter[str]) -> None:
        self._paho = client._client  # noqa: SLF001
        self._queue: collections.deque[tuple[int, int, asyncio.Future[bool] | None]] = collections.deque()
        self._counters = counters
        self.failed = asyncio.Event()

    def add(self, message: aiomqtt.Message, committed: asyncio.Future[bool] | None) -> None:
        if message.qos == 0:
            return
        self._queue.append((message.mid, message.qos, committed))
        if committed is not None and not committed.done():
            committed.add_done_callback(lambda _f: self._flush())
        self._flush()

    def _flush(self) -> None:
        queue = self._queue
        while queue and not self.failed.is_set():
            mid, qos, committed = queue[0]
            if committed is not None:
                if not committed.done():
                    return
                if not committed.result():
                    self.failed.set()  # keep this and everything after it unacknowledged
                    return
            queue.popleft()
            self._paho.ack(mid, qos)
            self._counters["acked"] += 1


def _profile(entry: DeviceEntry) -> DeviceProfile:
    try:
        return get_profile(entry.profile)
    except KeyError:
        return DEFAULT_BRACELET


def own_fix(ident: str, p: MqttFixIn, received: datetime, profile: DeviceProfile = DEFAULT_BRACELET) -> Fix:
    extras: dict[str, Any] = {"protocol": "mqtt"}
    if p.alarm_types:
        extras["alarm_types"] = sorted(set(p.alarm_types))
    return Fix(device_ident=ident, fix_time=p.fix_time.astimezone(UTC), lat=p.lat, lon=p.lon,
               source=FixSource(p.source), accuracy_m=p.accuracy_m, speed_kmh=p.speed_kmh, course_deg=p.course_deg,
               battery_pct=p.battery_pct, alarm_bits=alarm_bits_for(p.alarm_types, profile), backfill=p.backfill,
               received_at=received, extras=extras)


def emqx_report(body: dict[str, Any]) -> LocationReport:
    """EMQX's JSON of one 0x0200 body as the codec's :class:`LocationReport`."""
    status = int(body["status"])
    lat_raw, lon_raw = int(body["latitude"]), int(body["longitude"])
    if not (0 <= lat_raw <= 90_000_000 and 0 <= lon_raw <= 180_000_000):
        raise ValueError("coordinate out of range")
    digits = str(body["time"]).rjust(12, "0")
    if len(digits) != 12 or not digits.isdigit():
        raise ValueError("time must be BCD YYMMDDhhmmss")
    yy, mo, dd, hh, mi, ss = (int(digits[i : i + 2]) for i in range(0, 12, 2))
    when = datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=_GMT8).astimezone(UTC)
    return LocationReport(
        alarm=int(body.get("alarm", 0)), status=status,
        lat=lat_raw / 1_000_000 * (-1 if status & STATUS_SOUTH else 1),
        lon=lon_raw / 1_000_000 * (-1 if status & STATUS_WEST else 1),
        altitude_m=int(body.get("altitude", 0)), speed_kmh=int(body.get("speed", 0)) / 10,
        course_deg=int(body.get("direction", 0)), time=when, items=tuple(_emqx_items(body.get("extra") or {})),
    )


def _emqx_items(extra: dict[str, Any]) -> Iterable[LocationItem]:
    """Back to additional items: the typed ones we read, and vendor items EMQX passes as base64."""
    if isinstance(extra.get("mileage"), int):
        yield LocationItem(ITEM_MILEAGE, extra["mileage"].to_bytes(4, "big"))
    if isinstance(extra.get("rssi"), int):
        yield LocationItem(ITEM_SIGNAL, bytes((extra["rssi"] & 0xFF,)))
    if isinstance(extra.get("gnss_sat_num"), int):
        yield LocationItem(ITEM_SATELLITES, bytes((extra["gnss_sat_num"] & 0xFF,)))
    vendor = dict(extra.get("custome") or {}) if isinstance(extra.get("custome"), dict) else {}
    vendor.update({k: v for k, v in extra.items() if k.isdigit()})  # reserved ids, by number
    for key, value in vendor.items():
        if key.isdigit() and 0 <= int(key) <= 0xFF and isinstance(value, str):
            with contextlib.suppress(ValueError):
                yield LocationItem(int(key), base64.b64decode(value, validate=True))
