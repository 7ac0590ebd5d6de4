"""JT/T 808 codec: hand-built hex frames in, expected fields out; round trips; error reasons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from zhijiao.core.fix import FixSource
from zhijiao.ingestion.protocols import ProtocolError, Reason
from zhijiao.ingestion.protocols.jt808.codec import (
    PLATFORM_GENERAL_RESPONSE,
    TERMINAL_GENERAL_RESPONSE,
    BatchKind,
    Fragment,
    GeneralResponse,
    Heartbeat,
    LocationBatch,
    LocationItem,
    LocationReport,
    RawBody,
    RegisterResponse,
    TerminalAuth,
    TerminalRegister,
    Version,
    decode_message,
    encode_message,
    encode_payload,
    location_to_fix,
    message_fixes,
    normalise_phone,
    parse_frame,
)
from zhijiao.ingestion.protocols.jt808.frame import encode_frame
from zhijiao.ingestion.protocols.jt808.profiles import DEFAULT_BRACELET, DeviceProfile

# 0x0200, 2013 header, written field by field from JT/T 808-2013 §8.18. The serial 0x007d is
# escaped on the wire as 7d 01; the check code 0x76 was computed by hand (XOR of the payload).
LOCATION_2013 = bytes.fromhex(
    "7e"
    "0200"  # message id
    "002b"  # body attributes: 2013, not subpackaged, not encrypted, body length 43
    "013800138000"  # phone BCD[6]
    "007d01"  # serial 0x007d, escaped
    "00008001"  # alarm: bit 0 (emergency) and bit 15
    "00000002"  # status: positioned, north, east
    "0231f114"  # latitude 36.827412
    "070d42ba"  # longitude 118.309562
    "0032"  # altitude 50 m
    "0064"  # speed 100 → 10.0 km/h
    "005a"  # course 90
    "240501100304"  # 2024-05-01 10:03:04 GMT+8
    "0104" "00000bb8"  # item 0x01 mileage 3000 → 300.0 km
    "3001" "1f"  # item 0x30 signal strength 31
    "3101" "09"  # item 0x31 satellites 9
    "e101" "55"  # vendor item 0xe1 = 0x55
    "76"  # check code
    "7e"
)

# 0x0100, 2019 header (version flag, protocol version 1, BCD[10] phone), §8.8 of the 2019 edition.
REGISTER_2019 = bytes.fromhex(
    "7e"
    "0100"
    "405d"  # bit 14 (2019) + body length 93
    "01"  # protocol version
    "00000000013912345678"  # phone BCD[10]
    "0001"  # serial
    "0025"  # province 37 (Shandong)
    "0131"  # city/county 0305 (Linzi)
    "5a4a425243000000000000"  # maker id BYTE[11] "ZJBRC"
    "57422d313030000000000000000000000000000000000000000000000000"  # model BYTE[30] "WB-100"
    "543030303100000000000000000000000000000000000000000000000000"  # terminal id BYTE[30] "T0001"
    "00"  # plate colour 0: the next field is the VIN
    "4c53564155323138304e32313833323934"  # "LSVAU2180N2183294"
    "09"  # check code
    "7e"
)

T0 = datetime(2024, 5, 1, 2, 3, 4, tzinfo=UTC)


def test_location_2013_fixture_field_by_field() -> None:
    msg = parse_frame(LOCATION_2013)
    h = msg.header
    assert (h.msg_id, h.phone, h.serial, h.version, h.package) == (0x0200, "013800138000", 0x7D, Version.V2013, None)
    body = msg.body
    assert isinstance(body, LocationReport)
    assert body.alarm == 0x8001
    assert body.positioned
    assert (body.lat, body.lon) == (36.827412, 118.309562)
    assert (body.altitude_m, body.speed_kmh, body.course_deg) == (50, 10.0, 90)
    assert body.time == T0  # 10:03:04 in Beijing is 02:03:04 UTC
    assert (body.mileage_km, body.signal_strength, body.satellites) == (300.0, 31, 9)
    assert body.item(0xE1) == b"\x55"
    assert not body.items_truncated


def test_location_2013_fixture_to_fix() -> None:
    received = datetime(2024, 5, 1, 2, 3, 10, tzinfo=UTC)
    [fix] = message_fixes(parse_frame(LOCATION_2013), received_at=received)
    assert fix.device_ident == "13800138000"
    assert fix.fix_time == T0 and fix.fix_time.tzinfo is not None
    assert fix.source is FixSource.gnss
    assert fix.accuracy_m is None and fix.effective_accuracy_m == 10.0
    assert (fix.speed_kmh, fix.course_deg, fix.altitude_m) == (10.0, 90.0, 50.0)
    assert fix.alarm_bits == 0x8001
    assert fix.battery_pct is None
    assert not fix.backfill
    assert fix.received_at == received
    assert fix.extras["alarm_types"] == ["sos", "tamper"]
    assert fix.extras["positioned"] is True
    assert fix.extras["items"] == {"0xe1": "55"}
    assert (fix.extras["mileage_km"], fix.extras["signal_strength"], fix.extras["satellites"]) == (300.0, 31, 9)


def test_battery_item_comes_from_profile() -> None:
    profile = DeviceProfile("maker_x", {0: "sos"}, battery_item_id=0xE1, accuracy_m=5.0)
    [fix] = message_fixes(parse_frame(LOCATION_2013), profile=profile)
    assert fix.battery_pct == 0x55
    assert fix.accuracy_m == 5.0
    assert "items" not in fix.extras
    assert fix.extras["alarm_types"] == ["sos"]


def test_register_2019_fixture() -> None:
    msg = parse_frame(REGISTER_2019)
    h = msg.header
    assert (h.version, h.protocol_version, h.phone, h.serial) == (Version.V2019, 1, "00000000013912345678", 1)
    assert h.device_ident == "13912345678"
    assert msg.body == TerminalRegister(
        province_id=37,
        city_id=305,
        maker_id="ZJBRC",
        model="WB-100",
        terminal_id="T0001",
        plate_colour=0,
        plate="LSVAU2180N2183294",
    )


def test_same_terminal_same_ident_in_both_editions() -> None:
    a = parse_frame(encode_message(Heartbeat(), phone="13800138000", serial=1))
    b = parse_frame(encode_message(Heartbeat(), phone="13800138000", serial=1, version=Version.V2019))
    assert a.header.phone == "013800138000"
    assert b.header.phone == "00000000013800138000"
    assert a.device_ident == b.device_ident == "13800138000"


@pytest.mark.parametrize(
    ("digits", "ident"),
    [("013800138000", "13800138000"), ("00000000013800138000", "13800138000"), ("000000000000", "0"), ("7", "7")],
)
def test_normalise_phone(digits: str, ident: str) -> None:
    assert normalise_phone(digits) == ident


@pytest.mark.parametrize("bad", ["", "1380013800a", "１２３", " 123"])
def test_normalise_phone_rejects_non_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        normalise_phone(bad)


def test_south_west_bits_give_negative_coordinates() -> None:
    report = LocationReport.build(lat=-33.868, lon=-70.6, time=T0)
    wire = encode_message(report, phone="1", serial=1)
    body = parse_frame(wire).body
    assert isinstance(body, LocationReport)
    assert (body.lat, body.lon) == (-33.868, -70.6)
    assert body.status & 0b1100 == 0b1100


def test_unpositioned_report_is_marked() -> None:
    report = LocationReport.build(lat=0.0, lon=0.0, time=T0, positioned=False)
    [fix] = message_fixes(parse_frame(encode_message(report, phone="1", serial=1)))
    assert fix.extras["positioned"] is False


def _sample_bodies() -> list[object]:
    report = LocationReport.build(
        lat=36.81,
        lon=118.3,
        time=T0,
        alarm=1 << 7,
        altitude_m=-12,
        speed_kmh=5.4,
        course_deg=359,
        mileage_km=12.3,
        signal_strength=20,
        satellites=11,
        extra_items=[LocationItem(0xEB, b"\x01\x02")],
    )
    return [
        GeneralResponse.terminal(7, 0x8300, 0),
        GeneralResponse.platform(9, 0x0200, 4),
        Heartbeat(),
        TerminalRegister(37, 305, "ZJB", "WB-1", "T1", 1, "鲁C12345"),
        RegisterResponse(3, 0, "auth-ABC"),
        RegisterResponse(3, 4, None),
        TerminalAuth("auth-ABC"),
        report,
        LocationBatch(BatchKind.backfill, (report, report)),
        LocationBatch(BatchKind.normal, ()),
    ]


# 0x8001 and 0x0001, 2013 header, field by field (JT/T 808-2013 §8.1, §8.2); one body shape,
# the message id tells the direction. Check codes by hand (XOR of the payload).
PLATFORM_RESPONSE_2013 = bytes.fromhex(
    "7e"
    "8001"  # message id: 平台通用应答
    "0005"  # body attributes: 2013, body length 5
    "013800138000"  # phone BCD[6]
    "0001"  # serial
    "0009"  # answered serial
    "0200"  # answered message id
    "00"  # result: ok
    "24"  # check code
    "7e"
)
TERMINAL_RESPONSE_2013 = bytes.fromhex(
    "7e"
    "0001"  # message id: 终端通用应答
    "0005"
    "013800138000"
    "0002"  # serial
    "0007"  # answered serial
    "8300"  # answered message id (a platform command)
    "00"
    "28"
    "7e"
)


@pytest.mark.parametrize(("wire", "msg_id", "expected"), [
    (PLATFORM_RESPONSE_2013, PLATFORM_GENERAL_RESPONSE, GeneralResponse.platform(9, 0x0200, 0)),
    (TERMINAL_RESPONSE_2013, TERMINAL_GENERAL_RESPONSE, GeneralResponse.terminal(7, 0x8300, 0)),
], ids=["platform", "terminal"])
def test_general_responses_either_way(wire: bytes, msg_id: int, expected: GeneralResponse) -> None:
    msg = parse_frame(wire)
    assert msg.header.msg_id == msg_id and msg.body == expected
    assert msg.body.from_platform is (msg_id == PLATFORM_GENERAL_RESPONSE)
    assert encode_message(expected, phone="13800138000", serial=msg.header.serial) == wire


@pytest.mark.parametrize("version", list(Version))
@pytest.mark.parametrize("body", _sample_bodies(), ids=lambda b: type(b).__name__)
def test_round_trip(body: object, version: Version) -> None:
    wire = encode_message(body, phone="13800138000", serial=0xFFFF, version=version)  # type: ignore[arg-type]
    msg = parse_frame(wire)
    assert msg.header.version is version
    assert msg.header.serial == 0xFFFF
    assert msg.body == body


def test_auth_2019_carries_imei_and_software_version() -> None:
    auth = TerminalAuth("code-1", imei="861234567890123", software_version="V1.2.3")
    body2019 = auth.encode(Version.V2019)
    assert body2019[0] == 6 and len(body2019) == 1 + 6 + 15 + 20
    assert TerminalAuth.decode(body2019, Version.V2019) == auth
    # 2013 has only the code: the same message loses IMEI and version on the wire.
    assert TerminalAuth.decode(auth.encode(Version.V2013), Version.V2013) == TerminalAuth("code-1")


def test_register_field_sizes_differ_by_edition() -> None:
    reg = TerminalRegister(37, 305, "M", "X", "T", 1, "P")
    assert len(reg.encode(Version.V2013)) == 4 + 5 + 20 + 7 + 1 + 1
    assert len(reg.encode(Version.V2019)) == 4 + 11 + 30 + 30 + 1 + 1
    with pytest.raises(ValueError):
        TerminalRegister(terminal_id="T" * 8).encode(Version.V2013)


def test_batch_backfill_flagged_on_fixes() -> None:
    reports = (LocationReport.build(lat=36.8, lon=118.3, time=T0),) * 3
    wire = encode_message(LocationBatch(BatchKind.backfill, reports), phone="13800138000", serial=2)
    fixes = message_fixes(parse_frame(wire))
    assert len(fixes) == 3 and all(f.backfill for f in fixes)
    normal = encode_message(LocationBatch(BatchKind.normal, reports), phone="13800138000", serial=3)
    assert not any(f.backfill for f in message_fixes(parse_frame(normal)))


def test_batch_skips_a_bad_item_but_keeps_the_rest() -> None:
    good = LocationReport.build(lat=36.8, lon=118.3, time=T0).encode()
    bad = good[:22] + bytes.fromhex("241301000000") + good[28:]  # month 13
    body = b"\x00\x02\x01" + len(good).to_bytes(2, "big") + good + len(bad).to_bytes(2, "big") + bad
    batch = LocationBatch.decode(body)
    assert len(batch.reports) == 1 and batch.rejected == ("bad_time",)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\x00\x01\x01\x00\x05\xff", Reason.truncated),  # item shorter than its length prefix
        (b"\x00\x02\x00", Reason.count_mismatch),  # fewer items than declared
        (b"\x00\x00\x00\x00", Reason.count_mismatch),  # bytes after the declared items
        (b"\x00", Reason.truncated),
    ],
)
def test_batch_structure_errors(body: bytes, reason: Reason) -> None:
    with pytest.raises(ProtocolError) as err:
        LocationBatch.decode(body)
    assert err.value.reason == reason


def _payload(hexstr: str) -> bytes:
    return bytes.fromhex(hexstr.replace(" ", ""))


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (_payload("0002 0001 013800138000 0001"), Reason.length_mismatch),  # says 1, has 0
        (_payload("0002 0000 01380013800a 0001"), Reason.bad_bcd),
        (_payload("0002 4000 01 000000000138001380"), Reason.truncated),  # 2019 header cut short
        (_payload("0002 2000 013800138000 0001 0002 0003"), Reason.bad_header),  # package 3 of 2
        (_payload("0002 0400 013800138000 0001"), Reason.encrypted),
        (_payload("0200 0004 013800138000 0001 00000000"), Reason.truncated),
    ],
)
def test_header_and_body_errors(payload: bytes, reason: Reason) -> None:
    with pytest.raises(ProtocolError) as err:
        decode_message(payload)
    assert err.value.reason == reason


def _location_with(time_hex: str = "240501100304", lat_hex: str = "0231f114", tail: str = "") -> bytes:
    body = _payload("00000000 00000002" + lat_hex + "070d42ba 0032 0064 005a" + time_hex + tail)
    return LocationReport.decode(body)  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"time_hex": "241301100304"}, Reason.bad_time),
        ({"time_hex": "000000000000"}, Reason.bad_time),
        ({"time_hex": "2405011003ff"}, Reason.bad_bcd),
        ({"lat_hex": "05f5e101"}, Reason.bad_coordinate),  # 100.000001°
    ],
)
def test_location_errors(kwargs: dict[str, str], reason: Reason) -> None:
    with pytest.raises(ProtocolError) as err:
        _location_with(**kwargs)
    assert err.value.reason == reason


def test_truncated_item_list_keeps_the_position() -> None:
    report = _location_with(tail="3001 1f 3105 01")
    assert isinstance(report, LocationReport)
    assert report.items_truncated and report.signal_strength == 31
    fix = location_to_fix(report, device_ident="1")
    assert fix.extras["items_truncated"] is True


def test_standard_item_with_wrong_length_stays_raw() -> None:
    report = _location_with(tail="3002 1f1f")
    assert isinstance(report, LocationReport)
    assert report.signal_strength is None
    [fix] = message_fixes(parse_frame(encode_message(report, phone="1", serial=1)))
    assert fix.extras["items"] == {"0x30": "1f1f"}


def test_subpackaged_message_is_a_fragment() -> None:
    wire = encode_message(Fragment(0x0801, 3, 2, b"\x01\x02"), phone="13800138000", serial=9)
    msg = parse_frame(wire)
    assert msg.header.package == (3, 2)
    assert msg.body == Fragment(0x0801, 3, 2, b"\x01\x02")


def test_unknown_message_is_kept_raw() -> None:
    wire = encode_message(RawBody(0x0900, b"\xaa\xbb"), phone="13800138000", serial=9)
    assert parse_frame(wire).body == RawBody(0x0900, b"\xaa\xbb")


def test_register_response_only_carries_code_on_success() -> None:
    assert RegisterResponse(1, 0, "abc").encode() == b"\x00\x01\x00abc"
    assert RegisterResponse(1, 4).encode() == b"\x00\x01\x04"
    with pytest.raises(ValueError):
        RegisterResponse(1, 0, None).encode()


def test_encode_rejects_bodies_that_need_subpackaging() -> None:
    big = LocationReport.build(lat=1, lon=1, time=T0, extra_items=[LocationItem(i, bytes(250)) for i in range(5)])
    with pytest.raises(ValueError):
        encode_payload(big, phone="1", serial=1)


def test_default_profile_is_the_bracelet() -> None:
    assert DEFAULT_BRACELET.alarm_bits == {0: "sos", 7: "low_battery", 8: "power_off", 15: "tamper"}


def test_fixture_frames_are_what_the_encoder_produces() -> None:
    # The hand-built fixture and the encoder agree byte for byte (check code included).
    msg = parse_frame(LOCATION_2013)
    assert encode_message(msg.body, phone="13800138000", serial=0x7D) == LOCATION_2013
    assert encode_frame(encode_payload(msg.body, phone="13800138000", serial=0x7D)) == LOCATION_2013


@pytest.mark.parametrize(
    ("satellites", "profile", "accuracy"),
    [
        (9, DEFAULT_BRACELET, None),  # a 3-D fix: the profile's (here the GNSS default, 10 m)
        (4, DEFAULT_BRACELET, None),
        (3, DEFAULT_BRACELET, 100.0),  # a 2-D guess
        (0, DEFAULT_BRACELET, 100.0),
        (None, DEFAULT_BRACELET, None),  # not reported: nothing to go by
        (3, DeviceProfile("precise", accuracy_m=5.0, weak_fix_accuracy_m=60.0), 60.0),
        (3, DeviceProfile("coarse", accuracy_m=150.0), 150.0),  # never more accurate for being weak
        (5, DeviceProfile("strict", min_satellites=6), 100.0),
    ],
)
def test_a_fix_from_too_few_satellites_gets_a_weak_accuracy(
    satellites: int | None, profile: DeviceProfile, accuracy: float | None
) -> None:
    report = LocationReport.build(lat=36.8, lon=118.3, time=T0, satellites=satellites)
    fix = location_to_fix(report, device_ident="1", profile=profile)
    assert fix.accuracy_m == accuracy
    if satellites is not None:
        assert fix.extras["satellites"] == satellites


def test_profile_rejects_bad_satellite_settings() -> None:
    with pytest.raises(ValueError, match="min_satellites"):
        DeviceProfile("bad", min_satellites=300)
    with pytest.raises(ValueError, match="weak_fix_accuracy_m"):
        DeviceProfile("bad", weak_fix_accuracy_m=0)
