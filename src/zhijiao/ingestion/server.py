"""JT/T 808 TCP gateway: sessions, acknowledgements and group commit of fixes.

The gateway does only what needs the socket: framing, the register/auth handshake, replies,
limits. Decoding is :mod:`~zhijiao.ingestion.protocols.jt808.codec`; what happens to a fix
(filtering, device lookup, rules, storage) is behind the injected :class:`FixSink`.

Delivery guarantee: a 0x0200/0x0704 is answered with 0x8001 result 0 only after
``sink.submit`` returned for a batch holding its fixes, i.e. after they are committed. A terminal
that gets no ack resends, so delivery is at-least-once; duplicates are for the pipeline to drop.

Throughput: fixes from all connections go through one :class:`FixBatcher`, which hands the sink
one list per few milliseconds (or per ``batch_max_fixes``) so a database sink commits thousands of
rows per transaction instead of one. A connection keeps reading while its fixes wait for the
commit (up to ``max_inflight`` unanswered messages), and replies leave in request order.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, cast

from zhijiao.config import get_settings
from zhijiao.core import clock
from zhijiao.core.fix import from_the_future
from zhijiao.ingestion.batcher import COUNTERS as BATCHER_COUNTERS
from zhijiao.ingestion.batcher import FixBatcher, FixSink
from zhijiao.ingestion.protocols import ProtocolError, Reason
from zhijiao.ingestion.protocols.jt808.codec import (
    AckEncoder,
    Body,
    Fragment,
    GeneralResponse,
    GeneralResult,
    Header,
    Heartbeat,
    Jt808Message,
    LocationBatch,
    LocationReport,
    RegisterResponse,
    RegisterResult,
    TerminalAuth,
    TerminalRegister,
    Version,
    decode_body,
    decode_header,
    encode_message,
    location_to_fix,
    message_fixes,
)
from zhijiao.ingestion.protocols.jt808.frame import DEFAULT_MAX_FRAME, FrameDecoder, FrameStats
from zhijiao.ingestion.protocols.jt808.profiles import DEFAULT_BRACELET, DeviceProfile

log = logging.getLogger(__name__)

_READ_SIZE = 64 * 1024


class Authenticator(Protocol):
    async def register(self, phone: str, reg_msg: TerminalRegister, version: Version) -> tuple[int, str | None]:
        """Decide a 0x0100 for ``phone`` (normalised, see ``normalise_phone``).

        Return ``(result, auth_code)`` with a :class:`RegisterResult` value and the auth code when
        the result is 0. The meanings are the standard's in both editions: 1 vehicle already
        registered, 2 no such vehicle, 3 terminal already registered, 4 no such terminal. A bracelet
        has no vehicle, so 4 is the usual refusal; an authenticator that matches on
        ``reg_msg.plate`` (2013 terminals often send one) may answer 2 instead.
        """

    async def authenticate(self, phone: str, auth_code: str) -> bool:
        """Check the code a terminal sends in 0x0102."""


ProfileResolver = Callable[[str], DeviceProfile]

COUNTER_NAMES = (
    "connections_total",
    "future_fixes",
    "auth_closed",
    "connections_refused",
    "idle_timeouts",
    "messages",
    "bad_messages",
    "unsupported",
    "subpackages_refused",
    "unauthenticated",
    "auth_ok",
    "auth_failed",
    "registrations",
    "authenticator_errors",
    "rejected_items",
    "rate_limited",
) + BATCHER_COUNTERS  # the connections' own internal errors are counted with the batcher's


# ---------------------------------------------------------------------------------------------
# One connection


class _TokenBucket:
    """Messages per second with a burst; returns how long to wait instead of dropping, so a
    terminal flushing a backlog is slowed down by TCP back-pressure and loses nothing."""

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._stamp = 0.0  # the first message finds a full bucket

    def delay(self, now: float) -> float:
        """Seconds to wait before this message (``now``: a monotonic clock, the loop's)."""
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate) - 1
        self._stamp = now
        return 0.0 if self._tokens >= 0 else -self._tokens / self._rate


AUTH_BACKOFF_S = 0.5  # the pause before answering the first wrong auth code; doubles per failure
AUTH_BACKOFF_MAX_S = 8.0

_WRITE_HIGH_WATER = 256 * 1024  # bytes queued to a slow reader before we stop reading from it


class _Connection(asyncio.Protocol):
    """One terminal's socket, as a protocol: the event loop calls :meth:`data_received` with the
    bytes read, and no task wakes up per read (at one report a minute per terminal, every read
    carries one message, so the per-read cost is the gateway's cost).

    Frames are handled in arrival order, synchronously except for the register/auth handshake
    (the authenticator may look things up). Every message that needs an answer takes a slot in
    ``_pending``, in order: a ready reply, or an ack whose result is the commit of its batch.
    :meth:`_flush` sends the replies at the head of the queue that are ready, all in one write, so
    replies leave in request order and a late commit holds back the replies behind it.

    Handling stops (and the socket is not read) while a handshake step runs, while the rate limit
    makes a frame wait, while ``max_inflight`` replies are owed or while the peer does not read
    its replies; frames already read wait in ``_frames`` and are handled when that ends.
    """

    def __init__(self, gateway: Jt808Gateway) -> None:
        self._gw = gateway
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._peer: object = None
        self._decoder = FrameDecoder(max_frame=gateway.max_frame, stats=gateway.frame_stats)
        self._bucket = _TokenBucket(gateway.rate_limit, gateway.rate_burst) if gateway.rate_limit else None
        self._frames: collections.deque[bytes] = collections.deque()  # read, not yet handled
        # (message answered, GeneralResult value or a reply body, or None for a commit ack, batch future)
        self._pending: collections.deque[tuple[Header, int | Body | None, asyncio.Future[bool] | None]] = (
            collections.deque())
        self._flush_scheduled = False
        self._acks = AckEncoder()
        self._serial = 0
        self._ident: str | None = None  # normalised phone of the authenticated terminal
        self._auth_failures = 0  # wrong auth codes on this connection (back-off, then close)
        self._step: asyncio.Task[None] | None = None  # a handshake step in progress
        self._charged = False  # the rate limit was already paid for the frame at the head
        self._rate_timer: asyncio.TimerHandle | None = None
        self._write_paused = False
        self._reading_paused = False
        self._eof = False  # the peer will send nothing more
        self._finishing = False  # no more frames will be handled; close once the replies are out
        self._drain_timer: asyncio.TimerHandle | None = None
        self._last_frame = 0.0
        self._idle_timer: asyncio.TimerHandle | None = None
        self.closed: asyncio.Future[None] = self._loop.create_future()

    # -- connection lifecycle --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports quack like asyncio.Transport without deriving from it
        transport = cast(asyncio.Transport, transport)
        self._transport = transport
        self._peer = transport.get_extra_info("peername")
        gw = self._gw
        if len(gw._connections) >= gw.max_connections or gw._server is None:
            # Refuse cleanly: close at once rather than keep a socket we will not serve.
            gw.count("connections_refused")
            transport.close()
            return
        gw._connections.add(self)
        gw.count("connections_total")
        transport.set_write_buffer_limits(high=_WRITE_HIGH_WATER)
        self._last_frame = self._loop.time()
        # One timer per connection that re-arms itself, rather than one per read: under load a
        # connection reads thousands of times a minute and goes idle rarely.
        self._idle_timer = self._loop.call_at(self._last_frame + gw.idle_timeout, self._check_idle)

    def connection_lost(self, exc: Exception | None) -> None:
        self._finishing = True
        self._frames.clear()
        for timer in (self._idle_timer, self._rate_timer, self._drain_timer):
            if timer is not None:
                timer.cancel()
        if self._step is not None:
            self._step.cancel()
        self._gw._connections.discard(self)  # not there if it was refused
        if not self.closed.done():
            self.closed.set_result(None)

    def close(self) -> None:
        """Close now (the gateway is stopping): replies still owed are not sent; the terminal resends."""
        self._finishing = True
        if self._transport is not None:
            self._transport.close()

    def eof_received(self) -> bool:
        # Keep the socket half-open: acks already owed still go out (see _finish).
        self._eof = True
        self._process()
        return True

    def pause_writing(self) -> None:
        self._write_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._process()

    # -- reading -------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._finishing:
            return
        before = len(self._frames)
        self._frames.extend(self._decoder.feed(data))
        if len(self._frames) > before:
            # Only good frames keep a connection alive; noise does not.
            self._last_frame = self._loop.time()
        self._process()

    def _blocked(self) -> bool:
        return (self._step is not None or self._rate_timer is not None or self._write_paused
                or len(self._pending) >= self._gw.max_inflight)

    def _process(self) -> None:
        """Handle the frames read so far, in order, until one must wait."""
        frames = self._frames
        bucket = self._bucket
        try:
            while frames and not self._finishing and not self._blocked():
                if bucket is not None and not self._charged:
                    wait = bucket.delay(self._loop.time())
                    if wait > 0:
                        self._gw.count("rate_limited")
                        self._charged = True
                        self._rate_timer = self._loop.call_later(wait, self._rate_waited)
                        break
                self._charged = False
                step = self._handle(frames.popleft())
                if step is not None:
                    self._step = self._loop.create_task(self._guarded(step))
                    self._step.add_done_callback(self._step_done)
        except Exception:
            log.exception("jt808 %s: failed to handle a frame", self._peer)
            self._gw.count("internal_errors")
        self._update_reading()
        if (self._eof and not frames and self._step is None) and not self._finishing:
            self._finish()

    def _update_reading(self) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        pause = self._write_paused or bool(self._frames) or self._eof or self._finishing
        if pause and not self._reading_paused:
            self._reading_paused = True
            transport.pause_reading()
        elif not pause and self._reading_paused:
            self._reading_paused = False
            transport.resume_reading()

    def _rate_waited(self) -> None:
        self._rate_timer = None
        self._process()

    def _step_done(self, _task: asyncio.Task[None]) -> None:
        self._step = None
        self._process()

    def _check_idle(self) -> None:
        due = self._last_frame + self._gw.idle_timeout
        if self._loop.time() < due:
            self._idle_timer = self._loop.call_at(due, self._check_idle)
            return
        self._idle_timer = None
        if self._finishing:
            return
        self._gw.count("idle_timeouts")
        log.info("jt808 %s idle, closing", self._peer)
        self._frames.clear()
        if self._step is not None:
            self._step.cancel()
        self._finish()

    def _finish(self) -> None:
        """Handle nothing more; close once the replies owed are out, or after ``drain_timeout``."""
        self._finishing = True
        self._update_reading()
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if not self._pending:
            transport.close()
        else:
            self._drain_timer = self._loop.call_later(self._gw.drain_timeout, transport.close)

    def _handle(self, payload: bytes) -> Coroutine[Any, Any, None] | None:
        """Handle one message; returns the rest of the work when it must wait (register, auth)."""
        try:
            header, raw_body = decode_header(payload)
        except ProtocolError:
            # Without a trustworthy header there is no serial to answer.
            self._gw.count("bad_messages")
            return None
        try:
            body = decode_body(header, raw_body)
        except ProtocolError as exc:
            self._gw.count("bad_messages")
            self._reply(header, GeneralResult.unsupported if exc.reason is Reason.encrypted else GeneralResult.bad_message)
            return None
        self._gw.count("messages")
        try:
            return self._dispatch(header, body)
        except Exception:
            # A bug here must not take the connection (or the gateway) down; the terminal retries.
            log.exception("jt808 %s: failed to handle %#06x", self._peer, header.msg_id)
            self._gw.count("internal_errors")
            self._reply(header, GeneralResult.failure)
            return None

    async def _guarded(self, step: Coroutine[Any, Any, None]) -> None:
        try:
            await step
        except Exception:
            log.exception("jt808 %s: handshake step failed", self._peer)
            self._gw.count("internal_errors")

    def _dispatch(self, header: Header, body: Body) -> Coroutine[Any, Any, None] | None:
        match body:
            case LocationReport() | LocationBatch():
                self._on_location(header, body)
            case Heartbeat():
                self._reply(header, GeneralResult.ok)
            case TerminalRegister():
                return self._on_register(header, body)
            case TerminalAuth():
                return self._on_auth(header, body)
            case GeneralResponse() if not body.from_platform:
                pass  # the terminal acknowledging one of our commands: nothing to answer
            case Fragment():
                self._gw.count("subpackages_refused")
                self._reply(header, GeneralResult.unsupported)
            case _:
                self._gw.count("unsupported")
                self._reply(header, GeneralResult.unsupported)
        return None

    async def _on_register(self, header: Header, body: TerminalRegister) -> None:
        self._gw.count("registrations")
        try:
            result, code = await self._gw.authenticator.register(header.device_ident, body, header.version)
            result = RegisterResult(result)
            if result is RegisterResult.ok and not code:
                raise ValueError("authenticator accepted a registration without an auth code")
        except Exception:
            log.exception("jt808 %s: authenticator.register failed", self._peer)
            self._gw.count("authenticator_errors")
            self._reply(header, GeneralResult.failure)
            return
        self._push(header, RegisterResponse(header.serial, result, code if result is RegisterResult.ok else None))

    async def _on_auth(self, header: Header, body: TerminalAuth) -> None:
        try:
            ok = await self._gw.authenticator.authenticate(header.device_ident, body.code)
        except Exception:
            log.exception("jt808 %s: authenticator.authenticate failed", self._peer)
            self._gw.count("authenticator_errors")
            ok = False
        # A failed attempt also ends an earlier session: one connection speaks for one terminal.
        self._ident = header.device_ident if ok else None
        self._gw.count("auth_ok" if ok else "auth_failed")
        if not ok:
            # Guessing auth codes: each failure is answered after a growing pause (the connection
            # handles nothing meanwhile), and after max_auth_failures the connection is closed.
            self._auth_failures += 1
            await asyncio.sleep(min(AUTH_BACKOFF_MAX_S, AUTH_BACKOFF_S * 2 ** (self._auth_failures - 1)))
            if self._auth_failures >= self._gw.max_auth_failures:
                self._gw.count("auth_closed")
                log.warning("jt808 %s: %d wrong auth codes, closing", self._peer, self._auth_failures)
                self._reply(header, GeneralResult.failure)
                self._frames.clear()
                self._finish()
                return
        else:
            self._auth_failures = 0
        self._reply(header, GeneralResult.ok if ok else GeneralResult.failure)

    def _on_location(self, header: Header, body: LocationReport | LocationBatch) -> None:
        ident = header.device_ident
        if self._ident is None or ident != self._ident:
            self._gw.count("unauthenticated")
            self._reply(header, GeneralResult.failure)
            return
        profile = self._gw.profile_for(ident)
        if isinstance(body, LocationReport):  # the common case, without the message wrapper
            fixes = [location_to_fix(body, device_ident=ident, profile=profile, version=header.version,
                                     received_at=clock.now())]
        else:
            fixes = message_fixes(Jt808Message(header, body), profile=profile, received_at=clock.now())
        rejected = len(body.rejected) if isinstance(body, LocationBatch) else 0
        now = clock.now()
        future = sum(1 for f in fixes if from_the_future(f.fix_time, now))
        if future:  # a wrong terminal clock or a forged date: never the subject's current position
            self._gw.count("future_fixes", future)
            fixes = [f for f in fixes if not from_the_future(f.fix_time, now)]
            rejected += future
        if rejected:
            self._gw.count("rejected_items", rejected)
        if not fixes:
            # Nothing to store: an empty batch is fine, one with only bad items is a bad message.
            self._reply(header, GeneralResult.bad_message if rejected else GeneralResult.ok)
            return
        self._push(header, None, self._gw.batcher.enqueue(fixes, self))

    def _reply(self, header: Header, result: GeneralResult) -> None:
        self._push(header, int(result))

    # -- writing -------------------------------------------------------------------------------

    def _push(self, header: Header, reply: int | Body | None, committed: asyncio.Future[bool] | None = None) -> None:
        """Queue a reply; one waiting for a commit leaves when the batcher calls :meth:`committed`."""
        self._pending.append((header, reply, committed))
        if (committed is None or committed.done()) and len(self._pending) == 1:
            self._schedule_flush()

    def committed(self) -> None:
        """The batcher finished a batch holding fixes of this connection: send what is ready
        now (a closed connection writes nothing)."""
        if self._transport is not None:
            self._flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        """Send every reply at the head of the queue that is ready, in one write."""
        self._flush_scheduled = False
        pending = self._pending
        frames = []
        while pending:
            header, reply, committed = pending[0]
            if committed is not None:
                if not committed.done():
                    break
                reply = GeneralResult.ok if committed.result() else GeneralResult.failure
            pending.popleft()
            self._serial = serial = (self._serial + 1) & 0xFFFF
            if isinstance(reply, int):
                frames.append(self._acks.encode(header, serial, reply))
            else:
                frames.append(encode_message(reply, phone=header.phone, serial=serial, version=header.version,
                                             protocol_version=header.protocol_version or 1))
        transport = self._transport
        if frames and transport is not None and not transport.is_closing():
            transport.write(b"".join(frames) if len(frames) > 1 else frames[0])
        if self._finishing:
            if not pending and transport is not None:
                transport.close()
        elif self._frames:
            self._process()  # frames held back by max_inflight


# ---------------------------------------------------------------------------------------------
# The gateway


class Jt808Gateway:
    """asyncio TCP server for JT/T 808 terminals. ``port=0`` binds a free port (see :attr:`port`)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sink: FixSink,
        authenticator: Authenticator,
        idle_timeout: float = 180.0,  # 3 missed heartbeats at the common 60 s interval
        max_frame: int = DEFAULT_MAX_FRAME,
        max_connections: int = 10_000,
        rate_limit: float | None = 20.0,  # messages per second per connection; None: unlimited
        rate_burst: int = 100,
        max_inflight: int = 64,  # unanswered messages per connection before reading pauses
        batch_max_fixes: int = 2000,
        batch_max_delay: float = 0.005,
        drain_timeout: float = 5.0,
        profile_for: ProfileResolver | None = None,
        max_auth_failures: int | None = None,  # default: ZHIJIAO_JT808_MAX_AUTH_FAILURES
    ) -> None:
        self.host = host
        self.max_auth_failures = max_auth_failures or get_settings().jt808_max_auth_failures
        self._requested_port = port
        self.authenticator = authenticator
        self.idle_timeout = idle_timeout
        self.max_frame = max_frame
        self.max_connections = max_connections
        self.rate_limit = rate_limit
        self.rate_burst = rate_burst
        self.max_inflight = max_inflight
        self.drain_timeout = drain_timeout
        self.profile_for: ProfileResolver = profile_for or (lambda _ident: DEFAULT_BRACELET)
        self.frame_stats = FrameStats()
        self._counts: dict[str, int] = dict.fromkeys(COUNTER_NAMES, 0)
        self.batcher = FixBatcher(sink, max_fixes=batch_max_fixes, max_delay=batch_max_delay, counters=self._counts)
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._stopped = asyncio.Event()

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        if self._server is not None:
            return
        self._stopped.clear()
        await self.batcher.start()
        # A deep accept queue: after a restart every terminal reconnects at once, and a full queue
        # makes the kernel drop (or reset) handshakes that the terminal believes complete.
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), self.host, self._requested_port,
                                                backlog=min(self.max_connections, 4096))
        log.info("jt808 gateway listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening, close every connection, commit fixes already accepted."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        connections = list(self._connections)
        for connection in connections:
            connection.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.drain_timeout):
                await asyncio.gather(*(c.closed for c in connections))
        if server is not None:
            await server.wait_closed()
        await self.batcher.stop()
        self._stopped.set()

    async def serve_forever(self) -> None:
        """For the CLI: start, then wait until :meth:`stop` is called (e.g. from a signal handler)."""
        await self.start()
        await self._stopped.wait()

    async def __aenter__(self) -> Jt808Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return self._requested_port
        return int(self._server.sockets[0].getsockname()[1])

    # -- counters ------------------------------------------------------------------------------

    @property
    def counters(self) -> dict[str, int]:
        """A snapshot for metrics: frame counters, message counters and open connections."""
        return {**self.frame_stats.as_dict(), **self._counts, "connections_open": len(self._connections)}

    def count(self, name: str, n: int = 1) -> None:
        self._counts[name] += n
