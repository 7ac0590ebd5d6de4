"""签到身份 at the office: the face enrolment page's quality gate and history, and the
subject's phone-page login (create, reset, revoke).

Same rules as the REST API: staff with ``subjects.write`` whose jurisdiction holds the file
(``subjects_service.get`` scopes it; another office's file is "not found"). Enrolling keeps
every previous enrolment (inactive), viewing a stored photo is audited, and a new or reset
phone password is generated here and returned once: only its hash is stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from zhijiao.checkins import face
from zhijiao.checkins import service as checkins_service
from zhijiao.checkins.models import FaceEnrolment
from zhijiao.core import clock
from zhijiao.core.errors import Conflict, InvalidInput, NotFound, TooLarge
from zhijiao.org.models import Staff
from zhijiao.security import audit, auth
from zhijiao.security.actor import get_actor
from zhijiao.security.models import AuthSession, SubjectCredential
from zhijiao.security.permissions import Perm, require
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.models import Subject
from zhijiao.subjects.schemas import SubjectStatus

MAX_PHOTO_BYTES = 5 * 1024 * 1024
ENDED = (SubjectStatus.released, SubjectStatus.terminated)
# No 0/O, 1/l/I: the officer reads the password out or writes it down for the subject.
_UPPER, _LOWER, _DIGITS = "ABCDEFGHJKMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz", "23456789"


def photo_format(data: bytes) -> str:
    """'JPEG' or 'PNG' from the file's signature; anything else, or over 5 MB, is refused in Chinese."""
    if len(data) > MAX_PHOTO_BYTES:
        raise TooLarge("照片不能超过 5 MB，请压缩后重新上传", code="image_too_large")
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    raise InvalidInput("只能上传 JPEG 或 PNG 格式的照片", code="unsupported_image_format",
                       fields={"image": "格式不支持"})


def _writable_subject(db: Session, subject_id: int) -> Subject:
    require(get_actor(db), Perm.subjects_write)
    return subjects_service.get(db_session=db, subject_id=subject_id)


@dataclass(frozen=True, slots=True)
class GateIssue:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class GateResult:
    """The quality gate's answer for one frame or photo (nothing is stored)."""

    passed: bool
    issues: tuple[GateIssue, ...]
    face_count: int
    face_px: float | None = None
    sharpness: float | None = None
    luminance: float | None = None

    @property
    def message(self) -> str:
        return "；".join(i.message for i in self.issues) if self.issues else "图像质量合格，可以采集"


def assess_photo(*, db_session: Session, subject_id: int, image: bytes) -> GateResult:
    """Run the face engine's quality gate on a frame for this subject's enrolment (no write)."""
    _writable_subject(db_session, subject_id)
    photo_format(image)
    try:
        analysis = face.get_engine().analyze(image)
    except InvalidInput as exc:  # not a decodable picture
        return GateResult(False, (GateIssue(exc.code, exc.message),), 0)
    q = analysis.quality
    return GateResult(q.passed, tuple(GateIssue(str(i.code), i.message) for i in q.issues), q.face_count,
                      None if q.face_px is None else round(q.face_px),
                      None if q.sharpness is None else round(q.sharpness, 1),
                      None if q.luminance is None else round(q.luminance, 1))


def enrol_photo(*, db_session: Session, subject_id: int, image: bytes, source: str) -> FaceEnrolment:
    """Enrol from the office page (``source`` camera or upload): JPEG or PNG, at most 5 MB."""
    if _writable_subject(db_session, subject_id).status in ENDED:
        raise Conflict("矫正已结束，不能再采集人脸", code="subject_ended")
    photo_format(image)
    return checkins_service.enrol(db_session=db_session, subject_id=subject_id, image=image, source=source)


@dataclass(frozen=True, slots=True)
class EnrolmentItem:
    id: int
    active: bool
    enrolled_at: datetime
    enrolled_by: str
    source: str | None
    face_px: float | None
    sharpness: float | None


@dataclass(frozen=True, slots=True)
class PhoneLogin:
    enabled: bool
    set_at: datetime | None = None
    set_by: str | None = None
    locked_until: datetime | None = None
    open_sessions: int = 0


@dataclass(frozen=True, slots=True)
class IdentityState:
    """What the subject page's 签到身份 card shows."""

    subject_id: int
    subject_name: str
    ended: bool
    enrolments: list[EnrolmentItem]  # newest first; at most one active
    phone: PhoneLogin

    @property
    def active(self) -> EnrolmentItem | None:
        return next((e for e in self.enrolments if e.active), None)


def _open_sessions(db: Session, subject_id: int) -> int:
    return db.execute(select(func.count()).select_from(AuthSession).where(
        AuthSession.subject_id == subject_id, AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > clock.now())).scalar_one()


def _names(db: Session, usernames: set[str]) -> dict[str, str]:
    """Who acted, by name (a staff account's display name; anything else as written)."""
    if not usernames:
        return {}
    rows = db.execute(select(Staff.username, Staff.display_name).where(Staff.username.in_(usernames))).all()
    return {u: n or u for u, n in rows}


def enrolment_state(*, db_session: Session, subject_id: int) -> IdentityState:
    """Face enrolments (history, without photos) and the phone login of a subject in scope."""
    subject = subjects_service.get(db_session=db_session, subject_id=subject_id)
    rows = db_session.execute(select(FaceEnrolment).where(FaceEnrolment.subject_id == subject.id)
                              .order_by(FaceEnrolment.enrolled_at.desc(), FaceEnrolment.id.desc())).scalars()
    rows = list(rows)
    cred = db_session.get(SubjectCredential, subject.id)
    names = _names(db_session, {e.enrolled_by for e in rows} | ({cred.set_by} if cred else set()))
    items = [EnrolmentItem(e.id, e.active, e.enrolled_at, names.get(e.enrolled_by, e.enrolled_by),
                           (e.quality or {}).get("source"), (e.quality or {}).get("face_px"),
                           (e.quality or {}).get("sharpness")) for e in rows]
    phone = PhoneLogin(False) if cred is None else PhoneLogin(
        True, cred.set_at, names.get(cred.set_by, cred.set_by),
        cred.locked_until if cred.locked_until and cred.locked_until > clock.now() else None,
        _open_sessions(db_session, subject.id))
    return IdentityState(subject.id, subjects_service.display_name(subject), subject.status in ENDED, items, phone)


def enrolment_photo(*, db_session: Session, subject_id: int, enrolment_id: int) -> bytes:
    """One stored photo (current or earlier), for staff in scope; every view is audited."""
    require(get_actor(db_session), Perm.subjects_read)
    subject = subjects_service.get(db_session=db_session, subject_id=subject_id)
    enrolment = db_session.execute(select(FaceEnrolment).where(
        FaceEnrolment.id == enrolment_id, FaceEnrolment.subject_id == subject.id)).scalar_one_or_none()
    if enrolment is None:
        raise NotFound("人脸采集记录不存在", code="enrolment_not_found")
    audit.access(db_session, object_type="face_enrolments", object_id=enrolment.id, action="view_biometric")
    db_session.commit()
    return enrolment.photo


# --- the phone page's login --------------------------------------------------------------------

def generate_password(length: int = 10) -> str:
    """Random, from three character classes (the password policy), without look-alike characters."""
    chars = [secrets.choice(_UPPER), secrets.choice(_LOWER), secrets.choice(_DIGITS)]
    chars += [secrets.choice(_UPPER + _LOWER + _DIGITS) for _ in range(length - 3)]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def _end_sessions(db: Session, subject_id: int, why: str) -> int:
    ended = db.execute(update(AuthSession).where(
        AuthSession.subject_id == subject_id, AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > clock.now()).values(revoked_at=clock.now())
        .execution_options(synchronize_session=False)).rowcount
    audit.record(db, object_type="subject_login", object_id=subject_id, action="sessions_ended",
                 detail={"count": ended, "reason": why})
    return ended


def issue_phone_password(*, db_session: Session, subject_id: int, reset: bool) -> str:
    """Open the phone login (``reset=False``) or replace its password (``reset=True``, which also
    ends the subject's phone sessions). Returns the new password, which is shown once."""
    subject = _writable_subject(db_session, subject_id)
    if subject.status in ENDED:
        raise Conflict("矫正已结束，不能开通或重置手机登录", code="subject_ended")
    exists = db_session.get(SubjectCredential, subject.id) is not None
    if reset and not exists:
        raise Conflict("尚未开通手机登录，请先开通", code="phone_login_missing")
    if not reset and exists:
        raise Conflict("已开通手机登录；如需新密码请使用“重置密码”", code="phone_login_exists")
    password = generate_password()
    actor = get_actor(db_session)
    assert actor is not None
    if reset:
        _end_sessions(db_session, subject.id, "password_reset")
    audit.record(db_session, object_type="subject_login", object_id=subject.id,
                 action="password_reset" if reset else "login_created")
    auth.set_subject_password(db_session, subject_id=subject.id, password=password, actor=actor)  # commits
    return password


def revoke_phone_login(*, db_session: Session, subject_id: int) -> int:
    """Remove the phone login and end its sessions; returns how many sessions were ended."""
    subject = _writable_subject(db_session, subject_id)
    cred = db_session.get(SubjectCredential, subject.id)
    if cred is None:
        raise Conflict("该对象未开通手机登录", code="phone_login_missing")
    db_session.delete(cred)
    ended = _end_sessions(db_session, subject.id, "login_revoked")
    audit.record(db_session, object_type="subject_login", object_id=subject.id, action="login_revoked")
    db_session.commit()
    return ended
