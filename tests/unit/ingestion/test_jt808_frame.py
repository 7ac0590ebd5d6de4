"""JT/T 808 framing: escaping, check code, and the incremental splitter."""

from __future__ import annotations

import pytest

from zhijiao.ingestion.protocols import ProtocolError, Reason
from zhijiao.ingestion.protocols.jt808.frame import (
    FrameDecoder,
    checksum,
    decode_frame,
    encode_frame,
    escape,
    unescape,
)

# A 13-byte payload (minimum 2013 header size) with both special bytes in it.
PAYLOAD = bytes.fromhex("0002 0000 013800138000 7e7d".replace(" ", ""))


@pytest.mark.parametrize(
    ("raw", "wire"),
    [
        (b"\x30\x7e\x08", b"\x30\x7d\x02\x08"),  # the standard's own example (§4.4.1)
        (b"\x30\x7d\x08", b"\x30\x7d\x01\x08"),
        (b"\x7e\x7d", b"\x7d\x02\x7d\x01"),
        (b"\x7d\x02", b"\x7d\x01\x02"),  # an escaped-looking pair must itself be escaped
        (b"\x7d\x7d", b"\x7d\x01\x7d\x01"),
        (b"", b""),
    ],
)
def test_escape_round_trip(raw: bytes, wire: bytes) -> None:
    assert escape(raw) == wire
    assert unescape(wire) == raw


@pytest.mark.parametrize("wire", [b"\x7d", b"\x01\x7d", b"\x7d\x03", b"\x7d\x00", b"\x7d\x7d\x01"])
def test_invalid_escape(wire: bytes) -> None:
    with pytest.raises(ProtocolError) as err:
        unescape(wire)
    assert err.value.reason == Reason.bad_escape


def test_checksum_is_xor() -> None:
    assert checksum(b"") == 0
    assert checksum(b"\x01\x02\x04") == 0x07
    assert checksum(b"\xff\xff") == 0


def test_encode_frame_escapes_payload_and_check_code() -> None:
    wire = encode_frame(PAYLOAD)
    assert wire[0] == wire[-1] == 0x7E
    assert 0x7E not in wire[1:-1]
    assert decode_frame(wire) == PAYLOAD


def test_check_code_that_needs_escaping() -> None:
    # Choose a payload whose XOR is 0x7e so the check code itself is escaped on the wire.
    payload = PAYLOAD[:-1] + bytes((checksum(PAYLOAD[:-1]) ^ 0x7E,))
    assert checksum(payload) == 0x7E
    wire = encode_frame(payload)
    assert wire.endswith(b"\x7d\x02\x7e")
    assert FrameDecoder().feed(wire) == [payload]


def test_decode_frame_rejects_bad_checksum_and_short() -> None:
    wire = bytearray(encode_frame(PAYLOAD))
    wire[3] ^= 0x01
    with pytest.raises(ProtocolError) as err:
        decode_frame(bytes(wire))
    assert err.value.reason == Reason.bad_checksum
    with pytest.raises(ProtocolError) as err:
        decode_frame(b"\x7e\x01\x01\x7e")
    assert err.value.reason == Reason.too_short


def test_sticky_frames_in_one_read() -> None:
    frames = [encode_frame(PAYLOAD[:-1] + bytes((i,))) for i in range(5)]
    decoder = FrameDecoder()
    out = decoder.feed(b"".join(frames))
    assert [p[-1] for p in out] == [0, 1, 2, 3, 4]
    assert decoder.stats.frames == 5


def test_shared_delimiter_between_frames() -> None:
    a, b = encode_frame(PAYLOAD), encode_frame(PAYLOAD[:-1] + b"\x00")
    assert FrameDecoder().feed(a + b[1:]) == [PAYLOAD, PAYLOAD[:-1] + b"\x00"]


def test_frame_split_at_every_position() -> None:
    wire = encode_frame(PAYLOAD)
    for cut in range(1, len(wire)):
        decoder = FrameDecoder()
        assert decoder.feed(wire[:cut]) == []
        assert decoder.feed(wire[cut:]) == [PAYLOAD], cut


def test_frame_fed_byte_by_byte_including_split_escape() -> None:
    decoder = FrameDecoder()
    out: list[bytes] = []
    for byte in encode_frame(PAYLOAD) * 2:
        out += decoder.feed(bytes((byte,)))
    assert out == [PAYLOAD, PAYLOAD]


def test_garbage_before_and_between_frames() -> None:
    wire = encode_frame(PAYLOAD)
    decoder = FrameDecoder()
    out = decoder.feed(b"GET / HTTP/1.1\r\n" + wire + b"\x00\x01noise" + wire)
    assert out == [PAYLOAD, PAYLOAD]
    assert decoder.stats.garbage_bytes == 16
    # The noise between two frames became a candidate that failed its check.
    assert decoder.stats.too_short + decoder.stats.bad_checksum == 1


def test_bad_checksum_dropped_counted_and_decoding_continues() -> None:
    bad = bytearray(encode_frame(PAYLOAD))
    bad[5] ^= 0x40
    decoder = FrameDecoder()
    assert decoder.feed(bytes(bad) + encode_frame(PAYLOAD)) == [PAYLOAD]
    assert decoder.stats.bad_checksum == 1
    assert decoder.stats.frames == 1


def test_invalid_escape_dropped_and_counted() -> None:
    decoder = FrameDecoder()
    bad = b"\x7e" + PAYLOAD[:5] + b"\x7d\x05" + escape(PAYLOAD[5:]) + b"\x7e"
    out = decoder.feed(bad + encode_frame(PAYLOAD))
    assert out == [PAYLOAD]
    assert decoder.stats.bad_escape == 1


def test_oversized_frame_dropped_without_buffering_it() -> None:
    decoder = FrameDecoder(max_frame=64)
    big = encode_frame(bytes(200))
    out = decoder.feed(big[:100])
    assert out == [] and decoder.stats.oversized == 1
    assert decoder.buffered == 0  # discarded as soon as it was known to be too long
    assert decoder.feed(big[100:] + encode_frame(PAYLOAD)) == [PAYLOAD]
    assert decoder.stats.oversized == 1


def test_max_frame_counts_unescaped_bytes() -> None:
    # 40 payload bytes of 0x7e become 80 wire bytes but only 41 unescaped (with the check code).
    payload = b"\x7e" * 40
    assert FrameDecoder(max_frame=41).feed(encode_frame(payload)) == [payload]
    decoder = FrameDecoder(max_frame=40)
    assert decoder.feed(encode_frame(payload)) == []
    assert decoder.stats.oversized == 1


def test_shared_stats_across_decoders() -> None:
    first = FrameDecoder()
    second = FrameDecoder(stats=first.stats)
    first.feed(encode_frame(PAYLOAD))
    second.feed(encode_frame(PAYLOAD))
    assert first.stats.frames == 2
    assert first.stats.as_dict()["frames"] == 2
