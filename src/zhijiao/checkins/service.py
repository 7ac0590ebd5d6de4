"""Face enrolment, check-in with face (and ID card), and missed check-in duties.

Biometric data (photos, embeddings, evidence) is SM4-encrypted at rest, served only to staff
in scope, and every read is audited. A kiosk or a subject's phone finds its subject through
an explicit system-scope lookup here — visible in the code, and the only thing it reveals is
the check-in answer.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhijiao.checkins import face, kiosk
from zhijiao.checkins.models import CheckIn, Evidence, FaceEnrolment, RollCall
from zhijiao.checkins.schemas import CheckInCode, CheckInResult, CheckInSource, RollCallStatus
from zhijiao.config import get_settings
from zhijiao.core import clock, events, topics
from zhijiao.core.errors import DomainError, Forbidden, InvalidInput, NotFound
from zhijiao.jobs import service as jobs_service
from zhijiao.monitoring import alarms as alarm_service
from zhijiao.security import audit
from zhijiao.security.actor import Actor, ActorKind, get_actor
from zhijiao.security.crypto import get_keyring
from zhijiao.security.models import SubjectCredential
from zhijiao.security.permissions import Perm, has_perm, require
from zhijiao.settings import service as settings_service
from zhijiao.subjects import idcard
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.models import Subject
from zhijiao.subjects.schemas import SubjectStatus
from zhijiao.supervision.levels import rules as levels


def checkin_interval_days(level: str) -> int:
    """A check-in at a kiosk or by phone is the in-person report that the level demands
    (分类管理, shared/domain.md: 严管 weekly); one table of duties, in ``supervision.levels``."""
    try:
        return levels.duties_for(levels.SupervisionLevel(level)).in_person_report_interval_days
    except ValueError:
        return levels.duties_for(levels.SupervisionLevel.ordinary).in_person_report_interval_days


def checkin_due(level: str, last_matched: datetime | None, correction_start: date | None) -> datetime | None:
    """When the next check-in falls due: the level's interval after the last matched one, or
    after the start of correction (00:00 Shanghai) for someone who never checked in."""
    since = last_matched or (clock.ensure_utc(datetime.combine(correction_start, time(0), clock.SHANGHAI))
                             if correction_start else None)
    return None if since is None else since + timedelta(days=checkin_interval_days(level))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _keep_evidence(db: Session, images: list[bytes]) -> list[str]:
    digests = []
    for data in images:
        digest = _sha(data)
        if db.get(Evidence, digest) is None:
            db.add(Evidence(sha256=digest, content=data, size=len(data), created_at=clock.now()))
        digests.append(digest)
    return digests


def _active_enrolment(db: Session, subject_id: int) -> FaceEnrolment | None:
    return db.execute(
        select(FaceEnrolment).where(FaceEnrolment.subject_id == subject_id, FaceEnrolment.active.is_(True))
        .execution_options(skip_scope=True)  # the subject was already resolved for this actor
    ).scalar_one_or_none()


def enrol(*, db_session: Session, subject_id: int, image: bytes, source: str = "api") -> FaceEnrolment:
    """A new reference face; the previous one stays, inactive (history). ``source``: api, camera, upload."""
    actor = require(get_actor(db_session), Perm.subjects_write)
    subject = subjects_service.get(db_session=db_session, subject_id=subject_id)
    analysis = face.get_engine().analyze(image)
    embedding = analysis.require_ok()  # 422 with the quality code
    previous = _active_enrolment(db_session, subject.id)
    if previous is not None:
        previous.active = False
    q = analysis.quality
    enrolment = FaceEnrolment(
        subject_id=subject.id, embedding=embedding.astype(np.float32).tobytes(), photo=image,
        photo_sha256=_sha(image), active=True, enrolled_at=clock.now(), enrolled_by=actor.username,
        quality={"face_px": q.face_px, "sharpness": q.sharpness, "luminance": q.luminance, "source": source},
    )
    db_session.add(enrolment)
    db_session.commit()
    return enrolment


def reference_photo(*, db_session: Session, subject_id: int) -> bytes:
    """The enrolled photo, for staff in scope; every view is audited."""
    require(get_actor(db_session), Perm.subjects_read)
    subject = subjects_service.get(db_session=db_session, subject_id=subject_id)
    enrolment = db_session.execute(
        select(FaceEnrolment).where(FaceEnrolment.subject_id == subject.id, FaceEnrolment.active.is_(True))
    ).scalar_one_or_none()
    if enrolment is None:
        raise NotFound("该对象尚未采集人脸", code="face_not_enrolled")
    audit.access(db_session, object_type="face_enrolments", object_id=enrolment.id, action="view_biometric")
    db_session.commit()
    return enrolment.photo


@dataclass
class CheckInRequest:
    source: str
    images: list[bytes]
    subject_id: int | None = None
    id_number: str | None = None
    challenge: str | None = None
    lat: float | None = None
    lon: float | None = None
    kiosk_id: str | None = None
    id_card_photo: bytes | None = None
    mirrored: bool = False
    nonce: str | None = None  # a kiosk's server-issued challenge (checkins.kiosk)


def _resolve_subject(db: Session, actor: Actor, req: CheckInRequest) -> Subject | None:
    if req.id_number:
        number = idcard.parse_id_number(req.id_number).number  # 422 on a bad number (GB 11643)
        stmt = select(Subject).where(Subject.id_number_index == get_keyring().blind_index(number),
                                     Subject.status.in_(("reported", "under_correction")))
    elif req.subject_id is not None:
        stmt = select(Subject).where(Subject.id == req.subject_id)
    else:
        raise InvalidInput("请提供身份证号码或对象编号", code="subject_required", fields={"id_number": "必填"})
    if actor.kind == ActorKind.subject:
        if req.subject_id not in (None, actor.subject_id):
            raise Forbidden("只能为本人签到", code="checkin_self_only")
        stmt = select(Subject).where(Subject.id == actor.subject_id)
    if has_perm(actor, Perm.subjects_read):
        return db.execute(stmt).unique().scalar_one_or_none()  # staff: their own jurisdiction
    # Kiosks and subjects see no case file; this lookup is the one visible exception.
    return db.execute(stmt.execution_options(skip_scope=True)).unique().scalar_one_or_none()


def check_in(*, db_session: Session, req: CheckInRequest) -> CheckInResult:
    actor = get_actor(db_session)
    if not (has_perm(actor, Perm.kiosk_checkin) or has_perm(actor, Perm.subjects_write)
            or (actor is not None and actor.kind == ActorKind.subject)):
        raise Forbidden("无权执行签到", code="permission_denied")
    assert actor is not None
    if req.source not in tuple(CheckInSource):
        raise InvalidInput("签到来源只能是 kiosk 或 phone", code="bad_source", fields={"source": "取值不合法"})
    if not req.images:
        raise InvalidInput("请上传现场抓拍照片", code="images_required", fields={"images": "必填"})
    engine = face.get_engine()
    # Decoding first: a non-image or oversized upload is the client's error (4xx) and is not kept.
    decoded = [face.decode_image(img) for img in req.images]
    if has_perm(actor, Perm.kiosk_checkin):
        # A kiosk performs the action the server chose, once (see checkins.kiosk).
        if req.source != CheckInSource.kiosk:
            raise InvalidInput("自助终端只能进行现场签到", code="bad_source", fields={"source": "应为 kiosk"})
        req.challenge = kiosk.consume_challenge(db_session, actor, req.nonce)
        req.kiosk_id = req.kiosk_id or actor.username
    subject = _resolve_subject(db_session, actor, req)
    record = CheckIn(subject_id=subject.id if subject else None, source=req.source, kiosk_id=req.kiosk_id,
                     at=clock.now(), matched=False, challenge=req.challenge, lat=req.lat, lon=req.lon,
                     actor_name=actor.username, reason="")
    _evaluate(db_session, engine, subject, decoded, req, record)
    record.evidence = _keep_evidence(db_session, req.images + ([req.id_card_photo] if req.id_card_photo else []))
    db_session.add(record)
    db_session.commit()
    if has_perm(actor, Perm.kiosk_checkin) and record.code in _KIOSK_UNIFORM:
        return CheckInResult(id=record.id, matched=False, score=None, liveness=None, reason=KIOSK_NOT_VERIFIED,
                             code=CheckInCode.face_mismatch, id_card_score=None)
    return CheckInResult(id=record.id, matched=record.matched, score=record.score, liveness=record.liveness,
                         reason=record.reason, code=record.code, id_card_score=record.id_card_score)


def _evaluate(db, engine, subject, decoded, req: CheckInRequest, record: CheckIn) -> None:
    # An unknown number or a subject with no face on file goes through the same steps as a real
    # comparison (the same queries, the face analysis, a comparison, the liveness check): a kiosk
    # must not tell a known ID number from an unknown one by the answer or by its time (issue 20).
    enrolment = _active_enrolment(db, subject.id if subject is not None else -1)
    analysis = engine.analyze_image(decoded[len(decoded) // 2])
    if subject is None or enrolment is None:
        if analysis.embedding is not None:
            face.verify(analysis.embedding, _decoy_reference(len(analysis.embedding)))
            if req.id_card_photo is not None:
                engine.analyze(req.id_card_photo)
            if req.challenge and len(req.images) > 1:
                try:
                    face.check_liveness(req.images, req.challenge, engine=engine, mirrored=req.mirrored)
                except DomainError:
                    pass
        if analysis.embedding is None:  # the answer a known subject would get for this image
            record.code, record.reason = str(analysis.quality.code), analysis.quality.message
        elif subject is None:
            record.code, record.reason = CheckInCode.subject_not_found, "未找到在册的社区矫正对象，请核对身份证号码"
        else:
            record.code, record.reason = CheckInCode.face_not_enrolled, "该对象尚未采集人脸，请联系司法所"
        return
    if analysis.embedding is None:
        record.code, record.reason = str(analysis.quality.code), analysis.quality.message
        return
    reference = np.frombuffer(enrolment.embedding, dtype=np.float32)
    verdict = face.verify(analysis.embedding, reference)
    record.score, record.distance = round(verdict.score, 4), round(verdict.distance, 4)
    if req.id_card_photo is not None:
        # 人证比对: the chip photo against the live face.
        chip = engine.analyze(req.id_card_photo)
        if chip.embedding is not None:
            record.id_card_score = round(face.verify(analysis.embedding, chip.embedding).score, 4)
    if req.challenge and len(req.images) > 1:
        try:
            live = face.check_liveness(req.images, req.challenge, engine=engine, mirrored=req.mirrored)
            record.liveness = live.passed
            live_reason = live.reason_chinese
        except DomainError as exc:
            record.liveness, live_reason = False, exc.message
    else:
        record.liveness, live_reason = None, "未进行活体检测"
    id_card_ok = record.id_card_score is None or record.id_card_score >= 0.5
    record.matched = verdict.matched and record.liveness is True and id_card_ok
    if not verdict.matched:
        record.code, record.reason = CheckInCode.face_mismatch, verdict.explanation_chinese
    elif not id_card_ok:
        record.code, record.reason = CheckInCode.id_card_mismatch, "现场人脸与身份证芯片照片不一致"
    elif record.liveness is not True:
        record.code, record.reason = CheckInCode.liveness_failed, live_reason
    else:
        record.code, record.reason = CheckInCode.ok, f"比对通过（{verdict.explanation_chinese}）；{live_reason}"


_DECOYS: dict[int, np.ndarray] = {}


def _decoy_reference(size: int) -> np.ndarray:
    """A fixed unit vector nobody's face matches, for the comparison an unknown number also makes."""
    if size not in _DECOYS:
        v = np.random.default_rng(20).standard_normal(size).astype(np.float32)
        _DECOYS[size] = v / np.linalg.norm(v)
    return _DECOYS[size]


# What a kiosk is told when the check-in did not verify: one answer whether the ID number is
# unknown, has no face on file, or the face did not match (issue 20 item 9). The record keeps
# the real reason for the office.
KIOSK_NOT_VERIFIED = "身份核验未通过：请核对身份证号码后重试，或到司法所办理"
_KIOSK_UNIFORM = {CheckInCode.subject_not_found, CheckInCode.face_not_enrolled, CheckInCode.face_mismatch}


def list_checkins(*, db_session: Session, subject_id: int) -> list[CheckIn]:
    subjects_service.get(db_session=db_session, subject_id=subject_id)
    return list(db_session.execute(
        select(CheckIn).where(CheckIn.subject_id == subject_id).order_by(CheckIn.at.desc()).limit(200)
    ).scalars())


def scan_missed_checkins(*, db_session: Session, now: datetime | None = None) -> list[int]:
    """Raise ``missed_checkin`` for subjects whose duty interval passed without a matched check-in.

    Walks the supervised subjects in id order and commits in the job's bounded chunks (a district
    has tens of thousands); a retried run resumes after the last committed subject."""
    now = now or clock.now()
    chunks = jobs_service.chunks(db_session)
    resume = chunks.resume if chunks.resume and chunks.resume.get("at") == now.isoformat() else None
    after = resume["after"] if resume else 0
    last = dict(db_session.execute(
        select(CheckIn.subject_id, func.max(CheckIn.at)).where(CheckIn.matched.is_(True))
        .group_by(CheckIn.subject_id)
    ).all())
    missed = []
    supervised = select(Subject).where(Subject.status == SubjectStatus.under_correction).order_by(Subject.id).limit(500)
    while page := db_session.execute(supervised.where(Subject.id > after)).unique().scalars().all():
        for s in page:
            due = checkin_due(s.supervision_level, last.get(s.id), s.correction_start_date)
            if due is not None and now > due:
                days = checkin_interval_days(s.supervision_level)
                alarm_service.raise_alarm(db_session=db_session, subject_id=s.id, type="missed_checkin", at=now,
                                          details={"interval_days": days, "due": due.isoformat()}, commit=False)
                missed.append(s.id)
            chunks.step(at=now.isoformat(), after=s.id)
        after = page[-1].id
    db_session.commit()
    return missed


# --- video roll call (视频点名) --------------------------------------------------------------

def _rollcall_event(rc: RollCall, change: str) -> topics.RollCallEvent:
    return {"change": change, "id": rc.id, "subject_id": rc.subject_id, "status": rc.status,
            "deadline": rc.deadline.isoformat(), "called_by": rc.called_by}


def call(*, db_session: Session, subject_ids: list[int] | None, sample: int | None, minutes: int) -> list[RollCall]:
    """An operator calls named subjects, or a random sample of those in scope."""
    actor = require(get_actor(db_session), Perm.alarms_handle)
    if subject_ids:
        subjects = [subjects_service.get(db_session=db_session, subject_id=i) for i in dict.fromkeys(subject_ids)]
    else:
        pool = db_session.execute(
            select(Subject.id).where(Subject.status == SubjectStatus.under_correction)).scalars().all()
        if not pool:
            raise InvalidInput("没有可点名的在矫对象", code="nobody_to_call")
        chosen = random.SystemRandom().sample(list(pool), min(sample or 1, len(pool)))
        subjects = [subjects_service.get(db_session=db_session, subject_id=i) for i in chosen]
    now = clock.now()
    calls = [RollCall(subject_id=s.id, called_at=now, called_by=actor.username,
                      deadline=now + timedelta(minutes=minutes), status=RollCallStatus.pending) for s in subjects]
    db_session.add_all(calls)
    db_session.commit()
    for rc in calls:
        events.publish(topics.ROLLCALLS, _rollcall_event(rc, "called"))
    return calls


def answer(*, db_session: Session, rollcall_id: int, req: CheckInRequest) -> RollCall:
    """The subject answers on the phone page with a live capture and location."""
    rc = db_session.execute(select(RollCall).where(RollCall.id == rollcall_id)).scalar_one_or_none()
    actor = get_actor(db_session)
    if rc is None or (actor is not None and actor.kind == ActorKind.subject and rc.subject_id != actor.subject_id):
        raise NotFound("点名不存在", code="rollcall_not_found")
    if rc.status != RollCallStatus.pending:
        raise DomainError("该点名已结束", code="rollcall_closed", status=409)
    now = clock.now()
    if now > rc.deadline:
        _expire(db_session, rc)
        raise DomainError("已超过应答时限", code="rollcall_expired", status=409)
    req.subject_id = rc.subject_id
    result = check_in(db_session=db_session, req=req)
    rc.answered_at, rc.checkin_id, rc.lat, rc.lon = now, result.id, req.lat, req.lon
    rc.status = RollCallStatus.answered_matched if result.matched else RollCallStatus.answered_not_matched
    if not result.matched:
        alarm_service.raise_alarm(db_session=db_session, subject_id=rc.subject_id, type="missed_rollcall", at=now,
                                  details={"rollcall_id": rc.id, "reason": result.reason}, commit=False)
    db_session.commit()
    events.publish(topics.ROLLCALLS, _rollcall_event(rc, rc.status))
    return rc


def _expire(db: Session, rc: RollCall) -> None:
    rc.status = RollCallStatus.no_answer
    alarm_service.raise_alarm(db_session=db, subject_id=rc.subject_id, type="missed_rollcall", at=rc.deadline,
                              details={"rollcall_id": rc.id, "reason": "未在时限内应答"}, commit=False)
    db.commit()
    events.publish(topics.ROLLCALLS, _rollcall_event(rc, RollCallStatus.no_answer))


SCHEDULED_BY = "计划点名"


def planned_rollcall(subject_id: int, level: str, day: date, *, secret: bytes, every_days: dict[str, int],
                     window: tuple[time, time]) -> datetime | None:
    """When (UTC) a subject is called on ``day`` by the schedule, or None.

    A keyed hash of (subject, day) picks about one day in ``every_days[level]`` and a minute in
    the window: spread over the day, different for each person, and not predictable by a subject
    who does not hold the server's secret.
    """
    every = every_days.get(level, 0)
    start, end = window
    span = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    if every <= 0 or span <= 0:
        return None
    digest = int.from_bytes(hmac.new(secret, f"rollcall:{subject_id}:{day.isoformat()}".encode(),
                                     hashlib.sha256).digest()[:8], "big")
    if digest % every:
        return None
    minute = (digest >> 16) % span
    local = datetime.combine(day, start, tzinfo=clock.SHANGHAI) + timedelta(minutes=minute)
    return clock.ensure_utc(local)


def plan_rollcalls(*, db_session: Session, now: datetime | None = None) -> list[int]:
    """Call the subjects whose scheduled time today has come (idempotent: once a day at most)."""
    now = now or clock.now()
    local = clock.to_local(now)
    window = (time.fromisoformat(settings_service.value("rules.rollcall_window_start")),
              time.fromisoformat(settings_service.value("rules.rollcall_window_end")))
    if not window[0] <= local.time().replace(tzinfo=None) < window[1]:
        return []
    every_days = {lvl: settings_service.value(f"rules.rollcall_every_days_{lvl}")
                  for lvl in ("strict", "ordinary", "lenient")}
    secret = get_settings().effective_secret().encode()
    day_start = clock.ensure_utc(datetime.combine(local.date(), time(0), tzinfo=clock.SHANGHAI))
    already = set(db_session.execute(select(RollCall.subject_id).where(
        RollCall.called_by == SCHEDULED_BY, RollCall.called_at >= day_start)).scalars())
    # Only those who can answer: a phone login was set at reception.
    candidates = db_session.execute(
        select(Subject.id, Subject.supervision_level)
        .join(SubjectCredential, SubjectCredential.subject_id == Subject.id)
        .where(Subject.status == SubjectStatus.under_correction)).all()
    minutes = settings_service.value("rules.rollcall_answer_minutes")
    calls = []
    for sid, level in candidates:
        if sid in already:
            continue
        at = planned_rollcall(sid, level, local.date(), secret=secret, every_days=every_days, window=window)
        if at is not None and at <= now:
            calls.append(RollCall(subject_id=sid, called_at=now, called_by=SCHEDULED_BY,
                                  deadline=now + timedelta(minutes=minutes), status=RollCallStatus.pending))
    db_session.add_all(calls)
    db_session.commit()
    for rc in calls:
        events.publish(topics.ROLLCALLS, _rollcall_event(rc, "called"))
    return [rc.subject_id for rc in calls]


def expire_rollcalls(*, db_session: Session, now: datetime | None = None) -> list[int]:
    """Close roll calls past their deadline as no answer (the scheduler calls this)."""
    now = now or clock.now()
    due = db_session.execute(select(RollCall).where(RollCall.status == RollCallStatus.pending,
                                                    RollCall.deadline < now)).scalars().all()
    for rc in due:
        _expire(db_session, rc)
    return [rc.id for rc in due]


def pending_for_subject(*, db_session: Session) -> list[RollCall]:
    """The logged-in subject's open roll calls (scoping limits them to the subject)."""
    actor = get_actor(db_session)
    if actor is None or actor.kind != ActorKind.subject:
        raise Forbidden()
    return list(db_session.execute(
        select(RollCall).where(RollCall.subject_id == actor.subject_id, RollCall.status == RollCallStatus.pending,
                               RollCall.deadline >= clock.now()).order_by(RollCall.deadline)
    ).scalars())


def list_rollcalls(*, db_session: Session, status: str | None = None, subject_id: int | None = None) -> list[RollCall]:
    require(get_actor(db_session), Perm.subjects_read)
    stmt = select(RollCall).order_by(RollCall.called_at.desc()).limit(500)
    if status:
        stmt = stmt.where(RollCall.status == status)
    if subject_id is not None:
        stmt = stmt.where(RollCall.subject_id == subject_id)
    return list(db_session.execute(stmt).scalars())
