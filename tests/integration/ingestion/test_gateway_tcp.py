"""The JT/T 808 gateway over real TCP on 127.0.0.1 (port 0: the OS picks a free one)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from zhijiao.core.fix import Fix
from zhijiao.ingestion.protocols.jt808.client import Jt808Client
from zhijiao.ingestion.protocols.jt808.codec import (
    Fragment,
    GeneralResult,
    Heartbeat,
    LocationReport,
    GeneralResponse,
    RawBody,
    RegisterResult,
    TerminalRegister,
    Version,
)
from zhijiao.ingestion.protocols.jt808.frame import encode_frame
from zhijiao.ingestion.server import Jt808Gateway

PHONE = "13800138000"
KNOWN = {PHONE, "13900000001", "13900000002"} | {f"1390000{i:04d}" for i in range(100)}
T0 = datetime(2024, 5, 1, 2, 3, 4, tzinfo=UTC)


def report(n: int = 0) -> LocationReport:
    return LocationReport.build(lat=36.8 + n / 1000, lon=118.3, time=T0, speed_kmh=4.2, satellites=8)


class MemorySink:
    """Commits to a list; can be held on a gate or made to fail."""

    def __init__(self) -> None:
        self.fixes: list[Fix] = []
        self.calls: list[int] = []
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.fail = False

    async def submit(self, fixes: list[Fix]) -> None:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("database down")
        self.calls.append(len(fixes))
        self.fixes.extend(fixes)


class TableAuthenticator:
    async def register(self, phone: str, reg_msg: TerminalRegister, version: Version) -> tuple[int, str | None]:
        if phone not in KNOWN:
            return RegisterResult.no_such_terminal, None
        return RegisterResult.ok, f"code-{phone}"

    async def authenticate(self, phone: str, auth_code: str) -> bool:
        return auth_code == f"code-{phone}"


GatewayFactory = Callable[..., Awaitable[Jt808Gateway]]


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
async def make_gateway(sink: MemorySink) -> AsyncIterator[GatewayFactory]:
    started: list[Jt808Gateway] = []

    async def make(**options: Any) -> Jt808Gateway:
        options.setdefault("idle_timeout", 5.0)
        gw = Jt808Gateway("127.0.0.1", 0, sink=sink, authenticator=TableAuthenticator(), **options)
        await gw.start()
        started.append(gw)
        return gw

    yield make
    for gw in started:
        await gw.stop()


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> Jt808Gateway:
    return await make_gateway()


@pytest.fixture
async def client(gateway: Jt808Gateway) -> AsyncIterator[Jt808Client]:
    async with Jt808Client("127.0.0.1", gateway.port, PHONE, timeout=2.0) as c:
        yield c


async def login(c: Jt808Client) -> None:
    reg = await c.register()
    assert reg.result == RegisterResult.ok and reg.auth_code
    assert (await c.authenticate(reg.auth_code)).result == GeneralResult.ok


async def until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


# -- handshake and the happy path ----------------------------------------------------------------


@pytest.mark.parametrize("version", list(Version))
async def test_register_auth_location_heartbeat(gateway: Jt808Gateway, sink: MemorySink, version: Version) -> None:
    async with Jt808Client("127.0.0.1", gateway.port, PHONE, version=version) as c:
        await login(c)
        ack = await c.send_location(report())
        assert ack.result == GeneralResult.ok and ack.answer_id == 0x0200
        assert (await c.heartbeat()).result == GeneralResult.ok
    [fix] = sink.fixes
    assert fix.device_ident == PHONE  # same identity whichever edition the terminal speaks
    assert fix.fix_time == T0 and fix.extras["protocol"] == f"jt808/{version.value}"
    assert fix.received_at is not None


async def test_unknown_terminal_register_refused(gateway: Jt808Gateway) -> None:
    async with Jt808Client("127.0.0.1", gateway.port, "15500000000") as c:
        reg = await c.register()
    assert reg.result == RegisterResult.no_such_terminal and reg.auth_code is None


async def test_wrong_auth_code_refused_and_location_not_stored(client: Jt808Client, sink: MemorySink) -> None:
    await client.register()
    assert (await client.authenticate("guess")).result == GeneralResult.failure
    assert (await client.send_location(report())).result == GeneralResult.failure
    assert sink.fixes == []


async def test_location_before_auth_refused_and_not_stored(
    gateway: Jt808Gateway, client: Jt808Client, sink: MemorySink
) -> None:
    assert (await client.send_location(report())).result == GeneralResult.failure
    assert (await client.send_batch([report()], backfill=True)).result == GeneralResult.failure
    assert sink.fixes == [] and sink.calls == []
    assert gateway.counters["unauthenticated"] == 2
    # The connection is still usable: log in and the next one is accepted.
    await login(client)
    assert (await client.send_location(report())).result == GeneralResult.ok


async def test_other_phone_on_an_authenticated_connection_refused(gateway: Jt808Gateway, sink: MemorySink) -> None:
    async with Jt808Client("127.0.0.1", gateway.port, PHONE) as c:
        await login(c)
        c.phone = "13900000001"  # same socket, another terminal's number
        assert (await c.send_location(report())).result == GeneralResult.failure
    assert sink.fixes == []


async def test_batch_backfill_flagged(client: Jt808Client, sink: MemorySink) -> None:
    await login(client)
    ack = await client.send_batch([report(i) for i in range(5)], backfill=True)
    assert ack.result == GeneralResult.ok and ack.answer_id == 0x0704
    assert len(sink.fixes) == 5 and all(f.backfill for f in sink.fixes)


async def test_terminal_general_response_gets_no_reply(client: Jt808Client) -> None:
    await client.send(GeneralResponse.terminal(1, 0x8300, 0), expect_reply=False)
    hb = await client.send(Heartbeat())
    reply = await client.wait_reply(hb)
    assert isinstance(reply.body, GeneralResponse) and reply.body.from_platform and reply.body.answer_id == 0x0002
    with pytest.raises(TimeoutError):
        await client.receive(timeout=0.1)  # nothing answered the 0x0001


async def test_unknown_message_and_subpackage_are_unsupported(gateway: Jt808Gateway, client: Jt808Client) -> None:
    unknown = (await client.request(RawBody(0x0900, b"\x01"))).body
    assert isinstance(unknown, GeneralResponse) and unknown.from_platform and unknown.result == GeneralResult.unsupported
    fragment = (await client.request(Fragment(0x0801, 2, 1, b"\x00" * 10))).body
    assert isinstance(fragment, GeneralResponse) and fragment.from_platform and fragment.result == GeneralResult.unsupported
    assert gateway.counters["unsupported"] == 1 and gateway.counters["subpackages_refused"] == 1


async def test_undecodable_body_answered_bad_message(gateway: Jt808Gateway, client: Jt808Client) -> None:
    await login(client)
    reply = (await client.request(RawBody(0x0200, b"\x00" * 5))).body  # a location cut short
    assert isinstance(reply, GeneralResponse) and reply.from_platform and reply.result == GeneralResult.bad_message
    assert gateway.counters["bad_messages"] == 1


# -- framing over TCP -----------------------------------------------------------------------------


async def test_bad_checksum_counted_and_connection_alive(gateway: Jt808Gateway, client: Jt808Client) -> None:
    bad = bytearray(client.frame(Heartbeat()))
    bad[-2] ^= 0x01  # corrupt the check code
    await client.send_raw(bytes(bad) + b"\x00\x01garbage")
    assert (await client.heartbeat()).result == GeneralResult.ok
    assert gateway.counters["bad_checksum"] == 1
    assert not client.closed


async def test_oversized_frame_dropped_connection_alive(make_gateway: GatewayFactory) -> None:
    gw = await make_gateway(max_frame=128)
    async with Jt808Client("127.0.0.1", gw.port, PHONE) as c:
        await c.send_raw(encode_frame(b"\x01" * 1000))
        assert (await c.heartbeat()).result == GeneralResult.ok
    assert gw.counters["oversized"] == 1


async def test_sticky_and_split_frames(client: Jt808Client) -> None:
    serials = [client.next_serial() for _ in range(3)]
    for s in serials:
        client.expect_reply(s)
    frames = [client.frame(Heartbeat(), s) for s in serials]
    await client.send_raw(frames[0] + frames[1][:5])  # one whole frame and the head of the next
    await asyncio.sleep(0.05)
    await client.send_raw(frames[1][5:] + frames[2])
    for s in serials:
        assert (await client.wait_reply(s)).body.result == GeneralResult.ok  # type: ignore[union-attr]


# -- acknowledgement after commit -----------------------------------------------------------------


async def test_ack_only_after_sink_commit(client: Jt808Client, sink: MemorySink) -> None:
    await login(client)
    sink.gate = asyncio.Event()
    serial = await client.send(report())
    await asyncio.wait_for(sink.entered.wait(), 2)
    with pytest.raises(TimeoutError):
        await client.wait_reply(serial, timeout=0.3)
    assert sink.fixes == []
    sink.gate.set()
    reply = await client.wait_reply(serial)
    assert isinstance(reply.body, GeneralResponse) and reply.body.from_platform and reply.body.result == GeneralResult.ok
    assert len(sink.fixes) == 1


async def test_replies_keep_request_order_while_commit_pending(client: Jt808Client, sink: MemorySink) -> None:
    await login(client)
    sink.gate = asyncio.Event()
    loc = await client.send(report())
    hb = await client.send(Heartbeat())
    with pytest.raises(TimeoutError):
        await client.wait_reply(hb, timeout=0.2)  # the heartbeat reply waits behind the ack
    sink.gate.set()
    assert (await client.wait_reply(loc)).header.serial < (await client.wait_reply(hb)).header.serial


async def test_acks_owed_still_go_out_after_the_terminal_half_closes(client: Jt808Client, sink: MemorySink) -> None:
    """A terminal that sends its last reports and shuts its side down still gets their acks."""
    await login(client)
    sink.gate = asyncio.Event()
    serials = [await client.send(report(n)) for n in range(3)]
    await asyncio.wait_for(sink.entered.wait(), 2)
    client._writer.write_eof()  # type: ignore[union-attr]
    await asyncio.sleep(0.1)
    sink.gate.set()
    replies = [await client.wait_reply(s) for s in serials]
    assert [r.body.result for r in replies] == [GeneralResult.ok] * 3  # type: ignore[union-attr]
    assert await client.wait_closed(timeout=2.0)  # and then the gateway closes
    assert len(sink.fixes) == 3


async def test_max_inflight_pauses_reading_and_loses_nothing(make_gateway: GatewayFactory, sink: MemorySink) -> None:
    gw = await make_gateway(max_inflight=2, rate_limit=None)
    sink.gate = asyncio.Event()
    async with Jt808Client("127.0.0.1", gw.port, PHONE, timeout=2.0) as c:
        await login(c)
        serials = [await c.send(report(n)) for n in range(10)]
        await asyncio.wait_for(sink.entered.wait(), 2)
        await asyncio.sleep(0.2)
        # two are owed; the other eight wait unread (in the socket or the connection's queue)
        assert gw.counters["messages"] == 2 + 2  # auth, register and the first two reports
        sink.gate.set()
        replies = [await c.wait_reply(s) for s in serials]
    assert all(r.body.result == GeneralResult.ok for r in replies)  # type: ignore[union-attr]
    assert [r.header.serial for r in replies] == sorted(r.header.serial for r in replies)
    assert len(sink.fixes) == 10


async def test_sink_failure_answers_failure_and_keeps_connection(
    gateway: Jt808Gateway, client: Jt808Client, sink: MemorySink
) -> None:
    await login(client)
    sink.fail = True
    assert (await client.send_location(report())).result == GeneralResult.failure
    sink.fail = False
    assert (await client.send_location(report())).result == GeneralResult.ok
    assert len(sink.fixes) == 1
    assert gateway.counters["fixes_failed"] == 1 and gateway.counters["fixes_committed"] == 1


async def test_fixes_from_many_connections_share_batches(make_gateway: GatewayFactory, sink: MemorySink) -> None:
    gw = await make_gateway(batch_max_delay=0.05)
    phones = [f"1390000{i:04d}" for i in range(20)]
    clients = [Jt808Client("127.0.0.1", gw.port, p) for p in phones]
    try:
        for c in clients:
            await c.connect()
            await login(c)
        acks = await asyncio.gather(*(c.send_location(report()) for c in clients))
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    assert all(a.result == GeneralResult.ok for a in acks)
    assert sum(sink.calls) == 20
    assert len(sink.calls) < 20  # grouped: far fewer commits than fixes
    assert {f.device_ident for f in sink.fixes} == set(phones)


# -- limits and lifecycle -------------------------------------------------------------------------


async def test_idle_timeout_closes_connection(make_gateway: GatewayFactory) -> None:
    gw = await make_gateway(idle_timeout=0.3)
    async with Jt808Client("127.0.0.1", gw.port, PHONE) as c:
        assert (await c.heartbeat()).result == GeneralResult.ok
        await c.send_raw(b"noise keeps nobody alive")
        assert await c.wait_closed(timeout=2.0)
    assert gw.counters["idle_timeouts"] == 1


async def test_connection_limit_refuses_cleanly(make_gateway: GatewayFactory) -> None:
    gw = await make_gateway(max_connections=1)
    async with Jt808Client("127.0.0.1", gw.port, PHONE) as first:
        assert (await first.heartbeat()).result == GeneralResult.ok
        async with Jt808Client("127.0.0.1", gw.port, "13900000001") as second:
            assert await second.wait_closed(timeout=2.0)
        assert (await first.heartbeat()).result == GeneralResult.ok
    assert gw.counters["connections_refused"] == 1


async def test_rate_limit_slows_but_loses_nothing(make_gateway: GatewayFactory) -> None:
    # 10 a second: six frames sent back to back are limited however slow a busy machine writes
    # them (at 100 a second, a loaded CI machine spaced them out past the limit)
    gw = await make_gateway(rate_limit=10.0, rate_burst=2)
    async with Jt808Client("127.0.0.1", gw.port, PHONE) as c:
        serials = [await c.send(Heartbeat()) for _ in range(6)]
        replies = [await c.wait_reply(s) for s in serials]
    assert len(replies) == 6
    assert gw.counters["rate_limited"] >= 3


async def test_stop_closes_connections(make_gateway: GatewayFactory) -> None:
    gw = await make_gateway()
    async with Jt808Client("127.0.0.1", gw.port, PHONE) as c:
        await c.heartbeat()
        await gw.stop()
        assert await c.wait_closed(timeout=2.0)
    assert gw.counters["connections_open"] == 0


async def test_counters_snapshot(gateway: Jt808Gateway, client: Jt808Client) -> None:
    await client.heartbeat()
    counters = gateway.counters
    for key in ("frames", "bad_checksum", "oversized", "connections_open", "connections_total", "fixes_committed"):
        assert isinstance(counters[key], int)
    assert counters["frames"] == 1 and counters["connections_open"] == 1
