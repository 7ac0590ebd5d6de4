"""JT/T 808 framing: 0x7e delimiters, 0x7d escaping and the XOR check code (JT/T 808-2013 §4.4.1).

On the wire a frame is ``7e <escaped(header + body + check)> 7e``, where the check code is the
XOR of every header and body byte, and escaping maps ``7e → 7d 02`` and ``7d → 7d 01``.

:class:`FrameDecoder` is the incremental splitter for a TCP stream. It never raises: a bad frame
is dropped and counted in :class:`FrameStats` so one broken device cannot stall its connection.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import reduce
from operator import xor

from zhijiao.ingestion.protocols import ProtocolError, Reason

FLAG = 0x7E
ESCAPE = 0x7D
_FLAG_B = b"\x7e"
_ESCAPE_B = b"\x7d"

DEFAULT_MAX_FRAME = 2048
# Smallest frame worth decoding: a 2013 header (12 bytes) plus the check code. Shorter runs of
# bytes between two 0x7e are line noise, counted apart from bad checksums.
MIN_FRAME = 13


def checksum(data: bytes) -> int:
    """XOR of all bytes (the JT/T 808 check code)."""
    return reduce(xor, data, 0)


def escape(data: bytes) -> bytes:
    # 0x7d first: escaping 0x7e produces 0x7d bytes that must not be escaped again.
    return data.replace(_ESCAPE_B, b"\x7d\x01").replace(_FLAG_B, b"\x7d\x02")


def unescape(data: bytes) -> bytes:
    """Reverse :func:`escape`; ``7d`` followed by anything but ``01``/``02`` is a :class:`ProtocolError`."""
    if ESCAPE not in data:
        return data
    parts = data.split(_ESCAPE_B)
    out = bytearray(parts[0])
    for part in parts[1:]:
        if not part:
            # Either a trailing 0x7d or "7d 7d": the escape has no code byte.
            raise ProtocolError(Reason.bad_escape, "0x7d without a code byte")
        code = part[0]
        if code == 0x01:
            out.append(ESCAPE)
        elif code == 0x02:
            out.append(FLAG)
        else:
            raise ProtocolError(Reason.bad_escape, f"0x7d followed by {code:#04x}")
        out += part[1:]
    return bytes(out)


def encode_frame(payload: bytes) -> bytes:
    """Wrap an unescaped header+body in check code, escaping and delimiters."""
    return b"\x7e" + escape(payload + bytes((checksum(payload),))) + b"\x7e"


def decode_frame(raw: bytes, *, max_frame: int = DEFAULT_MAX_FRAME) -> bytes:
    """Verify one complete frame (delimiters optional) and return header+body without the check code."""
    if raw[:1] == _FLAG_B:
        raw = raw[1:]
    if raw[-1:] == _FLAG_B:
        raw = raw[:-1]
    if FLAG in raw:
        raise ProtocolError(Reason.bad_escape, "0x7e inside a frame")
    data = unescape(raw)
    if len(data) > max_frame:
        raise ProtocolError(Reason.oversized, f"{len(data)} > {max_frame} bytes")
    if len(data) < MIN_FRAME:
        raise ProtocolError(Reason.too_short, f"{len(data)} bytes")
    payload, check = data[:-1], data[-1]
    if checksum(payload) != check:
        raise ProtocolError(Reason.bad_checksum)
    return payload


@dataclass(slots=True)
class FrameStats:
    """Counters of one decoder, or shared by all decoders of a gateway."""

    frames: int = 0  # good frames handed on
    bad_checksum: int = 0
    bad_escape: int = 0
    oversized: int = 0
    too_short: int = 0
    garbage_bytes: int = 0  # bytes before the first 0x7e of a stream

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def count(self, reason: Reason) -> None:
        if reason is Reason.bad_checksum:
            self.bad_checksum += 1
        elif reason is Reason.bad_escape:
            self.bad_escape += 1
        elif reason is Reason.oversized:
            self.oversized += 1
        else:
            self.too_short += 1


class FrameDecoder:
    """Split a byte stream into verified frame payloads (header+body, check code removed).

    Every 0x7e is a boundary and the bytes between two boundaries are one candidate frame. This
    one rule covers back-to-back frames (``7e A 7e 7e B 7e``), shared delimiters (``7e A 7e B 7e``)
    and noise between frames (it becomes a candidate that fails its check and is counted).
    A frame split across reads stays buffered; a candidate that grows past ``max_frame`` is
    discarded as soon as that is known, so a peer cannot make us buffer without bound.
    """

    __slots__ = ("_buf", "_discarding", "_escapes", "_in_frame", "max_frame", "stats")

    def __init__(self, *, max_frame: int = DEFAULT_MAX_FRAME, stats: FrameStats | None = None) -> None:
        self.max_frame = max_frame
        self.stats = stats if stats is not None else FrameStats()
        self._buf = bytearray()
        self._escapes = 0  # 0x7d bytes in _buf: unescaped length is len(_buf) - _escapes
        self._in_frame = False  # False until the first 0x7e of the stream
        self._discarding = False  # current candidate already known to be oversized

    def feed(self, data: bytes) -> list[bytes]:
        """Consume one read; return the payloads of the frames it completed, in order."""
        out: list[bytes] = []
        last = len(data) - 1
        if (1 < last <= self.max_frame + 1 and not self._buf and not self._discarding and data[0] == FLAG
                and data[last] == FLAG and data.find(_FLAG_B, 1) == last):
            # The usual read: one whole frame and nothing held from before (a terminal sends a
            # report a minute). The same outcome as the loop below, in one step.
            self._in_frame = True
            self._decode(data, out)
            return out
        pos = 0
        while True:
            idx = data.find(_FLAG_B, pos)
            if idx < 0:
                self._accumulate(data[pos:])
                return out
            self._accumulate(data[pos:idx])
            self._boundary(out)
            pos = idx + 1

    @property
    def buffered(self) -> int:
        """Bytes held for an unfinished frame (for tests and diagnostics)."""
        return len(self._buf)

    def _accumulate(self, chunk: bytes) -> None:
        if not chunk:
            return
        if not self._in_frame:
            self.stats.garbage_bytes += len(chunk)
            return
        if self._discarding:
            return
        self._buf += chunk
        self._escapes += chunk.count(_ESCAPE_B)
        if len(self._buf) - self._escapes > self.max_frame:
            self.stats.oversized += 1
            self._discarding = True
            self._reset_buffer()

    def _boundary(self, out: list[bytes]) -> None:
        if not self._in_frame:
            self._in_frame = True
        elif self._discarding:
            self._discarding = False
        elif self._buf:
            raw = bytes(self._buf)
            self._reset_buffer()
            self._decode(raw, out)

    def _decode(self, raw: bytes, out: list[bytes]) -> None:
        try:
            payload = decode_frame(raw, max_frame=self.max_frame)
        except ProtocolError as exc:
            self.stats.count(exc.reason)
        else:
            self.stats.frames += 1
            out.append(payload)

    def _reset_buffer(self) -> None:
        self._buf = bytearray()
        self._escapes = 0
