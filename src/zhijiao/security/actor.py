"""Who is acting: carried on the SQLAlchemy session (``session.info['actor']``).

The session, not a ContextVar, carries the actor because FastAPI runs sync
dependencies and endpoints in different worker threads; the session object is the one
thing every service call already receives.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy.orm import Session


class ActorKind(enum.StrEnum):
    staff = "staff"
    system = "system"
    kiosk = "kiosk"
    subject = "subject"
    device = "device"


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # an ActorKind
    username: str
    staff_id: int | None = None
    role: str | None = None
    office_id: int | None = None
    subject_id: int | None = None
    request_id: str | None = None
    client_ip: str | None = None

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(kind=ActorKind.system, username=f"system:{job}")

    @property
    def is_system(self) -> bool:
        return self.kind == ActorKind.system


def get_actor(session: Session) -> Actor | None:
    return session.info.get("actor")


def bind_actor(session: Session, actor: Actor) -> Session:
    session.info["actor"] = actor
    return session
