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
from typing import Any, Protocol

from zhijiao.core import clock
from zhijiao.ingestion.fix import Fix
from zhijiao.ingestion.protocols import ProtocolError, Reason
from zhijiao.ingestion.protocols.jt808.codec import (
    AckEncoder,
    Body,
    Fragment,
    GeneralResult,
    Header,
    Heartbeat,
    Jt808Message,
    LocationBatch,
    LocationReport,
    RegisterResponse,
    RegisterResult,
    TerminalAuth,
    TerminalGeneralResponse,
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


class FixSink(Protocol):
    async def submit(self, fixes: list[Fix]) -> object:
        """Return only once ``fixes`` are durably stored (committed, or acknowledged by a durable
        stream); raise if they are not. The value is the sink's own (the pipeline returns the
        fixes that were new); the gateway only needs the return."""


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
    "internal_errors",
    "batches",
    "fixes_committed",
    "fixes_failed",
)


# ---------------------------------------------------------------------------------------------
# Group commit


class _Batch:
    __slots__ = ("first_at", "fixes", "future")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.fixes: list[Fix] = []
        self.future: asyncio.Future[bool] = loop.create_future()
        self.first_at = loop.time()


class FixBatcher:
    """Collects fixes from all connections and hands them to the sink in large batches.

    Each :meth:`enqueue` gets a future that resolves to ``True`` once the batch holding its fixes
    was committed, ``False`` if ``sink.submit`` raised; requests in one batch share its future. One
    submit runs at a time: fixes arriving meanwhile form the next batch, so batches grow by
    themselves under load, and fixes of one connection reach the sink in the order they were
    enqueued. A request is never split; it opens a new batch when it would not fit.

    A failed submit fails every request in the batch (their terminals resend); a sink that can
    meet a poison row should isolate it itself rather than raise for the whole batch.
    """

    def __init__(
        self,
        sink: FixSink,
        *,
        max_fixes: int = 2000,
        max_delay: float = 0.005,
        counters: dict[str, int] | None = None,
    ) -> None:
        self._sink = sink
        self._max_fixes = max_fixes
        self._max_delay = max_delay
        self._counters = counters if counters is not None else dict.fromkeys(COUNTER_NAMES, 0)
        self._batches: collections.deque[_Batch] = collections.deque()  # the last one takes new fixes
        self._wakeup = asyncio.Event()
        self._full = asyncio.Event()  # the oldest batch is ready to go before its delay is up
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        if self._task is None:
            self._closed = False
            self._task = asyncio.create_task(self._run(), name="jt808-batcher")

    async def stop(self) -> None:
        """Commit what is pending, then stop; later requests resolve to ``False``."""
        self._closed = True
        self._wakeup.set()
        self._full.set()
        if self._task is not None:
            await self._task
            self._task = None

    def enqueue(self, fixes: list[Fix]) -> asyncio.Future[bool]:
        loop = asyncio.get_running_loop()
        if self._closed or self._task is None:
            future: asyncio.Future[bool] = loop.create_future()
            future.set_result(False)
            return future
        batches = self._batches
        batch = batches[-1] if batches else None
        if batch is None or (batch.fixes and len(batch.fixes) + len(fixes) > self._max_fixes):
            if batch is not None:
                self._full.set()  # the open batch cannot take this request: it is complete
            batch = _Batch(loop)
            batches.append(batch)
        batch.fixes.extend(fixes)
        self._wakeup.set()
        if len(batch.fixes) >= self._max_fixes:
            self._full.set()
        return batch.future

    async def submit(self, fixes: list[Fix]) -> bool:
        """Enqueue and wait: ``True`` once committed."""
        return await self.enqueue(fixes)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        batches = self._batches
        while True:
            await self._wakeup.wait()
            if batches:
                first = batches[0]
                linger = first.first_at + self._max_delay - loop.time()
                if (not self._closed and linger > 0 and len(batches) == 1
                        and len(first.fixes) < self._max_fixes):
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(linger):
                            await self._full.wait()
                batch = batches.popleft()
                if not batches:
                    self._wakeup.clear()
                if len(batches) <= 1 and not (batches and len(batches[0].fixes) >= self._max_fixes):
                    self._full.clear()
                await self._commit(batch)
            elif not self._closed:
                self._wakeup.clear()
            if self._closed and not batches:
                return

    async def _commit(self, batch: _Batch) -> None:
        fixes = batch.fixes
        ok = False
        try:
            await self._sink.submit(fixes)
            ok = True
        except Exception:
            log.exception("fix sink failed on a batch of %d fixes", len(fixes))
        finally:
            # Also on cancellation: nobody may wait forever on a batch that will not finish.
            self._counters["batches"] += 1
            self._counters["fixes_committed" if ok else "fixes_failed"] += len(fixes)
            if not batch.future.done():
                batch.future.set_result(ok)


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


_WRITE_HIGH_WATER = 256 * 1024  # bytes queued to a slow reader before we stop reading from it


class _Connection:
    """One terminal's socket.

    Messages are handled in arrival order, synchronously except for the register/auth handshake
    (the authenticator may look things up). Every message that needs an answer takes a slot in
    ``_pending``, in order: a ready reply, or an ack whose result is the commit of its batch.
    :meth:`_flush` sends the replies at the head of the queue that are ready, all in one write, so
    replies leave in request order and a late commit holds back the replies behind it. Reading
    pauses while ``max_inflight`` replies are owed.
    """

    def __init__(self, gateway: Jt808Gateway, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._gw = gateway
        self._reader = reader
        self._writer = writer
        self._peer = writer.get_extra_info("peername")
        self._decoder = FrameDecoder(max_frame=gateway.max_frame, stats=gateway.frame_stats)
        self._bucket = _TokenBucket(gateway.rate_limit, gateway.rate_burst) if gateway.rate_limit else None
        self._loop = asyncio.get_running_loop()
        # (message answered, GeneralResult value or a reply body, or None for a commit ack, batch future)
        self._pending: collections.deque[tuple[Header, int | Body | None, asyncio.Future[bool] | None]] = (
            collections.deque())
        self._watched: set[asyncio.Future[bool]] = set()
        self._room = asyncio.Event()  # fewer than max_inflight replies owed
        self._room.set()
        self._empty = asyncio.Event()  # nothing owed
        self._empty.set()
        self._flush_scheduled = False
        self._acks = AckEncoder()
        self._serial = 0
        self._ident: str | None = None  # normalised phone of the authenticated terminal
        self._write_failed = False
        self._idle = False
        self._last_frame = 0.0
        self._idle_timer: asyncio.TimerHandle | None = None
        self._reading_task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        self._reading_task = asyncio.current_task()
        try:
            await self._read_loop()
            # Peer closed or went idle: let acks already owed go out, within a bound.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._gw.drain_timeout):
                    await self._empty.wait()
        finally:
            self._write_failed = True  # a commit finishing later must not write to a closed socket
            for future in self._watched:
                future.remove_done_callback(self._committed)
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()

    # -- reading -------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        loop = self._loop
        gw = self._gw
        self._last_frame = loop.time()
        # One timer per connection that re-arms itself, rather than a timeout around every read:
        # under load a connection reads thousands of times a minute and goes idle rarely.
        self._idle_timer = loop.call_at(self._last_frame + gw.idle_timeout, self._check_idle)
        try:
            while not self._write_failed:
                try:
                    data = await self._reader.read(_READ_SIZE)
                except OSError:
                    return
                if not data:
                    return
                for payload in self._decoder.feed(data):
                    # Only good frames keep a connection alive; noise does not.
                    self._last_frame = now = loop.time()
                    if self._bucket is not None:
                        wait = self._bucket.delay(now)
                        if wait > 0:
                            gw.count("rate_limited")
                            await asyncio.sleep(wait)
                    if len(self._pending) >= gw.max_inflight:
                        self._room.clear()
                        await self._room.wait()
                    step = self._handle(payload)
                    if step is not None:
                        await self._guarded(step)
                if self._writer.transport.get_write_buffer_size() > _WRITE_HIGH_WATER:
                    try:
                        await self._writer.drain()
                    except OSError:
                        return
        except asyncio.CancelledError:
            if not self._idle:
                raise
            self._gw.count("idle_timeouts")
            log.info("jt808 %s idle, closing", self._peer)
            # uncancel so that the drain and close in run() still happen
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
        finally:
            self._idle_timer.cancel()

    def _check_idle(self) -> None:
        due = self._last_frame + self._gw.idle_timeout
        if self._loop.time() < due:
            self._idle_timer = self._loop.call_at(due, self._check_idle)
        elif self._reading_task is not None:
            self._idle = True
            self._reading_task.cancel()

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
            case TerminalGeneralResponse():
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
        if rejected:
            self._gw.count("rejected_items", rejected)
        if not fixes:
            # Nothing to store: an empty batch is fine, one with only bad items is a bad message.
            self._reply(header, GeneralResult.bad_message if rejected else GeneralResult.ok)
            return
        self._push(header, None, self._gw.batcher.enqueue(fixes))

    def _reply(self, header: Header, result: GeneralResult) -> None:
        self._push(header, int(result))

    # -- writing -------------------------------------------------------------------------------

    def _push(self, header: Header, reply: int | Body | None, committed: asyncio.Future[bool] | None = None) -> None:
        self._pending.append((header, reply, committed))
        self._empty.clear()
        if committed is not None and not committed.done():
            if committed not in self._watched:
                self._watched.add(committed)
                committed.add_done_callback(self._committed)
        elif len(self._pending) == 1:
            self._schedule_flush()

    def _committed(self, future: asyncio.Future[bool]) -> None:
        self._watched.discard(future)
        self._schedule_flush()

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
        if frames and not self._write_failed:
            try:
                self._writer.write(b"".join(frames))
            except (OSError, RuntimeError):
                # The reader sees the closed socket (or _write_failed) and ends the connection.
                self._write_failed = True
                self._writer.close()
        if len(pending) < self._gw.max_inflight:
            self._room.set()
        if not pending:
            self._empty.set()


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
    ) -> None:
        self.host = host
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
        self._connections: set[asyncio.Task[None]] = set()
        self._stopped = asyncio.Event()

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        if self._server is not None:
            return
        self._stopped.clear()
        await self.batcher.start()
        # A deep accept queue: after a restart every terminal reconnects at once, and a full queue
        # makes the kernel drop (or reset) handshakes that the terminal believes complete.
        self._server = await asyncio.start_server(self._accept, self.host, self._requested_port,
                                                  backlog=min(self.max_connections, 4096))
        log.info("jt808 gateway listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening, close every connection, commit fixes already accepted."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
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

    # -- connections ---------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._connections) >= self.max_connections or self._server is None:
            # Refuse cleanly: close at once rather than keep a socket we will not serve.
            self.count("connections_refused")
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            return
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self.count("connections_total")
        try:
            await _Connection(self, reader, writer).run()
        except asyncio.CancelledError:
            # Only stop() cancels these tasks. Ending normally keeps asyncio's stream callback
            # (Python 3.11) from logging the cancellation as an error.
            pass
        except Exception:
            log.exception("jt808 connection crashed")
            self.count("internal_errors")
        finally:
            self._connections.discard(task)
