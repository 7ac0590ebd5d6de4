"""JT/T 808 messages (2013 and 2019 editions): header, bodies, and the step to :class:`Fix`.

Pure code: bytes in, dataclasses out, and back. No I/O, no clock except the default
``received_at`` of :func:`location_to_fix`. Every decoding failure is a :class:`ProtocolError`.

Header (JT/T 808-2013 §4.4.3 / 2019 §4.5.3)::

    msg id WORD | body attributes WORD | [2019: protocol version BYTE] | phone BCD[6] / 2019 BCD[10]
    | serial WORD | [if subpackaged: package count WORD, package number WORD]

    body attributes: bits 0-9 body length, 10-12 encryption (bit 10 = RSA), 13 subpackaged,
    14 2019 version flag, 15 reserved.

Identity rule: the header keeps the phone as the full BCD digit string (12 digits in 2013, 20 in
2019), so a reply can echo it exactly. Everywhere else — ``Fix.device_ident``, authenticator
calls, the device registry — uses :func:`normalise_phone`, which strips leading zeros, so the same
terminal has the same identity whichever edition it speaks.
"""

from __future__ import annotations

import enum
import math
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import ClassVar

from zhijiao.core import clock
from zhijiao.core.fix import DEFAULT_ACCURACY_M, Fix, FixSource
from zhijiao.core.terminal import canonical_terminal_number
from zhijiao.ingestion.protocols import ProtocolError, Reason
from zhijiao.ingestion.protocols.jt808.frame import checksum, decode_frame, encode_frame, escape
from zhijiao.ingestion.protocols.jt808.profiles import DEFAULT_BRACELET, DeviceProfile, alarm_types

# Device clocks report Beijing time (GMT+8, no DST), per JT/T 808 §8.12.
_GMT8 = timezone(timedelta(hours=8))
_MAX_BODY = 0x3FF  # 10-bit length field; longer bodies need subpackaging, which we do not send

_ATTR_LENGTH = 0x03FF
_ATTR_ENCRYPTION_SHIFT = 10
_ATTR_SUBPACKAGE = 0x2000
_ATTR_VERSION_2019 = 0x4000

STATUS_POSITIONED = 1 << 1
STATUS_SOUTH = 1 << 2
STATUS_WEST = 1 << 3

ITEM_MILEAGE = 0x01  # DWORD, 1/10 km
ITEM_SIGNAL = 0x30  # BYTE, wireless signal strength
ITEM_SATELLITES = 0x31  # BYTE, GNSS satellites in view


class Version(enum.IntEnum):
    V2013 = 2013
    V2019 = 2019


_PHONE_BYTES = {Version.V2013: 6, Version.V2019: 10}


class GeneralResult(enum.IntEnum):
    """Result byte of 0x0001 / 0x8001."""

    ok = 0
    failure = 1
    bad_message = 2
    unsupported = 3
    alarm_ack = 4


class RegisterResult(enum.IntEnum):
    """Result byte of 0x8100 (same meanings in 2013 and 2019)."""

    ok = 0
    vehicle_registered = 1
    no_such_vehicle = 2
    terminal_registered = 3
    no_such_terminal = 4


# ---------------------------------------------------------------------------------------------
# Primitive readers and writers


class _Reader:
    """Bounds-checked cursor: every short read is a ``ProtocolError``, never an ``IndexError``."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def take(self, n: int) -> bytes:
        start, end = self._pos, self._pos + n
        if end > len(self._data):
            raise ProtocolError(Reason.truncated, f"need {n} bytes, have {self.remaining}")
        self._pos = end
        return self._data[start:end]

    def unpack(self, fmt: struct.Struct) -> tuple[int, ...]:
        return fmt.unpack(self.take(fmt.size))

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def rest(self) -> bytes:
        return self.take(self.remaining)

    def end(self) -> None:
        if self.remaining:
            raise ProtocolError(Reason.trailing_bytes, f"{self.remaining} bytes")


def _u16(value: int) -> bytes:
    return value.to_bytes(2, "big")


def _bcd_digits(data: bytes) -> str:
    digits = data.hex()
    if not digits.isdigit():
        raise ProtocolError(Reason.bad_bcd, digits)
    return digits


def _text(data: bytes) -> str:
    # STRING fields are GBK, fixed-size ones padded with 0x00 (some makers pad with spaces).
    # "replace" keeps decoding total: a garbled model name must not cost us the message.
    return data.rstrip(b"\x00 ").decode("gbk", errors="replace")


def _fixed_text(value: str, size: int, name: str) -> bytes:
    raw = value.encode("gbk")
    if len(raw) > size:
        raise ValueError(f"{name} is {len(raw)} bytes, the field holds {size}")
    return raw.ljust(size, b"\x00")


# ---------------------------------------------------------------------------------------------
# Phone numbers and header


def normalise_phone(digits: str) -> str:
    """The device identifier used across Zhijiao: the terminal phone digits without leading zeros.

    ``'013800138000'`` (2013 header) and ``'00000000013800138000'`` (2019 header) both give
    ``'13800138000'``; an all-zero number gives ``'0'``. The one canonical form of
    :func:`zhijiao.core.terminal.canonical_terminal_number`, which registration uses too.
    """
    return canonical_terminal_number(digits)


def encode_phone(phone: str, version: Version) -> bytes:
    """BCD phone for a header, left-padded with zeros to 12 (2013) or 20 (2019) digits."""
    width = _PHONE_BYTES[version] * 2
    digits = normalise_phone(phone).rjust(width, "0")
    if len(digits) > width:
        raise ValueError(f"terminal phone {phone!r} has more than {width} digits")
    return bytes.fromhex(digits)


# Not frozen, unlike the other bodies: a frozen dataclass's __init__ sets each field through
# object.__setattr__, which cost 2 µs more per message than plain slots (the gateway builds a
# header and a report for each of 12,000 fixes a second). Nothing changes them once decoded.
@dataclass(slots=True)
class Header:
    msg_id: int
    phone: str  # full BCD digits as received; see normalise_phone for the identity
    serial: int
    version: Version = Version.V2013
    protocol_version: int = 0  # the 2019 protocol version byte (1 for JT/T 808-2019); 0 in 2013
    encryption: int = 0  # bits 10-12 of the body attributes
    package: tuple[int, int] | None = None  # (package count, package number from 1) if subpackaged
    body_length: int = 0

    @property
    def device_ident(self) -> str:
        return normalise_phone(self.phone)


_HEAD_2013 = struct.Struct(">HH6sH")  # msg id, body attributes, phone BCD[6], serial
_HEAD_2019 = struct.Struct(">HHB10sH")  # msg id, body attributes, protocol version, phone BCD[10], serial
_PACKAGE = struct.Struct(">HH")


def _short(need: int, have: int) -> ProtocolError:
    return ProtocolError(Reason.truncated, f"need {need} bytes, have {have}")


def decode_header(payload: bytes) -> tuple[Header, bytes]:
    """Split a frame payload (check code removed) into its header and body bytes."""
    size = len(payload)
    if size < 4:
        raise _short(4, size)
    if payload[2] & 0x40:  # attributes bit 14: the 2019 edition
        if size < _HEAD_2019.size:
            raise _short(_HEAD_2019.size, size)
        msg_id, attrs, protocol_version, phone_bcd, serial = _HEAD_2019.unpack_from(payload)
        version, pos = Version.V2019, _HEAD_2019.size
    else:
        if size < _HEAD_2013.size:
            raise _short(_HEAD_2013.size, size)
        msg_id, attrs, phone_bcd, serial = _HEAD_2013.unpack_from(payload)
        version, protocol_version, pos = Version.V2013, 0, _HEAD_2013.size
    phone = _bcd_digits(phone_bcd)
    package = None
    if attrs & _ATTR_SUBPACKAGE:
        if size < pos + 4:
            raise _short(pos + 4, size)
        total, index = _PACKAGE.unpack_from(payload, pos)
        pos += 4
        if not 1 <= index <= total:
            raise ProtocolError(Reason.bad_header, f"package {index} of {total}")
        package = (total, index)
    body = payload[pos:]
    length = attrs & _ATTR_LENGTH
    if len(body) != length:
        raise ProtocolError(Reason.length_mismatch, f"attributes say {length}, body has {len(body)}")
    header = Header(
        msg_id=msg_id,
        phone=phone,
        serial=serial,
        version=version,
        protocol_version=protocol_version,
        encryption=(attrs >> _ATTR_ENCRYPTION_SHIFT) & 0x7,
        package=package,
        body_length=length,
    )
    return header, body


def _encode_header(
    msg_id: int,
    body_length: int,
    *,
    phone: str,
    serial: int,
    version: Version,
    protocol_version: int,
    package: tuple[int, int] | None,
) -> bytes:
    attrs = body_length
    if version is Version.V2019:
        attrs |= _ATTR_VERSION_2019
    if package is not None:
        attrs |= _ATTR_SUBPACKAGE
    out = bytearray(_u16(msg_id) + _u16(attrs))
    if version is Version.V2019:
        out.append(protocol_version)
    out += encode_phone(phone, version) + _u16(serial & 0xFFFF)
    if package is not None:
        out += _u16(package[0]) + _u16(package[1])
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# Message bodies. Each has MSG_ID, encode(version) and decode(data, version).


TERMINAL_GENERAL_RESPONSE = 0x0001  # 终端通用应答
PLATFORM_GENERAL_RESPONSE = 0x8001  # 平台通用应答


@dataclass(frozen=True, slots=True)
class GeneralResponse:
    """0x0001 终端通用应答 and 0x8001 平台通用应答: one body, either direction, told apart by
    ``msg_id``; ``result`` is a :class:`GeneralResult` value."""

    msg_id: int  # TERMINAL_GENERAL_RESPONSE or PLATFORM_GENERAL_RESPONSE
    answer_serial: int
    answer_id: int
    result: int

    @classmethod
    def terminal(cls, answer_serial: int, answer_id: int, result: int) -> GeneralResponse:
        return cls(TERMINAL_GENERAL_RESPONSE, answer_serial, answer_id, result)

    @classmethod
    def platform(cls, answer_serial: int, answer_id: int, result: int) -> GeneralResponse:
        return cls(PLATFORM_GENERAL_RESPONSE, answer_serial, answer_id, result)

    @property
    def MSG_ID(self) -> int:  # noqa: N802
        return self.msg_id

    @property
    def from_platform(self) -> bool:
        return self.msg_id == PLATFORM_GENERAL_RESPONSE

    def encode(self, version: Version = Version.V2013) -> bytes:
        return _u16(self.answer_serial) + _u16(self.answer_id) + bytes((self.result,))

    @classmethod
    def decoder(cls, msg_id: int) -> Callable[[bytes, Version], GeneralResponse]:
        def decode(data: bytes, version: Version = Version.V2013) -> GeneralResponse:
            r = _Reader(data)
            msg = cls(msg_id, r.u16(), r.u16(), r.u8())
            r.end()
            return msg

        return decode


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """0x0002 终端心跳 (empty body)."""

    MSG_ID: ClassVar[int] = 0x0002

    def encode(self, version: Version = Version.V2013) -> bytes:
        return b""

    @classmethod
    def decode(cls, data: bytes, version: Version = Version.V2013) -> Heartbeat:
        # Some terminals pad the heartbeat; the body carries no meaning, so ignore it.
        return cls()


# (maker id, model, terminal id) field sizes of 0x0100
_REGISTER_SIZES = {Version.V2013: (5, 20, 7), Version.V2019: (11, 30, 30)}


@dataclass(frozen=True, slots=True)
class TerminalRegister:
    """0x0100 终端注册. ``plate`` is the plate number, or the VIN when ``plate_colour`` is 0."""

    MSG_ID: ClassVar[int] = 0x0100
    province_id: int = 0
    city_id: int = 0
    maker_id: str = ""
    model: str = ""
    terminal_id: str = ""
    plate_colour: int = 0
    plate: str = ""

    def encode(self, version: Version = Version.V2013) -> bytes:
        maker_n, model_n, term_n = _REGISTER_SIZES[version]
        return b"".join(
            (
                _u16(self.province_id),
                _u16(self.city_id),
                _fixed_text(self.maker_id, maker_n, "maker_id"),
                _fixed_text(self.model, model_n, "model"),
                _fixed_text(self.terminal_id, term_n, "terminal_id"),
                bytes((self.plate_colour,)),
                self.plate.encode("gbk"),
            )
        )

    @classmethod
    def decode(cls, data: bytes, version: Version = Version.V2013) -> TerminalRegister:
        maker_n, model_n, term_n = _REGISTER_SIZES[version]
        r = _Reader(data)
        return cls(
            province_id=r.u16(),
            city_id=r.u16(),
            maker_id=_text(r.take(maker_n)),
            model=_text(r.take(model_n)),
            terminal_id=_text(r.take(term_n)),
            plate_colour=r.u8(),
            plate=_text(r.rest()),
        )


@dataclass(frozen=True, slots=True)
class RegisterResponse:
    """0x8100 终端注册应答; the auth code is present only when ``result`` is 0."""

    MSG_ID: ClassVar[int] = 0x8100
    answer_serial: int
    result: int
    auth_code: str | None = None

    def encode(self, version: Version = Version.V2013) -> bytes:
        out = _u16(self.answer_serial) + bytes((self.result,))
        if self.result == RegisterResult.ok:
            if not self.auth_code:
                raise ValueError("a successful registration needs an auth code")
            out += self.auth_code.encode("gbk")
        return out

    @classmethod
    def decode(cls, data: bytes, version: Version = Version.V2013) -> RegisterResponse:
        r = _Reader(data)
        serial, result = r.u16(), r.u8()
        code = _text(r.rest()) if result == RegisterResult.ok else None
        return cls(serial, result, code)


@dataclass(frozen=True, slots=True)
class TerminalAuth:
    """0x0102 终端鉴权. 2013: the body is the auth code. 2019: BYTE length, code, IMEI[15], software version[20]."""

    MSG_ID: ClassVar[int] = 0x0102
    code: str
    imei: str = ""  # 2019 only
    software_version: str = ""  # 2019 only

    def encode(self, version: Version = Version.V2013) -> bytes:
        code = self.code.encode("gbk")
        if version is Version.V2013:
            return code
        if len(code) > 0xFF:
            raise ValueError("auth code longer than 255 bytes")
        return (
            bytes((len(code),))
            + code
            + _fixed_text(self.imei, 15, "imei")
            + _fixed_text(self.software_version, 20, "software_version")
        )

    @classmethod
    def decode(cls, data: bytes, version: Version = Version.V2013) -> TerminalAuth:
        if version is Version.V2013:
            return cls(code=_text(data))
        r = _Reader(data)
        code = _text(r.take(r.u8()))
        imei, software = _text(r.take(15)), _text(r.take(20))
        r.end()
        return cls(code=code, imei=imei, software_version=software)


@dataclass(slots=True)  # not frozen: see Header
class LocationItem:
    """One additional-information item of 0x0200 (id BYTE, length BYTE, value)."""

    id: int
    value: bytes


# alarm, status, lat, lon (DWORD each); altitude (signed WORD, see below); speed, course (WORD)
_LOCATION_FIXED = struct.Struct(">IIIIhHH")
_LOCATION_SIZE = _LOCATION_FIXED.size + 6  # + BCD[6] time


_TIMES: dict[bytes, datetime] = {}  # terminals report the same few seconds: decode each once


def _decode_time(data: bytes) -> datetime:
    cached = _TIMES.get(data)
    if cached is not None:
        return cached
    digits = _bcd_digits(data)
    yy, mo, dd, hh, mi, ss = (int(digits[i : i + 2]) for i in range(0, 12, 2))
    try:
        local = datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=_GMT8)
    except ValueError as exc:
        raise ProtocolError(Reason.bad_time, digits) from exc
    if len(_TIMES) >= 4096:
        _TIMES.clear()
    value = _TIMES[bytes(data)] = local.astimezone(UTC)
    return value


def _encode_time(value: datetime) -> bytes:
    if value.tzinfo is None:
        raise ValueError("location time must be timezone-aware")
    local = value.astimezone(_GMT8)
    if not 2000 <= local.year <= 2099:
        raise ValueError("JT/T 808 time holds years 2000-2099 only")
    return bytes.fromhex(local.strftime("%y%m%d%H%M%S"))


def _negative(value: float) -> bool:
    return math.copysign(1.0, value) < 0  # keeps -0.0 (S/W bit with a zero coordinate) round-trippable


@dataclass(slots=True)  # not frozen: see Header
class LocationReport:
    """0x0200 位置信息汇报 (also each item of 0x0704).

    ``lat``/``lon`` are signed degrees: the S/W status bits become the sign on decoding and are
    set from the sign on encoding. ``items`` keeps every additional item raw and in order; the
    properties read the standard ones.
    """

    MSG_ID: ClassVar[int] = 0x0200
    alarm: int
    status: int
    lat: float
    lon: float
    altitude_m: int
    speed_kmh: float
    course_deg: int
    time: datetime  # aware UTC
    items: tuple[LocationItem, ...] = ()
    items_truncated: bool = False  # the item list ended mid-item; the fixed part is still good

    @classmethod
    def build(
        cls,
        *,
        lat: float,
        lon: float,
        time: datetime,
        alarm: int = 0,
        status: int = 0,
        positioned: bool = True,
        altitude_m: int = 0,
        speed_kmh: float = 0.0,
        course_deg: int = 0,
        mileage_km: float | None = None,
        signal_strength: int | None = None,
        satellites: int | None = None,
        extra_items: Iterable[LocationItem] = (),
    ) -> LocationReport:
        """Convenience constructor for simulators and tests."""
        status = status | STATUS_POSITIONED if positioned else status & ~STATUS_POSITIONED
        items: list[LocationItem] = []
        if mileage_km is not None:
            items.append(LocationItem(ITEM_MILEAGE, round(mileage_km * 10).to_bytes(4, "big")))
        if signal_strength is not None:
            items.append(LocationItem(ITEM_SIGNAL, bytes((signal_strength,))))
        if satellites is not None:
            items.append(LocationItem(ITEM_SATELLITES, bytes((satellites,))))
        items.extend(extra_items)
        return cls(alarm, status, lat, lon, altitude_m, speed_kmh, course_deg, time, tuple(items))

    # -- standard item views -------------------------------------------------------------------

    @property
    def positioned(self) -> bool:
        return bool(self.status & STATUS_POSITIONED)

    def item(self, item_id: int) -> bytes | None:
        for it in self.items:
            if it.id == item_id:
                return it.value
        return None

    def _uint_item(self, item_id: int, size: int) -> int | None:
        value = self.item(item_id)
        # A standard id with the wrong length is a vendor quirk: no typed value, raw item kept.
        return int.from_bytes(value, "big") if value is not None and len(value) == size else None

    @property
    def mileage_km(self) -> float | None:
        raw = self._uint_item(ITEM_MILEAGE, 4)
        return None if raw is None else raw / 10

    @property
    def signal_strength(self) -> int | None:
        return self._uint_item(ITEM_SIGNAL, 1)

    @property
    def satellites(self) -> int | None:
        return self._uint_item(ITEM_SATELLITES, 1)

    # -- wire format ---------------------------------------------------------------------------

    def encode(self, version: Version = Version.V2013) -> bytes:
        status = self.status & ~(STATUS_SOUTH | STATUS_WEST)
        status |= STATUS_SOUTH if _negative(self.lat) else 0
        status |= STATUS_WEST if _negative(self.lon) else 0
        out = bytearray(
            _LOCATION_FIXED.pack(
                self.alarm,
                status,
                round(abs(self.lat) * 1_000_000),
                round(abs(self.lon) * 1_000_000),
                self.altitude_m,
                round(self.speed_kmh * 10),
                self.course_deg,
            )
        )
        out += _encode_time(self.time)
        for it in self.items:
            if len(it.value) > 0xFF:
                raise ValueError(f"item {it.id:#04x} longer than 255 bytes")
            out += bytes((it.id, len(it.value))) + it.value
        return bytes(out)

    @classmethod
    def decode(cls, data: bytes, version: Version = Version.V2013) -> LocationReport:
        if len(data) < _LOCATION_FIXED.size:
            raise _short(_LOCATION_FIXED.size, len(data))
        # Altitude is a WORD in the standard; read it signed as most platforms do, so a terminal
        # that sends two's complement below sea level is not placed 65 km up.
        alarm, status, lat_raw, lon_raw, altitude, speed, course = _LOCATION_FIXED.unpack_from(data)
        if len(data) < _LOCATION_SIZE:
            raise _short(6, len(data) - _LOCATION_FIXED.size)
        time = _decode_time(data[_LOCATION_FIXED.size : _LOCATION_SIZE])
        if lat_raw > 90_000_000 or lon_raw > 180_000_000:
            raise ProtocolError(Reason.bad_coordinate, f"{lat_raw}, {lon_raw}")
        lat = lat_raw / 1_000_000 * (-1 if status & STATUS_SOUTH else 1)
        lon = lon_raw / 1_000_000 * (-1 if status & STATUS_WEST else 1)
        if len(data) > _LOCATION_SIZE:
            items, truncated = _decode_items(data[_LOCATION_SIZE:])
        else:
            items, truncated = (), False
        return cls(alarm, status, lat, lon, altitude, speed / 10, course, time, items, truncated)


def _decode_items(data: bytes) -> tuple[tuple[LocationItem, ...], bool]:
    """Additional items until the body ends; a cut-off last item is flagged, not fatal."""
    items: list[LocationItem] = []
    pos, end = 0, len(data)
    while pos < end:
        if pos + 2 > end:
            return tuple(items), True
        item_id, length = data[pos], data[pos + 1]
        pos += 2
        if pos + length > end:
            return tuple(items), True
        items.append(LocationItem(item_id, data[pos : pos + length]))
        pos += length
    return tuple(items), False


class BatchKind(enum.IntEnum):
    normal = 0  # 正常位置批量汇报
    backfill = 1  # 盲区补报 (补传): stored while out of coverage


@dataclass(frozen=True, slots=True)
class LocationBatch:
    """0x0704 定位数据批量上传: count WORD, type BYTE, then (length WORD, 0x0200 body) per item.

    An item whose own content is bad (say, an impossible date) is skipped and its reason kept in
    ``rejected``: the length prefix keeps the rest decodable, and refusing the whole batch would
    make the terminal resend the good fixes forever.
    """

    MSG_ID: ClassVar[int] = 0x0704
    kind: int
    reports: tuple[LocationReport, ...]
    rejected: tuple[str, ...] = ()

    @property
    def backfill(self) -> bool:
        return self.kind == BatchKind.backfill

    def encode(self, version: Version = Version.V2013) -> bytes:
        out = bytearray(_u16(len(self.reports)) + bytes((self.kind,)))
        for report in self.reports:
            body = report.encode(version)
            out += _u16(len(body)) + body
        return bytes(out)

    @classmethod
    def decode(cls, data: bytes, version: Version = Version.V2013) -> LocationBatch:
        r = _Reader(data)
        count, kind = r.u16(), r.u8()
        reports: list[LocationReport] = []
        rejected: list[str] = []
        for _ in range(count):
            if not r.remaining:
                raise ProtocolError(Reason.count_mismatch, f"declared {count} items")
            item = r.take(r.u16())
            try:
                reports.append(LocationReport.decode(item, version))
            except ProtocolError as exc:
                rejected.append(exc.reason.value)
        if r.remaining:
            raise ProtocolError(Reason.count_mismatch, f"bytes left after {count} items")
        return cls(kind, tuple(reports), tuple(rejected))


@dataclass(frozen=True, slots=True)
class Fragment:
    """One package of a subpackaged message. Reassembly is not implemented: the gateway refuses
    these with result 3 (unsupported); none of the messages we accept needs more than 1023 bytes."""

    msg_id: int
    total: int
    index: int
    data: bytes

    @property
    def MSG_ID(self) -> int:  # noqa: N802 - same spelling as the class constant of other bodies
        return self.msg_id

    def encode(self, version: Version = Version.V2013) -> bytes:
        return self.data


@dataclass(frozen=True, slots=True)
class RawBody:
    """A message id this codec does not decode; the bytes are kept for logging."""

    msg_id: int
    data: bytes

    @property
    def MSG_ID(self) -> int:  # noqa: N802
        return self.msg_id

    def encode(self, version: Version = Version.V2013) -> bytes:
        return self.data


Body = (
    GeneralResponse
    | Heartbeat
    | TerminalRegister
    | RegisterResponse
    | TerminalAuth
    | LocationReport
    | LocationBatch
    | Fragment
    | RawBody
)

_DECODERS: dict[int, Callable[[bytes, Version], Body]] = {
    TERMINAL_GENERAL_RESPONSE: GeneralResponse.decoder(TERMINAL_GENERAL_RESPONSE),
    PLATFORM_GENERAL_RESPONSE: GeneralResponse.decoder(PLATFORM_GENERAL_RESPONSE),
} | {
    cls.MSG_ID: cls.decode
    for cls in (
        Heartbeat,
        TerminalRegister,
        RegisterResponse,
        TerminalAuth,
        LocationReport,
        LocationBatch,
    )
}


@dataclass(frozen=True, slots=True)
class Jt808Message:
    header: Header
    body: Body

    @property
    def device_ident(self) -> str:
        return self.header.device_ident


def decode_body(header: Header, body: bytes) -> Body:
    if header.encryption:
        raise ProtocolError(Reason.encrypted, f"encryption {header.encryption}")
    if header.package is not None:
        return Fragment(header.msg_id, header.package[0], header.package[1], body)
    decoder = _DECODERS.get(header.msg_id)
    if decoder is None:
        return RawBody(header.msg_id, body)
    return decoder(body, header.version)


def decode_message(payload: bytes) -> Jt808Message:
    """Decode a frame payload as produced by :class:`~.frame.FrameDecoder`."""
    header, body = decode_header(payload)
    return Jt808Message(header, decode_body(header, body))


def parse_frame(raw: bytes) -> Jt808Message:
    """Decode one complete wire frame (with or without its 0x7e delimiters)."""
    return decode_message(decode_frame(raw))


def encode_payload(
    body: Body,
    *,
    phone: str,
    serial: int,
    version: Version = Version.V2013,
    protocol_version: int = 1,
) -> bytes:
    """Header + body, unescaped and without check code (what :func:`encode_frame` wraps)."""
    data = body.encode(version)
    if len(data) > _MAX_BODY:
        raise ValueError(f"body of {len(data)} bytes needs subpackaging, which is not supported")
    package = (body.total, body.index) if isinstance(body, Fragment) else None
    head = _encode_header(
        body.MSG_ID,
        len(data),
        phone=phone,
        serial=serial,
        version=version,
        protocol_version=protocol_version,
        package=package,
    )
    return head + data


def encode_message(
    body: Body,
    *,
    phone: str,
    serial: int,
    version: Version = Version.V2013,
    protocol_version: int = 1,
) -> bytes:
    """A complete wire frame for ``body``; works for terminal and platform messages alike."""
    return encode_frame(
        encode_payload(body, phone=phone, serial=serial, version=version, protocol_version=protocol_version)
    )


class AckEncoder:
    """0x8001 platform general responses for one connection, without building messages.

    The gateway answers every location report with one of these, so they are the most frequent
    frame it writes. The header up to the serial is the same for every reply to one terminal;
    it and its check code are kept, and each reply only adds nine bytes. The output is
    byte-for-byte what :func:`encode_message` gives for a platform :class:`GeneralResponse`.
    """

    __slots__ = ("_heads",)
    _TAIL = struct.Struct(">HHHB")  # serial, answer serial, answer id, result

    def __init__(self) -> None:
        self._heads: dict[tuple[str, Version, int], tuple[bytes, int]] = {}

    def encode(self, answered: Header, serial: int, result: int) -> bytes:
        key = (answered.phone, answered.version, answered.protocol_version)
        head = self._heads.get(key)
        if head is None:
            raw = _encode_header(PLATFORM_GENERAL_RESPONSE, 5, phone=answered.phone, serial=0,
                                 version=answered.version, protocol_version=answered.protocol_version or 1,
                                 package=None)[:-2]
            head = self._heads[key] = (raw, checksum(raw))
        prefix, check = head
        tail = self._TAIL.pack(serial & 0xFFFF, answered.serial, answered.msg_id, result)
        for byte in tail:
            check ^= byte
        return b"\x7e" + escape(prefix + tail + bytes((check,))) + b"\x7e"


# ---------------------------------------------------------------------------------------------
# To the normalised Fix


def _battery(report: LocationReport, profile: DeviceProfile) -> int | None:
    if profile.battery_item_id is None:
        return None
    value = report.item(profile.battery_item_id)
    if not value or len(value) > 2:
        return None
    pct = int.from_bytes(value, "big")
    return pct if pct <= 100 else None


_PROTOCOL_TAGS = {v: f"jt808/{v.value}" for v in Version}
# standard additional items decoded into typed extras: id → (key, size, scale)
_TYPED_ITEMS = {ITEM_MILEAGE: ("mileage_km", 4, 10), ITEM_SIGNAL: ("signal_strength", 1, 0),
                ITEM_SATELLITES: ("satellites", 1, 0)}


# The part of the extras that depends only on the profile, edition, status and alarm words:
# a few combinations cover almost every report, so it is built once each and copied.
_EXTRAS_BASE: dict[tuple[int, Version, int, int], tuple[DeviceProfile, dict[str, object]]] = {}


def _extras(
    report: LocationReport, profile: DeviceProfile, version: Version, battery: int | None
) -> dict[str, object]:
    key = (id(profile), version, report.status, report.alarm)
    cached = _EXTRAS_BASE.get(key)
    if cached is None or cached[0] is not profile:
        base: dict[str, object] = {
            "protocol": _PROTOCOL_TAGS[version],
            "profile": profile.name,
            "positioned": bool(report.status & STATUS_POSITIONED),
            "status": report.status,
        }
        if report.alarm:
            types = alarm_types(report.alarm, profile)
            if types:
                base["alarm_types"] = sorted(types)
        if len(_EXTRAS_BASE) >= 4096:
            _EXTRAS_BASE.clear()
        cached = _EXTRAS_BASE[key] = (profile, base)
    extras = dict(cached[1])
    if "alarm_types" in extras:
        extras["alarm_types"] = list(extras["alarm_types"])  # each fix owns its lists
    items = report.items
    if items:
        # The first item of a standard id is decoded; everything else (vendor items, standard ids
        # with odd lengths, their repeats) stays raw, as hex, so it survives JSON storage for
        # later analysis. An id decoded, or read as the battery, is not kept raw as well.
        seen: set[int] = set()
        decoded: set[int] = set()
        battery_id = profile.battery_item_id if battery is not None else None
        raw: dict[str, str] = {}
        for it in items:
            item_id, value = it.id, it.value
            if item_id not in seen:
                seen.add(item_id)
                typed = _TYPED_ITEMS.get(item_id)
                # A standard id with the wrong length is a vendor quirk: no typed value, raw item kept.
                if typed is not None and len(value) == typed[1]:
                    key, _size, scale = typed
                    number = int.from_bytes(value, "big")
                    extras[key] = number / scale if scale else number
                    decoded.add(item_id)
                    continue
            if item_id not in decoded and item_id != battery_id:
                raw[f"{item_id:#04x}"] = value.hex()
        if raw:
            extras["items"] = raw
    if report.items_truncated:
        extras["items_truncated"] = True
    return extras


def location_to_fix(
    report: LocationReport,
    *,
    device_ident: str,
    profile: DeviceProfile = DEFAULT_BRACELET,
    version: Version = Version.V2013,
    backfill: bool = False,
    received_at: datetime | None = None,
) -> Fix:
    """One report → one :class:`Fix`. An unpositioned report keeps ``extras['positioned'] = False``
    for the pipeline to drop or use; the decoder does not filter."""
    battery = _battery(report, profile)
    extras = _extras(report, profile, version, battery)
    accuracy = profile.accuracy_m
    satellites = extras.get("satellites")
    if isinstance(satellites, int) and satellites < profile.min_satellites:
        accuracy = max(accuracy or DEFAULT_ACCURACY_M[FixSource.gnss], profile.weak_fix_accuracy_m)
    return Fix(
        device_ident=device_ident,
        fix_time=report.time,
        lat=report.lat,
        lon=report.lon,
        source=FixSource.gnss,
        accuracy_m=accuracy,
        speed_kmh=report.speed_kmh,
        course_deg=float(report.course_deg),
        altitude_m=float(report.altitude_m),
        battery_pct=battery,
        alarm_bits=report.alarm,
        backfill=backfill,
        received_at=received_at if received_at is not None else clock.now(),
        extras=extras,
    )


def message_fixes(
    message: Jt808Message,
    *,
    profile: DeviceProfile = DEFAULT_BRACELET,
    received_at: datetime | None = None,
) -> list[Fix]:
    """Fixes carried by a 0x0200 or 0x0704 message; an empty list for any other message."""
    body = message.body
    if isinstance(body, LocationReport):
        reports, backfill = (body,), False
    elif isinstance(body, LocationBatch):
        reports, backfill = body.reports, body.backfill
    else:
        return []
    received = received_at if received_at is not None else clock.now()
    return [
        location_to_fix(
            report,
            device_ident=message.device_ident,
            profile=profile,
            version=message.header.version,
            backfill=backfill,
            received_at=received,
        )
        for report in reports
    ]


__all__ = [
    "PLATFORM_GENERAL_RESPONSE",
    "TERMINAL_GENERAL_RESPONSE",
    "AckEncoder",
    "BatchKind",
    "Body",
    "Fragment",
    "GeneralResponse",
    "GeneralResult",
    "Header",
    "Heartbeat",
    "Jt808Message",
    "LocationBatch",
    "LocationItem",
    "LocationReport",
    "RawBody",
    "RegisterResponse",
    "RegisterResult",
    "TerminalAuth",
    "TerminalRegister",
    "Version",
    "decode_body",
    "decode_header",
    "decode_message",
    "encode_message",
    "encode_payload",
    "encode_phone",
    "location_to_fix",
    "message_fixes",
    "normalise_phone",
    "parse_frame",
]
