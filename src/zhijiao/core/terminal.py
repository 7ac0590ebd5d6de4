"""The JT/T 808 terminal number (终端手机号): one canonical form, everywhere.

A 2013 header carries the number as 12 BCD digits, a 2019 header as 20, both left-padded with
zeros; labels and contracts print it either way (``013912345678``, ``13912345678``).  Zhijiao
keeps and looks up one form: **the digits without leading zeros** (``13912345678``; an all-zero
number is ``0``).  It is the same whichever edition the terminal speaks, needs no knowledge of
the edition at registration, and pads back to either header exactly (``encode_phone``).

:func:`canonical_terminal_number` is the only place that form is made: device registration
(service, API, the /devices form) and the gateway's lookup (``codec.normalise_phone``) call it,
and migration ``s20_secpos`` brought stored numbers to it.
"""

from __future__ import annotations

import functools

from zhijiao.core.errors import InvalidInput

MAX_DIGITS = 20  # a 2019 header's BCD[10]


class BadTerminalNumber(InvalidInput, ValueError):
    """Not a terminal number (also a ``ValueError``, as the codec's callers expect)."""

    code = "terminal_number_invalid"


@functools.lru_cache(maxsize=65536)
def canonical_terminal_number(raw: str) -> str:
    """``raw`` without leading zeros; refuses anything but 1–20 ASCII digits with a Chinese
    message and the code ``terminal_number_invalid``."""
    digits = raw
    if not (digits.isascii() and digits.isdigit()):
        raise BadTerminalNumber("JT/T 808 终端手机号只能由数字组成（如 013912345678 或 13912345678）",
                                 fields={"ident": "只能是数字"})
    if len(digits) > MAX_DIGITS:
        raise BadTerminalNumber(f"JT/T 808 终端手机号最多 {MAX_DIGITS} 位数字（2019 版消息头）",
                                 fields={"ident": f"最多 {MAX_DIGITS} 位"})
    return digits.lstrip("0") or "0"
