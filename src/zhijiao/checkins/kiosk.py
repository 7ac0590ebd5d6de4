"""The self-service kiosk (自助终端): server-chosen liveness challenges, and what a subject
sees right after checking in (their own pending duties and the self-study courses).

A kiosk account reads no case file. The only personal data it ever gets is that of the person
who has just passed a face check at this kiosk, for a few minutes, and only their duties.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from zhijiao.checkins.face.liveness import CHALLENGE_PROMPTS, Challenge
from zhijiao.checkins.models import CheckIn, KioskChallenge, RollCall
from zhijiao.checkins.schemas import RollCallStatus
from zhijiao.core import clock
from zhijiao.core.errors import DomainError, Forbidden, NotFound
from zhijiao.security.actor import Actor, get_actor
from zhijiao.security.permissions import Perm, has_perm
from zhijiao.settings import service as settings_service
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.models import Subject
from zhijiao.tasks.models import Task

CHALLENGE_TTL = timedelta(seconds=90)
RESULT_VISIBLE = timedelta(minutes=3)  # how long after a match the kiosk may show that person's duties


def _kiosk(db: Session) -> Actor:
    actor = get_actor(db)
    if actor is None or not has_perm(actor, Perm.kiosk_checkin):
        raise Forbidden("只有自助终端账号可以使用", code="kiosk_only")
    return actor


def allowed_challenges() -> list[Challenge]:
    configured = [c.strip() for c in str(settings_service.value("rules.kiosk_challenges")).split(",")]
    chosen = [Challenge(c) for c in configured if c in Challenge.__members__.values()]
    return chosen or list(Challenge)


def issue_challenge(*, db_session: Session) -> KioskChallenge:
    """A random action for the next check-in at this kiosk (single use, expires in 90 s)."""
    actor = _kiosk(db_session)
    now = clock.now()
    db_session.execute(delete(KioskChallenge).where(KioskChallenge.expires_at < now - timedelta(days=1)))
    row = KioskChallenge(nonce=secrets.token_hex(16), action=secrets.choice(allowed_challenges()).value,
                         kiosk=actor.username, issued_at=now, expires_at=now + CHALLENGE_TTL)
    db_session.add(row)
    db_session.commit()
    return row


def prompt(action: str) -> str:
    return CHALLENGE_PROMPTS[Challenge(action)]


def consume_challenge(db_session: Session, actor: Actor, nonce: str | None) -> str:
    """Use a challenge once; returns its action. Unknown, expired, used or another kiosk's: 409."""
    now = clock.now()
    if nonce:
        used = db_session.execute(
            update(KioskChallenge)
            .where(KioskChallenge.nonce == nonce, KioskChallenge.kiosk == actor.username,
                   KioskChallenge.used_at.is_(None), KioskChallenge.expires_at >= now)
            .values(used_at=now).execution_options(synchronize_session=False)).rowcount
        if used == 1:
            row = db_session.get(KioskChallenge, nonce)
            assert row is not None
            return row.action
    raise DomainError("动作指令已失效，请重新开始签到", code="challenge_invalid", status=409)


@dataclass(frozen=True, slots=True)
class Duty:
    title: str
    due: date | None
    kind: str  # checkin | rollcall | task


@dataclass(frozen=True, slots=True)
class KioskWelcome:
    name: str  # masked for a minor
    next_checkin: date | None
    duties: list[Duty]


def welcome(*, db_session: Session, checkin_id: int) -> KioskWelcome:
    """The pending duties of whoever just passed check-in ``checkin_id`` at this kiosk."""
    from zhijiao.checkins.service import checkin_due  # here: the service imports this module

    actor = _kiosk(db_session)
    # The kiosk sees no case file: the lookups below are the visible, narrow exception.
    system = {"skip_scope": True}
    checkin = db_session.execute(select(CheckIn).where(CheckIn.id == checkin_id).execution_options(**system)) \
        .scalar_one_or_none()
    if (checkin is None or not checkin.matched or checkin.actor_name != actor.username
            or checkin.subject_id is None or clock.now() - checkin.at > RESULT_VISIBLE):
        raise NotFound("签到结果已过期", code="checkin_not_found")
    subject = db_session.execute(select(Subject).where(Subject.id == checkin.subject_id)
                                 .execution_options(**system)).unique().scalar_one()
    today = clock.today_local()
    due = checkin_due(subject.supervision_level, checkin.at, subject.correction_start_date)
    next_checkin = clock.to_local(due).date() if due else None
    duties = [Duty("视频点名待应答（请在手机上完成）", clock.to_local(rc.deadline).date(), "rollcall")
              for rc in db_session.execute(select(RollCall).where(
                  RollCall.subject_id == subject.id, RollCall.status == RollCallStatus.pending,
                  RollCall.deadline >= clock.now()).execution_options(**system)).scalars()]
    duties += [Duty(t.title, t.due_on, "task") for t in db_session.execute(
        select(Task).where(Task.subject_id == subject.id, Task.status == "open", Task.kind == "duty",
                           Task.due_on <= today + timedelta(days=31)).order_by(Task.due_on).limit(8)
        .execution_options(**system)).scalars()]
    return KioskWelcome(name=subjects_service.display_name(subject), next_checkin=next_checkin, duties=duties)


def courses() -> list[str]:
    return [c.strip() for c in str(settings_service.value("rules.kiosk_courses")).split("|") if c.strip()]
