"""Factories that build consistent test data through the real models."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pyotp

from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.org.models import Bureau, Office, Staff
from zhijiao.security import passwords
from zhijiao.security.actor import Actor
from zhijiao.security.crypto import get_keyring
from zhijiao.subjects import idcard
from zhijiao.subjects.models import Subject

PASSWORD = "Zhijiao@2026"
_HASH = passwords.hash_password(PASSWORD)
_seq = itertools.count(1)
TOTP_SECRETS: dict[str, str] = {}  # username -> base32 secret, for logging in
_TOKENS: dict[tuple[int, str], dict[str, str]] = {}

SYSTEM = Actor.system("tests")


def _system(db: Session) -> Session:
    db.info["actor"] = SYSTEM
    return db


def bureau(db: Session) -> Bureau:
    _system(db)
    b = db.query(Bureau).filter_by(code="370305").one_or_none()
    if b is None:
        b = Bureau(code="370305", name="淄博市临淄区司法局", short_name="临淄区司法局")
        db.add(b)
        db.commit()
    return b


def office(db: Session, name: str | None = None, code: str | None = None) -> Office:
    b = bureau(db)
    n = next(_seq)
    o = Office(bureau_id=b.id, code=code or f"T{n:04d}", name=name or f"测试{n}司法所", area_name=f"测试{n}街道")
    db.add(o)
    db.commit()
    return o


def staff(db: Session, role: str, office_: Office | None = None, username: str | None = None, **kw) -> Staff:
    b = bureau(db)
    n = next(_seq)
    username = username or f"{role}{n}"
    # Every staff account has a second factor, as production requires (GB/T 22239 双因素).
    secret = kw.pop("totp_secret", totp_secret(username))
    s = Staff(
        username=username, display_name=kw.pop("display_name", f"测试人员{n}"), role=role,
        office_id=office_.id if office_ else None, bureau_id=b.id, password_hash=_HASH,
        password_changed_at=kw.pop("password_changed_at", clock.now()), password_history=[], active=True,
        totp_secret=secret, **kw,
    )
    if secret:
        TOTP_SECRETS[username] = secret
    db.add(s)
    db.commit()
    return s


def totp_secret(username: str) -> str:
    """Derived from the username, so any copy of this module (NiceGUI's tests re-import
    modules) computes the same codes."""
    import base64
    import hashlib

    return base64.b32encode(hashlib.sha256(b"zhijiao-test:" + username.encode()).digest()[:20]).decode()


def otp(username: str) -> str:
    return pyotp.TOTP(TOTP_SECRETS.get(username) or totp_secret(username)).at(clock.now())


def id_number(birth: date = date(1985, 6, 15), gender: str = "male", area: str = "370305") -> str:
    return idcard.generate_id_number(area, birth, gender, next(_seq) % 500)


def subject_payload(**overrides) -> dict:
    gender = overrides.pop("gender", "male")
    payload = {
        "name": "张三丰",
        "gender": gender,
        "id_number": id_number(gender=gender),
        "phone": "13800138000",
        "residence_address": "山东省淄博市临淄区闻韶街道齐园路 1 号",
        "correction_type": "probation",
        "crime": "危险驾驶罪",
        "sentence": "拘役三个月，缓刑六个月",
        "deciding_organ": "淄博市临淄区人民法院",
        "judgment_effective_date": (clock.today_local() - timedelta(days=3)).isoformat(),
    }
    payload.update(overrides)
    return payload


def subject(db: Session, office_: Office, **kw) -> Subject:
    _system(db)
    gender = kw.pop("gender", "male")
    number = kw.pop("id_number", None) or id_number(gender=gender)
    info = idcard.parse_id_number(number)
    ring = get_keyring()
    today = clock.today_local()
    s = Subject(
        office_id=office_.id, name=kw.pop("name", "李四"), gender=gender, birth_date=info.birth_date,
        id_number=info.number, id_number_index=ring.blind_index(info.number),
        id_number_masked=idcard.mask_id_number(info.number), phone=kw.pop("phone", "13912345678"),
        phone_masked="139****5678", correction_type=kw.pop("correction_type", "probation"),
        crime=kw.pop("crime", "盗窃罪"), sentence=kw.pop("sentence", "有期徒刑一年，缓刑二年"),
        deciding_organ=kw.pop("deciding_organ", "淄博市临淄区人民法院"),
        judgment_effective_date=kw.pop("judgment_effective_date", today - timedelta(days=2)),
        status=kw.pop("status", "pending_reception"), **kw,
    )
    db.add(s)
    db.commit()
    return s


def login(client, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Bearer headers for a staff member; one login per user and client, since a TOTP code
    cannot be used twice (a second login in the same 30 s would be refused as a replay)."""
    key = (id(client), username)
    if key not in _TOKENS:
        data = {"username": username, "password": password}
        if username in TOTP_SECRETS:
            data["otp"] = otp(username)
        r = client.post("/api/v1/auth/token", data=data)
        assert r.status_code == 200, r.text
        _TOKENS[key] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    return _TOKENS[key]
