"""Password hashing (argon2id) and the password policy (GB/T 22239 身份鉴别)."""

from __future__ import annotations

import re

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


def check_policy(password: str, previous_hashes: list[str] | None = None) -> None:
    """At least 8 characters from three of four classes, and not one of the last five."""
    if len(password) < MIN_LENGTH or sum(bool(re.search(c, password)) for c in _CLASSES) < 3:
        raise InvalidInput(
            "密码至少 8 位，且须包含大写字母、小写字母、数字、特殊字符中的三类",
            code="weak_password",
            fields={"password": "密码强度不足"},
        )
    for old in (previous_hashes or [])[-HISTORY:]:
        if verify_password(old, password):
            raise InvalidInput(
                "新密码不能与最近 5 次使用过的密码相同", code="password_reused", fields={"password": "与历史密码重复"}
            )
