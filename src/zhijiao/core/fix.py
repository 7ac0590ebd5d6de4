"""The normalised position report every input (JT/T 808, MQTT, HTTP) turns into."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


class FixSource(enum.StrEnum):
    gnss = "gnss"
    cell = "cell"
    wifi = "wifi"


# Typical accuracy when a device does not report one (shared/domain.md).
DEFAULT_ACCURACY_M = {FixSource.gnss: 10.0, FixSource.cell: 200.0, FixSource.wifi: 500.0}


@dataclass(slots=True)
class Fix:
    device_ident: str  # JT/T 808 terminal phone number, or the MQTT/HTTP device id
    fix_time: datetime  # timezone-aware UTC
    lat: float  # WGS-84
    lon: float  # WGS-84
    source: FixSource = FixSource.gnss
    accuracy_m: float | None = None
    speed_kmh: float | None = None
    course_deg: float | None = None
    altitude_m: float | None = None
    battery_pct: int | None = None
    alarm_bits: int = 0
    backfill: bool = False  # JT/T 808 0x0704 type 1 (补传) or a late MQTT batch
    received_at: datetime | None = None
    device_id: int | None = None  # resolved by the pipeline
    subject_id: int | None = None  # resolved by the pipeline
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def effective_accuracy_m(self) -> float:
        return self.accuracy_m if self.accuracy_m is not None else DEFAULT_ACCURACY_M[self.source]


def from_the_future(fix_time: datetime, now: datetime | None = None) -> bool:
    """Whether a fix is dated beyond ``ZHIJIAO_FUTURE_FIX_TOLERANCE_S`` ahead of the server's clock.

    Every input path refuses such a fix (issue 20 item 9): a wrong terminal clock or a forged
    date must not become the subject's current position.
    """
    from zhijiao.config import get_settings
    from zhijiao.core import clock

    return fix_time > (now or clock.now()) + timedelta(seconds=get_settings().future_fix_tolerance_s)
