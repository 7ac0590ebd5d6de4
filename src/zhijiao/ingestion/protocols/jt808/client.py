"""A small asyncio JT/T 808 terminal, for tests and the device simulator (not for production)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from types import TracebackType

from zhijiao.ingestion.protocols import ProtocolError
from zhijiao.ingestion.protocols.jt808.codec import (
    BatchKind,
    Body,
    GeneralResponse,
    Heartbeat,
    Jt808Message,
    LocationBatch,
    LocationReport,
    RegisterResponse,
    TerminalAuth,
    TerminalRegister,
    Version,
    decode_message,
    encode_message,
)
from zhijiao.ingestion.protocols.jt808.frame import FrameDecoder

_INBOX_MAX = 1000


class Jt808Client:
    """One terminal over one TCP connection.

    :meth:`request` sends a message and returns the platform reply that answers its serial.
    :meth:`send` with ``expect_reply=True`` (the default) keeps a slot for the reply, to be
    collected with :meth:`wait_reply`; other platform messages land in :meth:`receive`.
    """

    def __init__(
        self,
        host: str,
        port: int,
        phone: str,
        *,
        version: Version = Version.V2013,
        protocol_version: int = 1,
        timeout: float = 5.0,
    ) -> None:
        self.host = host
        self.port = port
        self.phone = phone
        self.version = version
        self.protocol_version = protocol_version
        self.timeout = timeout
        self.decoder = FrameDecoder()
        self._serial = 0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._replies: dict[int, asyncio.Future[Jt808Message]] = {}
        self._inbox: asyncio.Queue[Jt808Message] = asyncio.Queue(maxsize=_INBOX_MAX)
        self._closed = asyncio.Event()

    # -- connection ----------------------------------------------------------------------------

    async def connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self._closed.clear()
        self._reader_task = asyncio.create_task(self._read_loop())

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task

    async def __aenter__(self) -> Jt808Client:
        await self.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        """True once the platform closed the connection."""
        return self._closed.is_set()

    async def wait_closed(self, timeout: float | None = None) -> bool:
        """Wait for the platform to close the connection; ``False`` if it did not within ``timeout``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout if timeout is not None else self.timeout):
                await self._closed.wait()
        return self._closed.is_set()

    # -- sending -------------------------------------------------------------------------------

    def next_serial(self) -> int:
        self._serial = (self._serial + 1) & 0xFFFF
        return self._serial

    def frame(self, body: Body, serial: int | None = None) -> bytes:
        """The wire frame this terminal would send (for tests that tamper with bytes)."""
        return encode_message(
            body,
            phone=self.phone,
            serial=self.next_serial() if serial is None else serial,
            version=self.version,
            protocol_version=self.protocol_version,
        )

    async def send_raw(self, data: bytes) -> None:
        assert self._writer is not None, "connect() first"
        self._writer.write(data)
        await self._writer.drain()

    def expect_reply(self, serial: int) -> None:
        """Keep a slot for the reply to ``serial`` (for frames sent with :meth:`send_raw`)."""
        self._replies[serial] = asyncio.get_running_loop().create_future()

    async def send(self, body: Body, *, expect_reply: bool = True) -> int:
        """Send ``body``; returns its serial."""
        serial = self.next_serial()
        if expect_reply:
            self.expect_reply(serial)
        await self.send_raw(self.frame(body, serial))
        return serial

    async def wait_reply(self, serial: int, timeout: float | None = None) -> Jt808Message:
        """The reply answering ``serial``; ``TimeoutError`` if none came within ``timeout``."""
        future = self._replies[serial]
        done, _ = await asyncio.wait({future}, timeout=timeout if timeout is not None else self.timeout)
        if not done:
            raise TimeoutError(f"no reply to serial {serial}")
        del self._replies[serial]
        return future.result()

    async def request(self, body: Body, timeout: float | None = None) -> Jt808Message:
        return await self.wait_reply(await self.send(body), timeout)

    async def receive(self, timeout: float | None = None) -> Jt808Message:
        """Next platform message that answers no pending request."""
        async with asyncio.timeout(timeout if timeout is not None else self.timeout):
            return await self._inbox.get()

    # -- the terminal's side of the protocol ---------------------------------------------------

    async def register(self, registration: TerminalRegister | None = None) -> RegisterResponse:
        msg = await self.request(registration or TerminalRegister(terminal_id="T1", model="SIM"))
        assert isinstance(msg.body, RegisterResponse), msg
        return msg.body

    async def authenticate(self, code: str, *, imei: str = "", software_version: str = "") -> GeneralResponse:
        return await self._general(TerminalAuth(code, imei, software_version))

    async def heartbeat(self) -> GeneralResponse:
        return await self._general(Heartbeat())

    async def send_location(self, report: LocationReport) -> GeneralResponse:
        return await self._general(report)

    async def send_batch(self, reports: Iterable[LocationReport], *, backfill: bool = False) -> GeneralResponse:
        kind = BatchKind.backfill if backfill else BatchKind.normal
        return await self._general(LocationBatch(kind, tuple(reports)))

    async def _general(self, body: Body) -> GeneralResponse:
        msg = await self.request(body)
        assert isinstance(msg.body, GeneralResponse) and msg.body.from_platform, msg
        return msg.body

    # -- receiving -----------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while data := await self._reader.read(65536):
                for payload in self.decoder.feed(data):
                    self._deliver(payload)
        except OSError:
            pass
        finally:
            self._closed.set()

    def _deliver(self, payload: bytes) -> None:
        try:
            msg = decode_message(payload)
        except ProtocolError:
            return
        answered = getattr(msg.body, "answer_serial", None)
        future = self._replies.get(answered) if isinstance(answered, int) else None
        if future is not None and not future.done():
            future.set_result(msg)
        else:
            with contextlib.suppress(asyncio.QueueFull):
                self._inbox.put_nowait(msg)
