"""AckEncoder: the gateway's fast 0x8001 must be byte-for-byte the codec's."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from zhijiao.ingestion.protocols.jt808.codec import (
    AckEncoder,
    Header,
    GeneralResponse,
    Version,
    encode_message,
    parse_frame,
)


@given(
    phone=st.from_regex(r"[1-9][0-9]{0,11}", fullmatch=True),
    version=st.sampled_from(list(Version)),
    protocol_version=st.integers(0, 255),
    serial=st.integers(0, 0x1FFFF),
    answered_serial=st.integers(0, 0xFFFF),
    msg_id=st.sampled_from([0x0200, 0x0704, 0x0002, 0x7E7D, 0x0102]),
    result=st.integers(0, 4),
)
def test_same_bytes_as_encode_message(phone, version, protocol_version, serial, answered_serial, msg_id, result):
    digits = phone.rjust(12 if version is Version.V2013 else 20, "0")
    answered = Header(msg_id=msg_id, phone=digits, serial=answered_serial, version=version,
                      protocol_version=protocol_version if version is Version.V2019 else 0)
    fast = AckEncoder().encode(answered, serial, result)
    slow = encode_message(GeneralResponse.platform(answered_serial, msg_id, result), phone=digits,
                          serial=serial & 0xFFFF, version=version, protocol_version=answered.protocol_version or 1)
    assert fast == slow
    assert parse_frame(fast).body == GeneralResponse.platform(answered_serial, msg_id, result)


def test_prefix_is_reused_per_terminal():
    enc = AckEncoder()
    h = Header(msg_id=0x0200, phone="013800138000", serial=7)
    first, second = enc.encode(h, 1, 0), enc.encode(h, 2, 0)
    assert first != second and len(enc._heads) == 1
