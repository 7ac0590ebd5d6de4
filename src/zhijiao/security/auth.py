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
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from zhijiao.config import get_settings
from zhijiao.core import clock
from zhijiao.core.errors import DomainError, Forbidden, InvalidInput, Unauthorized
from zhijiao.org.models import Staff
from zhijiao.security import audit, passwords
from zhijiao.security.actor import Actor, ActorKind
from zhijiao.security.crypto import get_keyring
from zhijiao.security.models import AuthSession, SubjectCredential
from zhijiao.security.permissions import ADMIN_ROLES
from zhijiao.settings import service as settings_service
from zhijiao.subjects.models import Subject

TOTP_ENROLMENT = "totp_enrolment"
PASSWORD_EXPIRED = "password_expired"
_RESTRICTION_MESSAGES = {
    TOTP_ENROLMENT: "首次登录须先绑定动态口令（双因素认证）",
    PASSWORD_EXPIRED: "密码已过期，请先修改密码",
}

# Failed logins in memory (per process), in a sliding window of 15 minutes, per client address
# (the real one behind ZHIJIAO_TRUSTED_PROXIES). Neither limit lets an attack on one account lock
# out the others: one account tried too often from one address is refused from that address only,
# and an address is refused as a whole only after failures against many different accounts
# (password spraying), and then only for that kind of login (staff or phone).
PER_ACCOUNT_ADDRESS_FAILURES = 10  # one account from one address
PER_IP_ACCOUNTS = 20  # distinct accounts failing from one address
PER_IP_FAILURES = PER_IP_ACCOUNTS  # the name of earlier releases
_IP_WINDOW_S = 15 * 60
_TOUCH_EVERY = timedelta(seconds=30)

# What a staff token may be used for. A browser session ("ui") is kept in NiceGUI's per-browser
# storage on the server: it opens screens only and is refused as an API bearer token, so that the
# storage files never hold a usable API credential. A screen that calls the API from the browser
# (the kiosk) gets a short-lived delegated token of its own (:func:`delegate`).
API_KINDS = ("api", "delegate")
UI_KINDS = ("ui",)
DELEGATE_MINUTES = 10

_LOGIN_FAILED = "用户名、密码或动态口令错误"


class LoginFailed(DomainError):
    status = 401
    code = "login_failed"
    message = _LOGIN_FAILED


class TooManyAttempts(DomainError):
    """429 with ``Retry-After``: this address tried this account (or too many accounts) too often."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, -(-retry_after // 60))
        super().__init__(f"登录失败次数过多，请 {minutes} 分钟后再试")
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class _IpLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pairs: dict[tuple[str, str, str], deque[float]] = defaultdict(deque)
        self._accounts: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)

    @staticmethod
    def _account_key(account: str) -> str:
        return hashlib.sha256(account.strip().lower().encode()).hexdigest()[:32]  # no ID numbers in memory

    def _prune(self, now: float) -> None:
        cutoff = now - _IP_WINDOW_S
        for key in [k for k, q in self._pairs.items() if not q or q[-1] < cutoff]:
            del self._pairs[key]
        for key in list(self._accounts):
            seen = {a: t for a, t in self._accounts[key].items() if t >= cutoff}
            if seen:
                self._accounts[key] = seen
            else:
                del self._accounts[key]

    def retry_after(self, ip: str | None, account: str = "", scope: str = "staff") -> int | None:
        """Seconds until a login of ``account`` from ``ip`` may be tried again, or None if it may now."""
        if not ip:
            return None
        now = time.monotonic()
        cutoff = now - _IP_WINDOW_S
        with self._lock:
            waits = []
            q = self._pairs.get((scope, ip, self._account_key(account)))
            if q is not None:
                while q and q[0] < cutoff:
                    q.popleft()
                if len(q) >= PER_ACCOUNT_ADDRESS_FAILURES:
                    waits.append(q[-PER_ACCOUNT_ADDRESS_FAILURES] - cutoff)
            seen = self._accounts.get((scope, ip))
            if seen is not None:
                times = sorted(t for t in seen.values() if t >= cutoff)
                if len(times) >= PER_IP_ACCOUNTS:
                    waits.append(times[-PER_IP_ACCOUNTS] - cutoff)
            return max(1, int(max(waits)) + 1) if waits else None

    def blocked(self, ip: str | None, account: str = "", scope: str = "staff") -> bool:
        return self.retry_after(ip, account, scope) is not None

    def check(self, ip: str | None, account: str, scope: str) -> None:
        wait = self.retry_after(ip, account, scope)
        if wait is not None:
            raise TooManyAttempts(wait)

    def fail(self, ip: str | None, account: str = "", scope: str = "staff") -> None:
        if ip:
            now = time.monotonic()
            key = self._account_key(account)
            with self._lock:
                if len(self._pairs) > 100_000:
                    self._prune(now)
                self._pairs[(scope, ip, key)].append(now)
                self._accounts[(scope, ip)][key] = now

    def reset(self) -> None:
        with self._lock:
            self._pairs.clear()
            self._accounts.clear()


ip_limiter = _IpLimiter()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class LoginResult:
    token: str
    expires_at: datetime
    staff: Staff
    restriction: str | None = None


def totp_required(staff: Staff) -> bool:
    """The three administrators always need a second factor; other staff by setting."""
    return staff.role in ADMIN_ROLES or get_settings().totp_required == "all"


def _restriction(staff: Staff, now: datetime) -> str | None:
    if totp_required(staff) and not staff.totp_secret:
        return TOTP_ENROLMENT
    max_age = settings_service.value("security.password_max_age_days")
    if max_age and staff.password_changed_at and now - staff.password_changed_at > timedelta(days=max_age):
        return PASSWORD_EXPIRED
    return None


def _staff_actor(staff: Staff, *, request_id: str | None = None, client_ip: str | None = None) -> Actor:
    return Actor(
        kind="staff", username=staff.username, staff_id=staff.id, role=staff.role,
        office_id=staff.office_id, request_id=request_id, client_ip=client_ip,
    )


def _claim_totp_step(db: Session, staff: Staff, step: int) -> bool:
    """Mark the time step used, atomically: one conditional UPDATE, so of concurrent logins with
    the same code exactly one changes the row (PostgreSQL re-checks the condition after waiting
    for the row lock; SQLite serialises writers), and the others see 0 rows and fail."""
    result = db.execute(
        update(Staff)
        .where(Staff.id == staff.id, or_(Staff.totp_last_step.is_(None), Staff.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    set_committed_value(staff, "totp_last_step", step)
    return True


def _check_totp(db: Session, staff: Staff, otp: str | None) -> bool:
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
            return _claim_totp_step(db, staff, candidate)
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
    try:
        ip_limiter.check(client_ip, username, "staff")
    except TooManyAttempts:
        audit.record(db, object_type="login", object_id=username[:64], action="login_blocked_ip")
        db.commit()
        raise
    locked = staff is not None and staff.locked_until is not None and staff.locked_until > now
    ok = staff is not None and staff.active and password_ok and not locked and _check_totp(db, staff, otp)
    if not ok:
        ip_limiter.fail(client_ip, username, "staff")
        if staff is not None and not locked:
            staff.failed_logins += 1
            if staff.failed_logins >= settings_service.value("security.lockout_failures"):
                staff.locked_until = now + timedelta(minutes=settings_service.value("security.lockout_minutes"))
                staff.failed_logins = 0
            db.flush()  # lock the staff row before the audit head, in the order a successful login does
        audit.record(db, object_type="login", object_id=username[:64], action="login_failed",
                     detail={"locked": bool(locked)})
        db.commit()
        raise LoginFailed()
    assert staff is not None
    token = secrets.token_urlsafe(32)  # 256 bits
    expires = now + timedelta(hours=settings_service.value("security.session_absolute_hours"))
    staff.failed_logins = 0
    staff.locked_until = None
    staff.last_login_at = now
    db.info["actor"] = _staff_actor(staff, request_id=request_id, client_ip=client_ip)
    restriction = _restriction(staff, now)
    db.add(AuthSession(token_hash=token_hash(token), staff_id=staff.id, kind=kind, created_at=now,
                       last_seen_at=now, expires_at=expires, client_ip=client_ip, restriction=restriction))
    audit.record(db, object_type="login", object_id=staff.username, action="login",
                 detail={"restriction": restriction} if restriction else None)
    db.commit()
    return LoginResult(token=token, expires_at=expires, staff=staff, restriction=restriction)


def _session_row(db: Session, token: str | None) -> tuple[AuthSession, Staff]:
    if not token:
        raise Unauthorized()
    row = db.execute(
        select(AuthSession, Staff).join(Staff, Staff.id == AuthSession.staff_id)  # inner join: staff tokens only
        .where(AuthSession.token_hash == token_hash(token))
    ).first()
    if row is None:
        raise Unauthorized()
    return row[0], row[1]


def resolve(
    db: Session, token: str | None, *, request_id: str | None = None, client_ip: str | None = None,
    allow_restricted: bool = False, kinds: tuple[str, ...] = API_KINDS,
) -> Actor:
    """The actor behind a token, enforcing idle and absolute timeouts on the server.

    Disabling an account, revoking the session or changing the role takes effect here, on the
    next request, because nothing about the staff member is cached in the token.
    """
    sess, staff = _session_row(db, token)
    if sess.kind not in kinds:
        raise Unauthorized()
    now = clock.now()
    idle = timedelta(minutes=settings_service.value("security.session_idle_minutes"))
    if sess.revoked_at is not None or not staff.active:
        raise Unauthorized("会话已失效，请重新登录", code="session_revoked")
    if now >= sess.expires_at:
        raise Unauthorized("会话已超过最长时限，请重新登录", code="session_expired")
    if now - sess.last_seen_at > idle:
        raise Unauthorized("长时间未操作，会话已超时，请重新登录", code="session_idle")
    if sess.restriction and not allow_restricted:
        raise Forbidden(_RESTRICTION_MESSAGES[sess.restriction], code=sess.restriction)
    if now - sess.last_seen_at > _TOUCH_EVERY:
        sess.last_seen_at = now
        db.commit()
    return _staff_actor(staff, request_id=request_id, client_ip=client_ip)


def _own_staff(db: Session, actor: Actor) -> Staff:
    staff = db.get(Staff, actor.staff_id)
    if staff is None:
        raise Unauthorized()
    return staff


def _lift(db: Session, token: str, restriction: str) -> None:
    sess, _staff = _session_row(db, token)
    if sess.restriction == restriction:
        sess.restriction = None


def begin_totp_enrolment(db: Session, actor: Actor) -> tuple[str, str]:
    """A fresh secret (kept pending until confirmed) and its otpauth:// URI for the authenticator app."""
    staff = _own_staff(db, actor)
    if staff.totp_secret:
        raise DomainError("已绑定动态口令；如需重置请联系安全管理员", code="totp_already_enrolled", status=409)
    secret = pyotp.random_base32()
    db.info["actor"] = actor
    staff.totp_pending = secret
    db.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=staff.username, issuer_name="智矫")
    return secret, uri


def confirm_totp_enrolment(db: Session, actor: Actor, token: str, code: str) -> None:
    staff = _own_staff(db, actor)
    if not staff.totp_pending:
        raise DomainError("请先获取动态口令密钥", code="totp_not_started", status=409)
    staff.totp_secret = staff.totp_pending
    if not _check_totp(db, staff, code):
        staff.totp_secret = None
        raise InvalidInput("动态口令不正确", code="totp_invalid", fields={"code": "动态口令不正确"})
    staff.totp_pending = None
    db.info["actor"] = actor
    _lift(db, token, TOTP_ENROLMENT)
    audit.record(db, object_type="staff", object_id=staff.id, action="totp_enrolled")
    db.commit()


def change_password(db: Session, actor: Actor, token: str, *, current: str, new: str) -> None:
    staff = _own_staff(db, actor)
    if not passwords.verify_password(staff.password_hash, current):
        raise InvalidInput("当前密码不正确", code="wrong_password", fields={"current_password": "不正确"})
    history = list(staff.password_history or [])
    passwords.check_policy(new, history + [staff.password_hash], who=passwords.personal(
        username=staff.username, name=staff.display_name, numbers=[staff.phone]))
    db.info["actor"] = actor
    staff.password_history = (history + [staff.password_hash])[-passwords.HISTORY:]
    staff.password_hash = passwords.hash_password(new)
    staff.password_changed_at = clock.now()
    _lift(db, token, PASSWORD_EXPIRED)
    revoked = revoke_sessions(db, staff_id=staff.id, keep_token=token)
    audit.record(db, object_type="staff", object_id=staff.id, action="password_changed",
                 detail={"sessions_revoked": revoked})
    db.commit()


def revoke_sessions(db: Session, *, staff_id: int | None = None, subject_id: int | None = None,
                    keep_token: str | None = None) -> int:
    """End every open session (UI, API, phone) of one person but the one in use; returns how many."""
    stmt = update(AuthSession).where(AuthSession.revoked_at.is_(None), AuthSession.expires_at > clock.now())
    if staff_id is not None:
        stmt = stmt.where(AuthSession.staff_id == staff_id)
    elif subject_id is not None:
        stmt = stmt.where(AuthSession.subject_id == subject_id)
    else:
        raise ValueError("whose sessions?")
    if keep_token:
        stmt = stmt.where(AuthSession.token_hash != token_hash(keep_token))
    result = db.execute(stmt.values(revoked_at=clock.now()).execution_options(synchronize_session=False))
    return result.rowcount or 0


def logout(db: Session, token: str) -> None:
    sess = db.execute(select(AuthSession).where(AuthSession.token_hash == token_hash(token))).scalar_one_or_none()
    if sess is not None and sess.revoked_at is None:
        sess.revoked_at = clock.now()
        if sess.kind == "ui" and sess.staff_id is not None:  # the screens' delegated tokens end with them
            db.execute(update(AuthSession).where(
                AuthSession.staff_id == sess.staff_id, AuthSession.kind == "delegate",
                AuthSession.revoked_at.is_(None)).values(revoked_at=sess.revoked_at)
                .execution_options(synchronize_session=False))
        db.commit()


def delegate(db: Session, ui_token: str | None, *, minutes: int = DELEGATE_MINUTES) -> str:
    """A short-lived API token for a screen that calls the API from the browser (the kiosk).

    Only a valid browser session may ask; the token lives at most ``minutes`` and never past the
    browser session, and ends with its logout. It is handed to the page's script, never stored.
    """
    resolve(db, ui_token, kinds=UI_KINDS)
    parent, staff = _session_row(db, ui_token)
    now = clock.now()
    token = secrets.token_urlsafe(32)
    db.add(AuthSession(token_hash=token_hash(token), staff_id=staff.id, kind="delegate", created_at=now,
                       last_seen_at=now, expires_at=min(parent.expires_at, now + timedelta(minutes=minutes)),
                       client_ip=parent.client_ip))
    db.commit()
    return token


# --- subjects on the phone page ---------------------------------------------------------------

SUBJECT_SESSION_HOURS = 12


def set_subject_password(db: Session, *, subject_id: int, password: str, actor: Actor) -> None:
    """Set at reception by the officer (the subject's file must be in the officer's scope)."""

    subject = db.get(Subject, subject_id)
    passwords.check_policy(password, who=passwords.personal(
        name=subject.name if subject else None,
        numbers=[subject.id_number, subject.phone] if subject else ()))
    cred = db.get(SubjectCredential, subject_id)
    if cred is None:
        cred = SubjectCredential(subject_id=subject_id, password_hash="", set_at=clock.now(), set_by=actor.username)
        db.add(cred)
    cred.password_hash = passwords.hash_password(password)
    cred.set_at, cred.set_by, cred.failed_logins, cred.locked_until = clock.now(), actor.username, 0, None
    revoke_sessions(db, subject_id=subject_id)  # a new password logs the phone out everywhere
    db.commit()


def logout_subject(db: Session, token: str) -> None:
    """End a phone session (the 退出 button of the phone page)."""
    sess = db.execute(select(AuthSession).where(AuthSession.token_hash == token_hash(token),
                                                AuthSession.subject_id.is_not(None))).scalar_one_or_none()
    if sess is not None and sess.revoked_at is None:
        sess.revoked_at = clock.now()
        audit.record(db, object_type="subject_login", object_id=sess.subject_id, action="logout")
        db.commit()


def login_subject(db: Session, *, id_number: str, password: str, client_ip: str | None = None) -> LoginResult:
    """ID number + password; the same failure answer for unknown numbers and wrong passwords."""

    now = clock.now()
    index = get_keyring().blind_index(id_number.strip().upper())
    row = db.execute(
        select(Subject.id, SubjectCredential).join(SubjectCredential, SubjectCredential.subject_id == Subject.id)
        .where(Subject.id_number_index == index, Subject.status.in_(("reported", "under_correction")))
        .execution_options(skip_scope=True)  # no one is logged in yet: this lookup is the login itself
    ).first()
    cred = row[1] if row else None
    ok = passwords.verify_password(cred.password_hash if cred else None, password)
    db.info["actor"] = Actor(kind="anonymous", username="subject-login", client_ip=client_ip)
    ip_limiter.check(client_ip, id_number, "phone")
    locked = cred is not None and cred.locked_until is not None and cred.locked_until > now
    if not ok or locked:
        ip_limiter.fail(client_ip, id_number, "phone")
        if cred is not None and not locked:
            cred.failed_logins += 1
            if cred.failed_logins >= settings_service.value("security.lockout_failures"):
                cred.locked_until = now + timedelta(minutes=settings_service.value("security.lockout_minutes"))
                cred.failed_logins = 0
        audit.record(db, object_type="subject_login", object_id=row[0] if row else None, action="login_failed")
        db.commit()
        raise LoginFailed("身份证号码或密码错误", code="login_failed")
    assert row is not None and cred is not None
    cred.failed_logins, cred.locked_until = 0, None
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=SUBJECT_SESSION_HOURS)
    db.info["actor"] = Actor(kind=ActorKind.subject, username=f"subject:{row[0]}", subject_id=row[0],
                             client_ip=client_ip)
    db.add(AuthSession(token_hash=token_hash(token), subject_id=row[0], kind="phone", created_at=now,
                       last_seen_at=now, expires_at=expires, client_ip=client_ip))
    audit.record(db, object_type="subject_login", object_id=row[0], action="login")
    db.commit()
    return LoginResult(token=token, expires_at=expires, staff=None)  # type: ignore[arg-type]


def resolve_subject(db: Session, token: str | None, *, client_ip: str | None = None) -> Actor:
    if not token:
        raise Unauthorized()
    sess = db.execute(select(AuthSession).where(AuthSession.token_hash == token_hash(token),
                                                AuthSession.subject_id.is_not(None))).scalar_one_or_none()
    now = clock.now()
    if sess is None or sess.revoked_at is not None or now >= sess.expires_at:
        raise Unauthorized("登录已失效，请重新登录", code="session_expired")
    return Actor(kind=ActorKind.subject, username=f"subject:{sess.subject_id}", subject_id=sess.subject_id,
                 client_ip=client_ip)
