"""Per-model device profiles: what the alarm bits and vendor extension items of a model mean.

JT/T 808 fixes the *layout* of the 32-bit alarm word of 0x0200 but bracelet makers reuse bits
(bit 15 is reserved in 2013 and becomes "tamper" on most bracelets) and put battery level in a
vendor additional-information item whose id differs by maker. A profile captures that, so the
codec stays generic and a new model is one entry here or in settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class DeviceProfile:
    name: str
    # bit number (0..31) → alarm type string used by the rules stage
    alarm_bits: Mapping[int, str] = field(default_factory=dict)
    # additional-information item id (0x00..0xFF) carrying battery percent; None: not reported
    battery_item_id: int | None = None
    # accuracy to put on GNSS fixes; None lets Fix fall back to the per-source default
    accuracy_m: float | None = None
    # A fix from fewer satellites (item 0x31) than a 3-D fix needs is a 2-D guess that can be off
    # by a hundred metres and more (indoors, in a street canyon): it gets at least this accuracy
    # radius, so the rules count it as evidence only that far past a line. JT/T 808 reports no
    # precision of its own; the satellite count is all a bracelet tells.
    min_satellites: int = 4
    weak_fix_accuracy_m: float = 100.0

    def __post_init__(self) -> None:
        if any(not 0 <= bit <= 31 for bit in self.alarm_bits):
            raise ValueError(f"profile {self.name}: alarm bits must be 0..31")
        if self.battery_item_id is not None and not 0 <= self.battery_item_id <= 0xFF:
            raise ValueError(f"profile {self.name}: battery item id must be one byte")
        if not 0 <= self.min_satellites <= 0xFF or not self.weak_fix_accuracy_m > 0:
            raise ValueError(f"profile {self.name}: min_satellites must be one byte, weak_fix_accuracy_m positive")
        # Freeze the mapping so a shared profile cannot be changed by one caller.
        object.__setattr__(self, "alarm_bits", MappingProxyType(dict(self.alarm_bits)))


# Bits 0, 7 and 8 are the JT/T 808 meanings (紧急报警, 主电源欠压, 主电源掉电) read for a bracelet;
# bit 15 is reserved in the standard and used by bracelets for 防拆/断带.
DEFAULT_BRACELET = DeviceProfile(
    name="default_bracelet",
    alarm_bits={0: "sos", 7: "low_battery", 8: "power_off", 15: "tamper"},
    battery_item_id=None,
)

_REGISTRY: dict[str, DeviceProfile] = {DEFAULT_BRACELET.name: DEFAULT_BRACELET}


def alarm_types(bits: int, profile: DeviceProfile) -> set[str]:
    """Alarm type strings for the set bits of a 0x0200 alarm word; unknown bits are ignored."""
    return {name for bit, name in profile.alarm_bits.items() if bits >> bit & 1}


def alarm_bits_for(types: object, profile: DeviceProfile) -> int:
    """The alarm word that :func:`alarm_types` reads back as ``types`` (unknown types add nothing).

    Inputs that report alarms by name (MQTT, HTTP) store them this way, so that a fix read back
    from the database (late-data replay) still carries them.
    """
    wanted = set(types) if types else set()
    return sum(1 << bit for bit, name in profile.alarm_bits.items() if name in wanted)


def register_profile(profile: DeviceProfile) -> None:
    """Add or replace a profile (called at start-up from settings)."""
    _REGISTRY[profile.name] = profile


def get_profile(name: str) -> DeviceProfile:
    """Profile by name; raises ``KeyError`` for a name that was never registered."""
    return _REGISTRY[name]


def profile_names() -> list[str]:
    return sorted(_REGISTRY)
