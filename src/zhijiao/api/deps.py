"""Request-scoped dependencies: the database session and the acting user."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from zhijiao.db import session as db
from zhijiao.security import addresses, auth
from zhijiao.security.actor import Actor

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def client_ip(request: Request) -> str | None:
    """The client's address; X-Forwarded-For only from ``ZHIJIAO_TRUSTED_PROXIES``."""
    peer = request.client.host if request.client else None
    return addresses.client_address(peer, request.headers.get("x-forwarded-for"))


def request_id(request: Request) -> str:
    rid = getattr(request.state, "request_id", None)
    if rid is None:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.state.request_id = rid
    return rid[:64]


def get_db() -> Iterator[Session]:
    db.get_engine()
    session = db.SessionLocal()
    try:
        yield session
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_db)]


def current_actor(request: Request, session: DbSession, token: Annotated[str | None, Depends(oauth2)]) -> Actor:
    actor = auth.resolve(session, token, request_id=request_id(request), client_ip=client_ip(request))
    session.info["actor"] = actor
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def restricted_actor(request: Request, session: DbSession, token: Annotated[str | None, Depends(oauth2)]) -> Actor:
    """For the routes a restricted login may use: enrol a second factor, change the password."""
    actor = auth.resolve(session, token, request_id=request_id(request), client_ip=client_ip(request),
                         allow_restricted=True)
    session.info["actor"] = actor
    return actor


RestrictedActor = Annotated[Actor, Depends(restricted_actor)]
BearerToken = Annotated[str | None, Depends(oauth2)]


def scoped_db(session: DbSession, _actor: CurrentActor) -> Session:
    """The request's session, with the authenticated actor bound for scoping and audit."""
    return session


ScopedDb = Annotated[Session, Depends(scoped_db)]


# Path ids are bounded so a huge number is a 422, not a database overflow.
IdPath = Annotated[int, Path(ge=1, le=2**53, description="对象编号")]
