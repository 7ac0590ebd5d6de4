"""The phone password generator and the office page's photo format check (no database)."""

from __future__ import annotations

import pytest

from zhijiao.checkins.enrolment import service
from zhijiao.core.errors import InvalidInput, TooLarge
from zhijiao.security import passwords


def test_generated_passwords_meet_the_policy_and_avoid_look_alikes() -> None:
    seen = {service.generate_password() for _ in range(200)}
    assert len(seen) == 200
    for p in seen:
        passwords.check_policy(p)
        assert len(p) == 10 and not set(p) & set("0O1lI")


def test_photo_format() -> None:
    assert service.photo_format(b"\xff\xd8\xff\xe0rest") == "JPEG"
    assert service.photo_format(b"\x89PNG\r\n\x1a\nrest") == "PNG"
    with pytest.raises(InvalidInput, match="JPEG 或 PNG"):
        service.photo_format(b"GIF89a....")
    with pytest.raises(TooLarge, match="5 MB"):
        service.photo_format(b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024))
