"""The client address behind trusted proxies (ZHIJIAO_TRUSTED_PROXIES) and the password policy's lists."""

from __future__ import annotations

import pytest

from zhijiao.core.errors import InvalidInput
from zhijiao.security import passwords
from zhijiao.security.addresses import client_address, parse_networks

TRUSTED = "10.9.0.0/16, 127.0.0.1, fd00::/8"


@pytest.mark.parametrize("peer, xff, expected", [
    ("192.0.2.1", "198.51.100.7", "192.0.2.1"),  # not from a proxy: the header is ignored
    ("10.9.0.5", None, "10.9.0.5"),
    ("10.9.0.5", "198.51.100.7", "198.51.100.7"),
    ("10.9.0.5", "1.2.3.4, 198.51.100.7", "198.51.100.7"),  # a forged left part changes nothing
    ("10.9.0.5", "198.51.100.7, 10.9.3.3", "198.51.100.7"),  # two trusted hops
    ("127.0.0.1", "198.51.100.7:5555", "198.51.100.7"),
    ("10.9.0.5", "[2001:db8::1]:443", "2001:db8::1"),
    ("10.9.0.5", "garbage", "10.9.0.5"),
    ("10.9.0.5", "10.9.0.7", "10.9.0.7"),  # only proxies: the leftmost
    ("testclient", "198.51.100.7", "testclient"),
])
def test_client_address(peer, xff, expected):
    assert client_address(peer, xff, TRUSTED) == expected


def test_no_trusted_proxies_means_the_peer():
    assert client_address("127.0.0.1", "198.51.100.7", "") == "127.0.0.1"


def test_a_bad_setting_is_refused_in_chinese():
    with pytest.raises(ValueError, match="ZHIJIAO_TRUSTED_PROXIES"):
        parse_networks("10.0.0.0/8, not-an-address")


@pytest.mark.parametrize("pw", ["Abcdefg1", "Password1", "P@ssw0rd!", "Qwerty123!", "Zxcvbnm1!", "Aaaaaaa1",
                                "1qaz2WSX", "Woaini1314!", "Admin@123", "12345678Aa"])
def test_common_passwords(pw):
    with pytest.raises(InvalidInput) as exc:
        passwords.check_policy(pw)
    assert exc.value.code in ("common_password", "weak_password")


@pytest.mark.parametrize("pw", ["Zhijiao@2026", "Phone@2026", "Phone#2026", "Strong#Pass1", "Tiaoxiu#Qi7"])
def test_ordinary_passwords_pass(pw):
    passwords.check_policy(pw)


def test_personal_data():
    who = passwords.personal(username="lisi01", name="李思远", numbers=["370305199001011234", "139-1234-5678"])
    for pw in ("Lisi01#abc", "Lisiyuan#9", "Siyuan#2026", "Ab#900101x", "Zz@91234567"):
        with pytest.raises(InvalidInput) as exc:
            passwords.check_policy(pw, who=who)
        assert exc.value.code == "password_personal", pw
    passwords.check_policy("Qiyuan#2026", who=who)  # five digits of the ID are no run
