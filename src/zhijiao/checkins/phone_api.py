"""The subject's phone page API (/api/v1/m/…): login, check-in, roll calls. Subject tokens only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from zhijiao.api.deps import DbSession, IdPath, ScopedDb, client_ip
from zhijiao.checkins import service as checkins_service
from zhijiao.checkins.api import answer_with_frames, read_frames
from zhijiao.checkins.schemas import CheckInResult, CheckInSource, RollCallRead
from zhijiao.security import auth
from zhijiao.security.actor import Actor
from zhijiao.security.permissions import Perm, require
from zhijiao.subjects import service as subjects_service

router = APIRouter(prefix="/m", tags=["phone"])
staff_router = APIRouter(tags=["phone"])
_bearer = HTTPBearer(auto_error=False)


def subject_db(request: Request, db: DbSession,
               creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Session:
    db.info["actor"] = auth.resolve_subject(db, creds.credentials if creds else None, client_ip=client_ip(request))
    return db


SubjectDb = Annotated[Session, Depends(subject_db)]


class PhoneLogin(BaseModel):
    id_number: str = Field(min_length=15, max_length=20)
    password: str = Field(min_length=1, max_length=128)


class PhonePassword(BaseModel):
    password: str = Field(min_length=1, max_length=128)


@router.post("/login", summary="对象手机端登录（身份证号 + 密码）")
def login(request: Request, db_session: DbSession, body: PhoneLogin) -> dict:
    result = auth.login_subject(db_session, id_number=body.id_number, password=body.password,
                                client_ip=client_ip(request))
    return {"access_token": result.token, "token_type": "bearer", "expires_at": result.expires_at}


@router.post("/logout", status_code=204, summary="对象手机端退出登录")
def logout(db_session: SubjectDb, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    auth.logout_subject(db_session, creds.credentials if creds else "")


@router.post("/checkins", response_model=CheckInResult, status_code=201, summary="手机签到（自拍连拍 + 定位）")
async def phone_checkin(
    db_session: SubjectDb,
    images: Annotated[list[UploadFile], File()],
    challenge: Annotated[str | None, Form(max_length=16)] = None,
    lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Form(ge=-180, le=180)] = None,
    mirrored: Annotated[bool, Form()] = False,  # the phone page sends camera frames, un-mirrored
) -> CheckInResult:
    frames = await read_frames(images)
    actor: Actor = db_session.info["actor"]
    req = checkins_service.CheckInRequest(source=CheckInSource.phone, images=frames, subject_id=actor.subject_id,
                                          challenge=challenge, lat=lat, lon=lon, mirrored=mirrored)
    return await run_in_threadpool(checkins_service.check_in, db_session=db_session, req=req)


@router.get("/rollcalls/pending", response_model=list[RollCallRead], summary="待应答的点名")
def pending_rollcalls(db_session: SubjectDb) -> list[RollCallRead]:
    return [RollCallRead.model_validate(r) for r in checkins_service.pending_for_subject(db_session=db_session)]


@router.post("/rollcalls/{rollcall_id}/answer", response_model=RollCallRead, summary="应答点名")
async def answer(
    db_session: SubjectDb,
    rollcall_id: IdPath,
    images: Annotated[list[UploadFile], File()],
    challenge: Annotated[str | None, Form(max_length=16)] = None,
    lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Form(ge=-180, le=180)] = None,
    mirrored: Annotated[bool, Form()] = False,  # the phone page sends camera frames, un-mirrored
) -> RollCallRead:
    return await answer_with_frames(db_session=db_session, rollcall_id=rollcall_id, images=images,
                                    challenge=challenge, lat=lat, lon=lon, mirrored=mirrored)


@staff_router.post("/subjects/{subject_id}/phone-password", status_code=204, summary="设置对象手机端密码（报到时）")
def set_phone_password(db_session: ScopedDb, subject_id: IdPath, body: PhonePassword) -> None:
    actor = require(db_session.info.get("actor"), Perm.subjects_write)
    subject = subjects_service.get(db_session=db_session, subject_id=subject_id)
    auth.set_subject_password(db_session, subject_id=subject.id, password=body.password, actor=actor)
