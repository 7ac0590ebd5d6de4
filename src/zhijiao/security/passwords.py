"""Password hashing (argon2id) and the password policy (GB/T 22239 身份鉴别)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from zhijiao.core.errors import InvalidInput

_hasher = PasswordHasher()
# Compared against when the username is unknown, so both cases cost the same time.
_DUMMY_HASH = _hasher.hash("zhijiao-dummy-password")

MIN_LENGTH = 8
HISTORY = 5
_CLASSES = (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# Runs that people type instead of a password: the alphabet, keyboard rows, digit runs.
_RUNS = ("abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890", "0987654321",
         "zyxwvutsrqponmlkjihgfedcba", "poiuytrewq", "lkjhgfdsa", "mnbvcxz", "1qaz2wsx3edc4rfv", "qazwsxedc")
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "l", "3": "e", "$": "s", "5": "s", "7": "t", "!": "i"})
MIN_PERSONAL_DIGITS = 6  # a run of this many digits from the user's ID number or phone is refused


@functools.lru_cache(maxsize=1)
def blocklist() -> frozenset[str]:
    """The shipped list of common and dictionary passwords (security/data/common_passwords.txt)."""
    text = resources.files("zhijiao.security").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _bases(password: str) -> set[str]:
    """The password and what remains of it without the digits and symbols at its ends, l33t undone."""
    lower = password.lower()
    out = {lower, lower.translate(_LEET)}
    for value in list(out):
        stripped = re.sub(r"^[^a-z]+|[^a-z]+$", "", value)
        out.add(stripped)
    out |= {re.sub(r"^[^a-z]+|[^a-z]+$", "", lower).translate(_LEET)}
    return {b for b in out if b}


def _is_pattern(base: str) -> bool:
    if len(base) >= 4 and len(set(base)) == 1:  # aaaa, 1111
        return True
    return len(base) >= 5 and any(base in run for run in _RUNS)


def is_common(password: str) -> bool:
    """A listed common password, or one of them (or a keyboard/alphabet run) with digits or symbols added."""
    words = blocklist()
    if any(b in words or _is_pattern(b) for b in _bases(password)):
        return True
    # a common digit string with a few letters added (12345678Aa, Aa123456)
    rest = re.sub(r"[^0-9]", "", password)
    return len(rest) >= len(password) - 3 and (rest in words or _is_pattern(rest))


@dataclass
class Personal:
    """What a password must not hold: the username, the name (and its pinyin), ID and phone digits."""

    words: list[str] = field(default_factory=list)  # compared case-insensitively as substrings
    digits: list[str] = field(default_factory=list)  # ID number, phone: no run of 6 of their digits


def personal(*, username: str | None = None, name: str | None = None,
             numbers: Iterable[str | None] = ()) -> Personal:
    words: list[str] = []
    if username and len(username) >= 3:
        words.append(username.lower())
    if name:
        words.append(name.lower())
        syllables = _pinyin(name)
        if syllables:
            full = "".join(syllables)
            words.append(full)  # zhangjianguo
            if len(syllables) > 1:
                words.append("".join(syllables[1:]))  # jianguo
                words.append("".join(syllables[1:]) + syllables[0])  # jianguozhang
    words = [w for w in dict.fromkeys(words) if len(w) >= 4 or not w.isascii()]
    digits = [re.sub(r"\D", "", n) for n in numbers if n]
    return Personal(words=words, digits=[d for d in digits if len(d) >= MIN_PERSONAL_DIGITS])


def _pinyin(name: str) -> list[str]:
    if not any("\u4e00" <= ch <= "\u9fff" for ch in name):
        return []
    from pypinyin import lazy_pinyin

    return [s for s in lazy_pinyin(name) if s.isascii() and s.isalpha()]


def _holds_personal(password: str, who: Personal) -> bool:
    lower = password.lower()
    if any(w in lower or w in lower.translate(_LEET) for w in who.words):
        return True
    for run in re.findall(r"\d{%d,}" % MIN_PERSONAL_DIGITS, password):
        for i in range(len(run) - MIN_PERSONAL_DIGITS + 1):
            if any(run[i:i + MIN_PERSONAL_DIGITS] in d for d in who.digits):
                return True
    return False


def check_policy(password: str, previous_hashes: list[str] | None = None, *, who: Personal | None = None) -> None:
    """At least 8 characters from three of four classes; not a common password; not holding the
    user's own name, username or ID/phone digits; not one of the last five."""
    if len(password) < MIN_LENGTH or sum(bool(re.search(c, password)) for c in _CLASSES) < 3:
        raise InvalidInput(
            "密码至少 8 位，且须包含大写字母、小写字母、数字、特殊字符中的三类",
            code="weak_password",
            fields={"password": "密码强度不足"},
        )
    if is_common(password):
        raise InvalidInput(
            "该密码过于常见或有规律（如常用密码、连续字母或键盘序列），请换一个", code="common_password",
            fields={"password": "密码过于常见"},
        )
    if who is not None and _holds_personal(password, who):
        raise InvalidInput(
            "密码不能包含用户名、姓名（含拼音）或身份证号码、手机号码中连续 6 位数字", code="password_personal",
            fields={"password": "含有个人信息"},
        )
    for old in (previous_hashes or [])[-HISTORY:]:
        if verify_password(old, password):
            raise InvalidInput(
                "新密码不能与最近 5 次使用过的密码相同", code="password_reused", fields={"password": "与历史密码重复"}
            )
