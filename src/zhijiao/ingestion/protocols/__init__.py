"""Device protocols: pure codecs (bytes ↔ messages ↔ :class:`~zhijiao.core.fix.Fix`).

Every decoder in this package fails with :class:`ProtocolError` and nothing else, so a
gateway can drop a bad frame with one ``except`` and keep the connection.
"""

from __future__ import annotations

import enum

from zhijiao.core.errors import DomainError


class Reason(enum.StrEnum):
    """Stable reason codes; counters and logs use them, tests compare against them."""

    bad_escape = "bad_escape"
    bad_checksum = "bad_checksum"
    too_short = "too_short"
    oversized = "oversized"
    bad_header = "bad_header"
    truncated = "truncated"
    length_mismatch = "length_mismatch"
    trailing_bytes = "trailing_bytes"
    count_mismatch = "count_mismatch"
    bad_bcd = "bad_bcd"
    bad_time = "bad_time"
    bad_coordinate = "bad_coordinate"
    encrypted = "encrypted"


class ProtocolError(DomainError):
    """A device sent bytes we cannot decode. ``reason`` is a :class:`Reason` value."""

    status = 400
    code = "protocol_error"
    message = "设备报文格式有误"

    def __init__(self, reason: Reason | str, detail: str = "") -> None:
        super().__init__()
        self.reason = Reason(reason)
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.detail}" if self.detail else self.reason.value

    def __repr__(self) -> str:
        return f"ProtocolError({self.reason.value!r}, {self.detail!r})"


__all__ = ["ProtocolError", "Reason"]
