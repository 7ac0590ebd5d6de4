from __future__ import annotations

from typing import Annotated

from datetime import datetime

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from fastapi.security import OAuth2PasswordRequestForm

from zhijiao.api.deps import BearerToken, DbSession, RestrictedActor, ScopedDb, client_ip, oauth2, request_id
from zhijiao.core.pagination import Page
from zhijiao.security import auth
from zhijiao.security import service as security_service
from zhijiao.security.schemas import AuditEventRead, PasswordChange, TokenRead, TotpConfirm, TotpEnrolmentRead

router = APIRouter()


@router.post("/auth/token", response_model=TokenRead, tags=["auth"], summary="登录获取令牌")
def issue_token(
    request: Request,
    db_session: DbSession,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    otp: Annotated[str | None, Form(max_length=10, description="动态口令（TOTP）")] = None,
) -> TokenRead:
    result = auth.login(
        db_session, username=form.username, password=form.password, otp=otp, kind="api",
        client_ip=client_ip(request), request_id=request_id(request),
    )
    return TokenRead(access_token=result.token, expires_at=result.expires_at, restriction=result.restriction)


@router.post("/auth/totp/enrol", response_model=TotpEnrolmentRead, tags=["auth"], summary="开始绑定动态口令")
def totp_enrol(db_session: DbSession, actor: RestrictedActor) -> TotpEnrolmentRead:
    secret, uri = auth.begin_totp_enrolment(db_session, actor)
    return TotpEnrolmentRead(secret=secret, otpauth_uri=uri)


@router.post("/auth/totp/confirm", status_code=204, tags=["auth"], summary="确认绑定动态口令")
def totp_confirm(db_session: DbSession, actor: RestrictedActor, token: BearerToken, body: TotpConfirm) -> None:
    auth.confirm_totp_enrolment(db_session, actor, token or "", body.code)


@router.post("/auth/password", status_code=204, tags=["auth"], summary="修改密码")
def change_password(db_session: DbSession, actor: RestrictedActor, token: BearerToken, body: PasswordChange) -> None:
    auth.change_password(db_session, actor, token or "", current=body.current_password, new=body.new_password)


@router.post("/auth/logout", status_code=204, tags=["auth"], summary="退出登录")
def logout(db_session: ScopedDb, token: Annotated[str | None, Depends(oauth2)]) -> None:
    if token:
        auth.logout(db_session, token)


@router.get("/audit-events", response_model=Page[AuditEventRead], tags=["audit"], summary="审计日志（审计管理员）")
def list_audit_events(
    db_session: ScopedDb,
    object_type: Annotated[str | None, Query(max_length=64)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[AuditEventRead]:
    return security_service.list_audit_events(
        db_session=db_session, object_type=object_type, object_id=object_id, actor_name=actor,
        action=action, page=page, size=size,
    )


@router.get("/audit-events/export", tags=["audit"], summary="导出审计日志 CSV（审计管理员）",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export_audit_events(
    db_session: ScopedDb,
    object_type: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Response:
    body = security_service.export_audit_events(db_session=db_session, object_type=object_type, since=since,
                                                until=until)
    return Response(body.encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": "attachment; filename=audit-events.csv"})
