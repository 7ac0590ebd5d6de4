"""Property tests: whatever bytes a device sends, the decoders give messages or ProtocolError."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from zhijiao.ingestion.protocols import ProtocolError
from zhijiao.ingestion.protocols.jt808.codec import (
    Jt808Message,
    LocationItem,
    LocationReport,
    Version,
    decode_message,
    encode_message,
    encode_phone,
    location_to_fix,
    message_fixes,
    parse_frame,
)
from zhijiao.ingestion.protocols.jt808.frame import FrameDecoder, encode_frame, escape, unescape
from zhijiao.ingestion.protocols.jt808.profiles import DeviceProfile

FUZZ = settings(max_examples=300, deadline=None)
KNOWN_IDS = [0x0001, 0x0002, 0x0100, 0x0102, 0x0200, 0x0704, 0x8001, 0x8100, 0x0900]


def _decode_all(payloads: list[bytes]) -> list[Jt808Message]:
    messages = []
    for payload in payloads:
        try:
            msg = decode_message(payload)
        except ProtocolError:
            continue
        message_fixes(msg)  # conversion must be total on anything the decoder accepted
        messages.append(msg)
    return messages


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


# Streams mixing noise with real frames, so the fuzzer reaches the body decoders often.
_frame = st.builds(
    lambda msg_id, attrs_body, v2019: encode_frame(
        msg_id.to_bytes(2, "big")
        + ((len(attrs_body) & 0x3FF) | (0x4000 if v2019 else 0)).to_bytes(2, "big")
        + (b"\x01" + encode_phone("13800138000", Version.V2019) if v2019 else encode_phone("1", Version.V2013))
        + b"\x00\x01"
        + attrs_body
    ),
    st.sampled_from(KNOWN_IDS),
    st.binary(max_size=120),
    st.booleans(),
)
_stream = st.lists(st.one_of(st.binary(max_size=40), _frame, st.just(b"\x7e"), st.just(b"\x7d")), max_size=8).map(
    b"".join
)


@FUZZ
@given(data=_stream, cuts=st.lists(st.integers(min_value=0), max_size=6))
def test_any_stream_yields_messages_or_counted_drops(data: bytes, cuts: list[int]) -> None:
    decoder = FrameDecoder(max_frame=256)
    payloads: list[bytes] = []
    for chunk in _split(data, cuts):
        payloads += decoder.feed(chunk)
    _decode_all(payloads)
    assert decoder.stats.frames == len(payloads)


@FUZZ
@given(data=_stream, cuts=st.lists(st.integers(min_value=0), max_size=6))
def test_splitting_a_stream_never_changes_the_frames(data: bytes, cuts: list[int]) -> None:
    whole = FrameDecoder().feed(data)
    decoder = FrameDecoder()
    pieces: list[bytes] = []
    for chunk in _split(data, cuts):
        pieces += decoder.feed(chunk)
    assert pieces == whole


@FUZZ
@given(reads=st.lists(st.one_of(_frame, _frame.map(lambda f: f[:-2] + b"\x7d" + f[-1:]), st.binary(max_size=40),
                                st.binary(max_size=40).map(lambda b: b"\x7e" + b + b"\x7e")), max_size=8),
       max_frame=st.sampled_from([16, 64, 2048]))
def test_a_read_of_one_whole_frame_decodes_as_byte_by_byte(reads: list[bytes], max_frame: int) -> None:
    # Reads of exactly one frame take a shortcut; bytes one at a time never do.
    whole, single = FrameDecoder(max_frame=max_frame), FrameDecoder(max_frame=max_frame)
    got = [p for read in reads for p in whole.feed(read)]
    expected = [p for read in reads for i in range(len(read)) for p in single.feed(read[i:i + 1])]
    assert got == expected
    assert whole.stats == single.stats
    assert whole.buffered == single.buffered


@FUZZ
@given(payload=st.binary(max_size=300))
def test_decode_message_on_arbitrary_payload(payload: bytes) -> None:
    _decode_all([payload])


@FUZZ
@given(
    msg_id=st.sampled_from(KNOWN_IDS),
    version=st.sampled_from(list(Version)),
    attrs_extra=st.integers(min_value=0, max_value=0xFC00).map(lambda v: v & 0xBC00),
    body=st.binary(max_size=200),
)
def test_valid_header_random_body(msg_id: int, version: Version, attrs_extra: int, body: bytes) -> None:
    # Correct length field, random flags (encryption, subpackage) and body: reaches every decoder.
    attrs = len(body) | attrs_extra | (0x4000 if version is Version.V2019 else 0)
    head = msg_id.to_bytes(2, "big") + attrs.to_bytes(2, "big")
    if version is Version.V2019:
        head += b"\x01"
    head += encode_phone("13800138000", version) + b"\x00\x07"
    if attrs & 0x2000:
        head += b"\x00\x02\x00\x01"
    _decode_all([head + body])


@FUZZ
@given(wire=st.binary(max_size=200))
def test_parse_frame_on_arbitrary_wire_bytes(wire: bytes) -> None:
    try:
        parse_frame(wire)
    except ProtocolError:
        pass


@FUZZ
@given(data=st.binary(max_size=200))
def test_escape_round_trip_and_no_flag_inside(data: bytes) -> None:
    wire = escape(data)
    assert 0x7E not in wire
    assert unescape(wire) == data


_times = st.datetimes(
    min_value=datetime(2000, 1, 2),
    max_value=datetime(2099, 12, 30),
    timezones=st.just(UTC),
).map(lambda t: t.replace(microsecond=0))


@FUZZ
@given(
    lat_e6=st.integers(min_value=-90_000_000, max_value=90_000_000),
    lon_e6=st.integers(min_value=-180_000_000, max_value=180_000_000),
    alarm=st.integers(min_value=0, max_value=2**32 - 1),
    status=st.integers(min_value=0, max_value=2**32 - 1),
    altitude=st.integers(min_value=-32768, max_value=32767),
    speed=st.integers(min_value=0, max_value=0xFFFF),
    course=st.integers(min_value=0, max_value=0xFFFF),
    time=_times,
    items=st.lists(st.builds(LocationItem, st.integers(0, 255), st.binary(max_size=20)), max_size=4),
    version=st.sampled_from(list(Version)),
)
def test_location_round_trip(
    lat_e6: int,
    lon_e6: int,
    alarm: int,
    status: int,
    altitude: int,
    speed: int,
    course: int,
    time: datetime,
    items: list[LocationItem],
    version: Version,
) -> None:
    report = LocationReport(
        alarm, status, lat_e6 / 1e6, lon_e6 / 1e6, altitude, speed / 10, course, time, tuple(items)
    )
    decoded = parse_frame(encode_message(report, phone="13800138000", serial=1, version=version)).body
    assert isinstance(decoded, LocationReport)
    assert (decoded.lat, decoded.lon) == (report.lat, report.lon)
    assert decoded.speed_kmh == report.speed_kmh
    assert (decoded.alarm, decoded.altitude_m, decoded.course_deg, decoded.time) == (alarm, altitude, course, time)
    assert decoded.items == report.items
    # S/W bits follow the signs; every other status bit survives.
    assert decoded.status & ~0b1100 == status & ~0b1100


def _items_by_the_rule(items: list[LocationItem], battery_id: int | None) -> tuple[dict[str, object], dict[str, str]]:
    """The rule for additional items, read plainly: the first item of a standard id with its
    standard length is decoded; the battery's id and decoded ids are not kept raw; everything
    else is raw hex, a repeated id keeping its last value."""
    first: dict[int, bytes] = {}
    for it in items:
        first.setdefault(it.id, it.value)
    typed: dict[str, object] = {}
    decoded = set()
    for item_id, key, size, scale in ((0x01, "mileage_km", 4, 10), (0x30, "signal_strength", 1, 0),
                                      (0x31, "satellites", 1, 0)):
        value = first.get(item_id)
        if value is not None and len(value) == size:
            number = int.from_bytes(value, "big")
            typed[key] = number / scale if scale else number
            decoded.add(item_id)
    if battery_id is not None:
        decoded.add(battery_id)
    return typed, {f"{it.id:#04x}": it.value.hex() for it in items if it.id not in decoded}


@FUZZ
@given(items=st.lists(st.builds(LocationItem, st.sampled_from([0x01, 0x30, 0x31, 0x25, 0xE1]),
                                st.binary(max_size=5)), max_size=7),
       battery=st.booleans())
def test_additional_items_follow_the_rule(items: list[LocationItem], battery: bool) -> None:
    profile = DeviceProfile(name="fuzz", battery_item_id=0xE1 if battery else None)
    report = LocationReport.build(lat=36.8, lon=118.3, time=datetime(2024, 5, 1, tzinfo=UTC), extra_items=items)
    fix = location_to_fix(report, device_ident="1", profile=profile)
    battery_id = 0xE1 if fix.battery_pct is not None else None
    typed, raw = _items_by_the_rule(items, battery_id)
    assert {k: fix.extras[k] for k in ("mileage_km", "signal_strength", "satellites") if k in fix.extras} == typed
    assert fix.extras.get("items", {}) == raw
