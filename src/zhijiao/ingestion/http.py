"""HTTP input: positions from the subject's phone page, and the broker's device-auth hooks.

``POST /api/v1/fixes`` with ``Authorization: Device <token>`` (the device's secret, shown once
when the device was registered) and an :class:`~zhijiao.monitoring.schemas.HttpFixIn` body. The
device must be a registered, active ``http`` device; any other case is the same 401, so the
endpoint does not tell which device numbers exist.

The answer comes only after the commit, through the same pipeline as every other input:

- in a process that runs the device inputs (``app.state.ingestion``, ``ZHIJIAO_JT808_ENABLED``),
  the fix joins that pipeline's batches: **202**, stored, rules evaluated right after; with
  ``ZHIJIAO_EVENT_STREAM=nats://…`` it is published to JetStream instead: **202** after the PubAck
  (``status: queued``), stored and evaluated by a worker;
- in an API-only process (the device gateways run elsewhere, or in tests) there is no running
  pipeline to join. Rather than start background tasks that the app's lifespan does not own, the
  app keeps one idle :class:`~zhijiao.ingestion.pipeline.Pipeline` and runs its store and rules
  stages in the request's worker thread (:meth:`Pipeline.process_now`): **200**, stored and
  evaluated. Its rule state lives as long as the app, like the running pipeline's.

``POST /api/v1/mqtt/auth`` and ``/api/v1/mqtt/acl`` are for a broker that authenticates devices
itself (EMQX's HTTP authenticator and authorizer): MQTT username = device id, password = its
secret, and a device may publish only on its own ``<prefix>/devices/<id>/fix``. They answer
``{"result": "allow" | "deny"}``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field

from zhijiao.config import get_settings
from zhijiao.core import clock
from zhijiao.core.errors import InvalidInput, Unauthorized
from zhijiao.ingestion.directory import DeviceEntry, Directory, check_secret
from zhijiao.core.fix import Fix, FixSource, from_the_future
from zhijiao.ingestion.pipeline import Pipeline
from zhijiao.monitoring.schemas import HttpFixIn

router = APIRouter(tags=["ingestion"])

_SCHEME = "device"


class FixAccepted(BaseModel):
    status: Literal["stored", "duplicate", "queued"] = Field(
        description="stored：已入库；duplicate：此前已收到（同设备同时间）；queued：已写入消息流（多机部署），由处理节点入库")
    evaluated: bool = Field(description="告警规则是否已完成判断（否则入库后随即判断）")


class BrokerAuthIn(BaseModel):
    username: str = Field(default="", max_length=64)
    password: str = Field(default="", max_length=128)
    clientid: str | None = Field(default=None, max_length=128)


class BrokerAclIn(BaseModel):
    username: str = Field(default="", max_length=64)
    topic: str = Field(default="", max_length=256)
    action: str = Field(default="", max_length=16)


class BrokerAnswer(BaseModel):
    result: Literal["allow", "deny"]


def _refused() -> Unauthorized:
    return Unauthorized("设备认证失败", code="device_unauthorized")


def _token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != _SCHEME or not token.strip():
        raise _refused()
    return token.strip()


def _local(app: Any) -> Pipeline:
    """The app's idle pipeline for API-only processes (see the module docstring)."""
    pipeline = getattr(app.state, "http_pipeline", None)
    if pipeline is None:
        pipeline = app.state.http_pipeline = Pipeline()
    return pipeline


def _directory(request: Request) -> Directory:
    ingestion = getattr(request.app.state, "ingestion", None)
    return ingestion.directory if ingestion is not None else _local(request.app).directory


async def _entry(request: Request, ident: str) -> DeviceEntry | None:
    return await asyncio.to_thread(_directory(request).get, ident)


@router.post("/fixes", response_model=FixAccepted, status_code=202, summary="手机定位上报（设备令牌认证）",
             responses={200: {"model": FixAccepted, "description": "已入库并完成告警判断"},
                        202: {"description": "已入库，告警判断随后进行"}, 401: {"description": "设备认证失败"},
                        422: {"description": "输入有误（如定位时间晚于服务器时间）"}})
async def post_fix(request: Request, response: Response, fix_in: HttpFixIn,
                   authorization: Annotated[str | None, Header()] = None) -> FixAccepted:
    token = _token(authorization)
    entry = await _entry(request, fix_in.device)
    if entry is None or entry.protocol != "http" or not check_secret(entry, token):
        raise _refused()
    if fix_in.fix_time.tzinfo is None:
        raise InvalidInput("定位时间必须带时区", code="timezone_required", fields={"fix_time": "时间必须带时区"})
    if from_the_future(clock.ensure_utc(fix_in.fix_time)):
        raise InvalidInput("定位时间晚于服务器时间，已拒收（请检查终端时钟）", code="fix_time_in_future",
                           fields={"fix_time": "晚于当前时间"})
    fix = Fix(device_ident=entry.ident, fix_time=clock.ensure_utc(fix_in.fix_time), lat=fix_in.lat, lon=fix_in.lon,
              source=FixSource(fix_in.source), accuracy_m=fix_in.accuracy_m, speed_kmh=fix_in.speed_kmh,
              battery_pct=fix_in.battery_pct, received_at=clock.now(), extras={"protocol": "http"})
    ingestion = getattr(request.app.state, "ingestion", None)
    if ingestion is not None and ingestion.pipeline is None:  # scaled: durable in JetStream
        await ingestion.sink.submit([fix])
        return FixAccepted(status="queued", evaluated=False)
    if ingestion is not None:
        new = await ingestion.pipeline.submit([fix])
        evaluated = False
    else:
        new = await asyncio.to_thread(_local(request.app).process_now, [fix])
        evaluated = True
        response.status_code = 200
    return FixAccepted(status="stored" if new else "duplicate", evaluated=evaluated)


@router.post("/mqtt/auth", response_model=BrokerAnswer, summary="MQTT 设备认证（供 EMQX HTTP 认证器调用）")
async def mqtt_auth(request: Request, auth_in: BrokerAuthIn) -> BrokerAnswer:
    entry = await _entry(request, auth_in.username) if auth_in.username else None
    ok = entry is not None and entry.protocol == "mqtt" and check_secret(entry, auth_in.password)
    return BrokerAnswer(result="allow" if ok else "deny")


@router.post("/mqtt/acl", response_model=BrokerAnswer, summary="MQTT 设备授权：只能向本设备主题发布")
async def mqtt_acl(acl_in: BrokerAclIn) -> BrokerAnswer:
    prefix = "zhijiao"
    url = get_settings().mqtt_url
    if url:
        from zhijiao.ingestion.mqtt import MqttOptions

        prefix = MqttOptions.from_url(url).prefix
    ok = (acl_in.action == "publish" and bool(acl_in.username)
          and acl_in.topic == f"{prefix}/devices/{acl_in.username}/fix")
    return BrokerAnswer(result="allow" if ok else "deny")
