"""JT/T 808 (2013 and 2019): framing, codec, device profiles and a test/simulator client.

The gateway lives in :mod:`zhijiao.ingestion.server`; this package does no I/O except
:mod:`.client`, which is for tests and the simulator.
"""

from zhijiao.ingestion.protocols import ProtocolError, Reason
from zhijiao.ingestion.protocols.jt808.codec import (
    BatchKind,
    GeneralResponse,
    GeneralResult,
    Header,
    Heartbeat,
    Jt808Message,
    LocationBatch,
    LocationItem,
    LocationReport,
    RegisterResponse,
    RegisterResult,
    TerminalAuth,
    TerminalRegister,
    Version,
    decode_message,
    encode_message,
    location_to_fix,
    message_fixes,
    normalise_phone,
    parse_frame,
)
from zhijiao.ingestion.protocols.jt808.frame import FrameDecoder, FrameStats
from zhijiao.ingestion.protocols.jt808.profiles import DEFAULT_BRACELET, DeviceProfile, alarm_types, get_profile

__all__ = [
    "DEFAULT_BRACELET",
    "BatchKind",
    "DeviceProfile",
    "FrameDecoder",
    "FrameStats",
    "GeneralResponse",
    "GeneralResult",
    "Header",
    "Heartbeat",
    "Jt808Message",
    "LocationBatch",
    "LocationItem",
    "LocationReport",
    "ProtocolError",
    "Reason",
    "RegisterResponse",
    "RegisterResult",
    "TerminalAuth",
    "TerminalRegister",
    "Version",
    "alarm_types",
    "decode_message",
    "encode_message",
    "get_profile",
    "location_to_fix",
    "message_fixes",
    "normalise_phone",
    "parse_frame",
]
