from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.checkins import kiosk
from zhijiao.checkins import service as checkins_service
from zhijiao.checkins.enrolment import service as enrolment_service
from zhijiao.checkins.schemas import (
    ChallengeRead,
    CheckInRead,
    CheckInResult,
    CheckInSource,
    EnrolmentRead,
    GateIssueRead,
    GateRead,
    IdentityRead,
    KioskWelcomeRead,
    PhoneLoginRevoked,
    PhonePasswordIssued,
    RollCallCreate,
    RollCallRead,
    RollCallStatus,
)
from zhijiao.config import get_settings
from zhijiao.core.errors import TooLarge

router = APIRouter(tags=["checkins"])


async def _read(upload: UploadFile) -> bytes:
    """Read an upload, refusing more than the per-file limit before holding it all."""
    limit = get_settings().max_upload_bytes
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"单个文件不能超过 {limit // (1024 * 1024)} MB", code="image_too_large")
    return data


async def read_frames(images: list[UploadFile]) -> list[bytes]:
    """A burst of frames, bounded in count and in size per file."""
    if len(images) > 30:
        raise TooLarge("一次最多上传 30 张照片", code="too_many_images")
    return [await _read(i) for i in images]


@router.post("/subjects/{subject_id}/face", response_model=EnrolmentRead, status_code=201, summary="采集人脸")
async def enrol_face(db_session: ScopedDb, subject_id: IdPath, image: Annotated[UploadFile, File()]) -> EnrolmentRead:
    data = await _read(image)
    enrolment = await run_in_threadpool(checkins_service.enrol, db_session=db_session, subject_id=subject_id, image=data)
    return EnrolmentRead.model_validate(enrolment)


@router.get("/subjects/{subject_id}/face", summary="人脸照片（查看将被审计）",
            response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
def face_photo(db_session: ScopedDb, subject_id: IdPath) -> Response:
    data = checkins_service.reference_photo(db_session=db_session, subject_id=subject_id)
    media = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
    return Response(data, media_type=media, headers={"cache-control": "no-store"})


@router.post("/subjects/{subject_id}/face/quality", response_model=GateRead, summary="人脸采集：检查画面质量（不保存）")
async def face_quality(db_session: ScopedDb, subject_id: IdPath, image: Annotated[UploadFile, File()]) -> GateRead:
    data = await _read(image)
    gate = await run_in_threadpool(enrolment_service.assess_photo, db_session=db_session, subject_id=subject_id,
                                   image=data)
    return GateRead(passed=gate.passed, message=gate.message, face_count=gate.face_count, face_px=gate.face_px,
                    sharpness=gate.sharpness, luminance=gate.luminance,
                    issues=[GateIssueRead(code=i.code, message=i.message) for i in gate.issues])


@router.get("/subjects/{subject_id}/identity", response_model=IdentityRead, summary="签到身份：人脸采集记录与手机登录状态")
def identity(db_session: ScopedDb, subject_id: IdPath) -> IdentityRead:
    return IdentityRead.model_validate(enrolment_service.enrolment_state(db_session=db_session, subject_id=subject_id))


@router.post("/subjects/{subject_id}/phone-login", response_model=PhonePasswordIssued, status_code=201,
             summary="开通对象手机登录（生成初始密码，只返回一次）")
def create_phone_login(db_session: ScopedDb, subject_id: IdPath) -> PhonePasswordIssued:
    return PhonePasswordIssued(password=enrolment_service.issue_phone_password(
        db_session=db_session, subject_id=subject_id, reset=False))


@router.post("/subjects/{subject_id}/phone-login/reset", response_model=PhonePasswordIssued,
             summary="重置对象手机登录密码（现有登录失效，新密码只返回一次）")
def reset_phone_login(db_session: ScopedDb, subject_id: IdPath) -> PhonePasswordIssued:
    return PhonePasswordIssued(password=enrolment_service.issue_phone_password(
        db_session=db_session, subject_id=subject_id, reset=True))


@router.delete("/subjects/{subject_id}/phone-login", response_model=PhoneLoginRevoked, summary="停用对象手机登录")
def revoke_phone_login(db_session: ScopedDb, subject_id: IdPath) -> PhoneLoginRevoked:
    return PhoneLoginRevoked(sessions_ended=enrolment_service.revoke_phone_login(db_session=db_session,
                                                                                 subject_id=subject_id))


@router.post("/checkins", response_model=CheckInResult, status_code=201, summary="签到（人脸比对 + 活体检测）")
async def check_in(
    db_session: ScopedDb,
    images: Annotated[list[UploadFile], File(description="现场抓拍（连拍，按时间顺序）")],
    source: Annotated[str, Form(pattern=f"^({'|'.join(CheckInSource)})$")],
    subject_id: Annotated[int | None, Form(ge=1, le=2**53)] = None,
    id_number: Annotated[str | None, Form(max_length=20)] = None,
    challenge: Annotated[str | None, Form(max_length=16)] = None,
    lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Form(ge=-180, le=180)] = None,
    kiosk_id: Annotated[str | None, Form(max_length=32)] = None,
    mirrored: Annotated[bool, Form()] = False,
    id_card_photo: Annotated[UploadFile | None, File(description="身份证芯片照片")] = None,
    nonce: Annotated[str | None, Form(max_length=32, description="自助终端：服务器下发的动作指令编号")] = None,
) -> CheckInResult:
    frames = await read_frames(images)
    chip = await _read(id_card_photo) if id_card_photo is not None else None
    req = checkins_service.CheckInRequest(
        source=source, images=frames, subject_id=subject_id, id_number=id_number, challenge=challenge, lat=lat,
        lon=lon, kiosk_id=kiosk_id, id_card_photo=chip, mirrored=mirrored, nonce=nonce,
    )
    return await run_in_threadpool(checkins_service.check_in, db_session=db_session, req=req)


@router.post("/checkins/challenges", response_model=ChallengeRead, status_code=201,
             summary="自助终端：领取一次性活体动作指令（90 秒内有效）")
def issue_challenge(db_session: ScopedDb) -> ChallengeRead:
    row = kiosk.issue_challenge(db_session=db_session)
    return ChallengeRead(nonce=row.nonce, action=row.action, prompt=kiosk.prompt(row.action),
                         expires_at=row.expires_at)


@router.get("/checkins/{checkin_id}/welcome", response_model=KioskWelcomeRead,
            summary="自助终端：刚签到成功者本人的待办事项（3 分钟内）")
def kiosk_welcome(db_session: ScopedDb, checkin_id: IdPath) -> KioskWelcomeRead:
    w = kiosk.welcome(db_session=db_session, checkin_id=checkin_id)
    return KioskWelcomeRead(name=w.name, next_checkin=w.next_checkin,
                            duties=[{"title": d.title, "due": d.due, "kind": d.kind} for d in w.duties],
                            courses=kiosk.courses())


@router.get("/subjects/{subject_id}/checkins", response_model=list[CheckInRead], summary="签到记录")
def list_checkins(db_session: ScopedDb, subject_id: IdPath) -> list[CheckInRead]:
    return [CheckInRead.model_validate(c) for c in checkins_service.list_checkins(db_session=db_session,
                                                                                  subject_id=subject_id)]


@router.post("/rollcalls", response_model=list[RollCallRead], status_code=201, summary="视频点名（指定或随机抽取）")
def create_rollcalls(db_session: ScopedDb, body: RollCallCreate) -> list[RollCallRead]:
    calls = checkins_service.call(db_session=db_session, subject_ids=body.subject_ids, sample=body.sample,
                                  minutes=body.minutes)
    return [RollCallRead.model_validate(c) for c in calls]


@router.get("/rollcalls", response_model=list[RollCallRead], summary="点名记录")
def list_rollcalls(
    db_session: ScopedDb,
    status: Annotated[str | None, Query(pattern=f"^({'|'.join(RollCallStatus)})$")] = None,
    subject_id: Annotated[int | None, Query(ge=1, le=2**53)] = None,
) -> list[RollCallRead]:
    return [RollCallRead.model_validate(c) for c in checkins_service.list_rollcalls(
        db_session=db_session, status=status, subject_id=subject_id)]


@router.post("/rollcalls/{rollcall_id}/answer", response_model=RollCallRead, summary="应答点名（现场抓拍 + 定位）")
async def answer_rollcall(
    db_session: ScopedDb,
    rollcall_id: IdPath,
    images: Annotated[list[UploadFile], File()],
    challenge: Annotated[str | None, Form(max_length=16)] = None,
    lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Form(ge=-180, le=180)] = None,
    mirrored: Annotated[bool, Form()] = False,  # an un-mirrored camera image, as in check_in
) -> RollCallRead:
    return await answer_with_frames(db_session=db_session, rollcall_id=rollcall_id, images=images,
                                    challenge=challenge, lat=lat, lon=lon, mirrored=mirrored)


async def answer_with_frames(*, db_session: Session, rollcall_id: int, images: list[UploadFile],
                             challenge: str | None, lat: float | None, lon: float | None,
                             mirrored: bool) -> RollCallRead:
    """A roll call answered with a live capture and location: this route's, and the phone page's
    (``/m/rollcalls/{id}/answer``); each route states its own ``mirrored`` default."""
    frames = await read_frames(images)
    req = checkins_service.CheckInRequest(source=CheckInSource.phone, images=frames, challenge=challenge, lat=lat,
                                          lon=lon, mirrored=mirrored)
    rc = await run_in_threadpool(checkins_service.answer, db_session=db_session, rollcall_id=rollcall_id, req=req)
    return RollCallRead.model_validate(rc)
