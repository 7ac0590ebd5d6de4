"""Device profiles: alarm bits → alarm types."""

from __future__ import annotations

import pytest

from zhijiao.ingestion.protocols.jt808.profiles import (
    DEFAULT_BRACELET,
    DeviceProfile,
    alarm_types,
    get_profile,
    profile_names,
    register_profile,
)


def test_default_bracelet_bits() -> None:
    assert alarm_types(0, DEFAULT_BRACELET) == set()
    assert alarm_types(1, DEFAULT_BRACELET) == {"sos"}
    assert alarm_types(1 << 7 | 1 << 8 | 1 << 15, DEFAULT_BRACELET) == {"low_battery", "power_off", "tamper"}
    assert alarm_types(1 << 1 | 1 << 31, DEFAULT_BRACELET) == set()  # bits without a meaning are ignored


def test_registry() -> None:
    assert get_profile("default_bracelet") is DEFAULT_BRACELET
    custom = DeviceProfile("test_maker", {2: "sos"}, battery_item_id=0xE1)
    register_profile(custom)
    assert get_profile("test_maker").battery_item_id == 0xE1
    assert "test_maker" in profile_names()
    with pytest.raises(KeyError):
        get_profile("nobody")


def test_profile_validation_and_immutability() -> None:
    with pytest.raises(ValueError):
        DeviceProfile("bad", {32: "x"})
    with pytest.raises(ValueError):
        DeviceProfile("bad", battery_item_id=0x100)
    with pytest.raises(TypeError):
        DEFAULT_BRACELET.alarm_bits[3] = "x"  # type: ignore[index]
