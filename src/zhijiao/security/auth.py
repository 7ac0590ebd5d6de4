"""Logins, tokens and sessions for staff (API bearer tokens and browser sessions)."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from zhijiao.config import get_settings
from zhijiao.core import clock
from zhijiao.core.errors import DomainError, Unauthorized
from zhijiao.org.models import Staff
from zhijiao.security import audit, passwords
from zhijiao.security.actor import Actor
from zhijiao.security.models import AuthSession

MAX_FAILURES = 5
LOCK_MINUTES = 30
PER_IP_FAILURES = 20  # per 15 minutes, whatever the username
_IP_WINDOW_S = 15 * 60
_TOUCH_EVERY = timedelta(seconds=30)

_LOGIN_FAILED = "用户名、密码或动态口令错误"


class LoginFailed(DomainError):
    status = 401
    code = "login_failed"
    message = _LOGIN_FAILED


class _IpLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fails: dict[str, deque[float]] = defaultdict(deque)

    def blocked(self, ip: str | None) -> bool:
        if not ip:
            return False
        with self._lock:
            q = self._fails[ip]
            cutoff = time.monotonic() - _IP_WINDOW_S
            while q and q[0] < cutoff:
                q.popleft()
            return len(q) >= PER_IP_FAILURES

    def fail(self, ip: str | None) -> None:
        if ip:
            with self._lock:
                self._fails[ip].append(time.monotonic())

    def reset(self) -> None:
        with self._lock:
            self._fails.clear()


ip_limiter = _IpLimiter()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class LoginResult:
    token: str
    expires_at: datetime
    staff: Staff


def _staff_actor(staff: Staff, *, request_id: str | None = None, client_ip: str | None = None) -> Actor:
    return Actor(
        kind="staff", username=staff.username, staff_id=staff.id, role=staff.role,
        office_id=staff.office_id, request_id=request_id, client_ip=client_ip,
    )


def _check_totp(staff: Staff, otp: str | None) -> bool:
    if not staff.totp_secret:
        return True
    if not otp or not otp.isdigit():
        return False
    totp = pyotp.TOTP(staff.totp_secret)
    now_ts = clock.now().timestamp()
    step = int(now_ts // totp.interval)
    for candidate in (step, step - 1):  # one step of clock drift
        if candidate <= (staff.totp_last_step or -1):
            continue  # a used code cannot be replayed (RFC 6238 §5.2)
        if secrets.compare_digest(totp.generate_otp(candidate), otp):
            staff.totp_last_step = candidate
            return True
    return False


def login(
    db: Session, *, username: str, password: str, otp: str | None = None, kind: str = "api",
    client_ip: str | None = None, request_id: str | None = None,
) -> LoginResult:
    """Check credentials and open a session. Unknown and known users fail alike."""
    now = clock.now()
    staff = db.execute(select(Staff).where(Staff.username == username)).scalar_one_or_none()
    password_ok = passwords.verify_password(staff.password_hash if staff else None, password)
    db.info["actor"] = Actor(kind="anonymous", username=username[:64], client_ip=client_ip, request_id=request_id)
    if ip_limiter.blocked(client_ip):
        audit.record(db, object_type="login", object_id=username[:64], action="login_blocked_ip")
        db.commit()
        raise LoginFailed("登录失败次数过多，请稍后再试", code="too_many_attempts", status=429)
    locked = staff is not None and staff.locked_until is not None and staff.locked_until > now
    ok = staff is not None and staff.active and password_ok and not locked and _check_totp(staff, otp)
    if not ok:
        ip_limiter.fail(client_ip)
        if staff is not None and not locked:
            staff.failed_logins += 1
            if staff.failed_logins >= MAX_FAILURES:
                staff.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                staff.failed_logins = 0
        audit.record(db, object_type="login", object_id=username[:64], action="login_failed",
                     detail={"locked": bool(locked)})
        db.commit()
        raise LoginFailed()
    assert staff is not None
    settings = get_settings()
    token = secrets.token_urlsafe(32)  # 256 bits
    expires = now + timedelta(hours=settings.session_absolute_hours)
    staff.failed_logins = 0
    staff.locked_until = None
    staff.last_login_at = now
    db.info["actor"] = _staff_actor(staff, request_id=request_id, client_ip=client_ip)
    db.add(AuthSession(token_hash=token_hash(token), staff_id=staff.id, kind=kind, created_at=now,
                       last_seen_at=now, expires_at=expires, client_ip=client_ip))
    audit.record(db, object_type="login", object_id=staff.username, action="login")
    db.commit()
    return LoginResult(token=token, expires_at=expires, staff=staff)


def resolve(db: Session, token: str | None, *, request_id: str | None = None, client_ip: str | None = None) -> Actor:
    """The actor behind a token, enforcing idle and absolute timeouts on the server."""
    if not token:
        raise Unauthorized()
    row = db.execute(
        select(AuthSession, Staff).join(Staff, Staff.id == AuthSession.staff_id)
        .where(AuthSession.token_hash == token_hash(token))
    ).first()
    if row is None:
        raise Unauthorized()
    sess, staff = row
    now = clock.now()
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    if sess.revoked_at is not None or not staff.active:
        raise Unauthorized("会话已失效，请重新登录", code="session_revoked")
    if now >= sess.expires_at:
        raise Unauthorized("会话已超过最长时限，请重新登录", code="session_expired")
    if now - sess.last_seen_at > idle:
        raise Unauthorized("长时间未操作，会话已超时，请重新登录", code="session_idle")
    if now - sess.last_seen_at > _TOUCH_EVERY:
        sess.last_seen_at = now
        db.commit()
    return _staff_actor(staff, request_id=request_id, client_ip=client_ip)


def logout(db: Session, token: str) -> None:
    sess = db.execute(select(AuthSession).where(AuthSession.token_hash == token_hash(token))).scalar_one_or_none()
    if sess is not None and sess.revoked_at is None:
        sess.revoked_at = clock.now()
        db.commit()
