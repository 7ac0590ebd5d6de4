"""API schemas of electronic positioning."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from zhijiao.monitoring.positioning import Trigger


class DeviceKind(enum.StrEnum):
    bracelet = "bracelet"
    phone = "phone"


class DeviceProtocol(enum.StrEnum):
    jt808 = "jt808"
    mqtt = "mqtt"
    http = "http"


class DeviceCreate(BaseModel):
    kind: DeviceKind
    protocol: DeviceProtocol
    ident: str = Field(min_length=3, max_length=32, pattern=r"^[0-9A-Za-z_.:-]+$",
                       description="JT/T 808 终端手机号，或 MQTT/HTTP 设备编号")
    model_profile: str = Field(default="default_bracelet", max_length=32)
    secret: str | None = Field(default=None, min_length=6, max_length=64,
                               description="鉴权码/设备令牌；省略时自动生成并只返回一次")
    note: str | None = Field(default=None, max_length=200)


class DeviceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    protocol: str
    ident: str
    model_profile: str
    active: bool
    last_seen_at: datetime | None
    last_fix_at: datetime | None
    battery_pct: int | None


class DeviceCreated(DeviceRead):
    secret: str | None = Field(default=None, description="仅在创建时返回一次")


class DeviceListItem(DeviceRead):
    note: str | None = None
    online: bool = Field(default=False, description="最近 10 分钟内有数据")
    subject_id: int | None = Field(default=None, description="当前绑定的对象（不在管辖范围内时为空）")
    subject_name: str | None = None
    bound_elsewhere: bool = Field(default=False, description="正由其他司法所的对象使用")
    bound_at: datetime | None = None


class UnbindIn(BaseModel):
    reason: str = Field(min_length=2, max_length=200, description="解除绑定的原因")


class BindingCreate(BaseModel):
    device_id: int | None = Field(default=None, ge=1, le=2**53)
    ident: str | None = Field(default=None, max_length=32)


class BindingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    device_id: int
    subject_id: int
    start_at: datetime
    end_at: datetime | None
    bound_by: str
    unbound_by: str | None = None
    unbind_reason: str | None = None
    device: DeviceRead


class OrderCreate(BaseModel):
    trigger: Trigger = Field(description="社区矫正法第二十九条所列五种情形之一")
    start_date: date
    end_date: date
    reason: str = Field(min_length=4, max_length=2000, description="事实与理由")
    extends_id: int | None = Field(default=None, ge=1, le=2**53, description="延长时填写原审批编号")


class ProposalCreate(BaseModel):
    """The office's proposal (提请) to use electronic positioning, for the bureau's head to decide."""

    trigger: Trigger = Field(description="社区矫正法第二十九条所列五种情形之一")
    start_date: date = Field(ge=date(2000, 1, 1), le=date(2099, 12, 31))
    end_date: date = Field(ge=date(2000, 1, 1), le=date(2099, 12, 31), description="每次不超过三个月")
    reason: str = Field(min_length=4, max_length=2000, description="事实与理由")
    extends_id: int | None = Field(default=None, ge=1, le=2**53, description="提请延长时填写原审批编号")


class OrderDecisionIn(BaseModel):
    decision: Literal["approve", "refuse"]
    note: str | None = Field(default=None, max_length=500, description="审批意见；不予批准时必填理由")


ORDER_STATUS_LABELS = {"proposed": "待审批", "approved": "已批准", "refused": "不予批准"}


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_id: int
    trigger: str
    trigger_label: str = ""
    kind: str
    extends_id: int | None
    start_date: date
    end_date: date
    status: str = "approved"
    status_label: str = ""
    proposed_by_name: str | None = None
    proposed_at: datetime | None = None
    approved_by_name: str | None
    approved_at: datetime | None
    decision_note: str | None = None
    reason: str
    revoked_at: datetime | None
    revoke_reason: str | None = None
    subject_name: str | None = None
    office_name: str | None = None
    document_id: int | None = Field(default=None, description="使用电子定位装置决定书")
    document_number: str | None = None


class ExpiringOrder(BaseModel):
    subject_id: int
    subject_name: str
    office_name: str
    end_date: date
    days_left: int


class ZoneCreate(BaseModel):
    name: str = Field(min_length=2, max_length=64)
    kind: Literal["permitted", "exclusion"]
    subject_id: int | None = Field(default=None, ge=1, le=2**53, description="省略表示适用于全体（或 office_id 所指司法所的全部对象）")
    office_id: int | None = Field(default=None, ge=1, le=2**53, description="不指定对象时：仅适用于该司法所的对象")
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon/MultiPolygon，或 Point 加 radius_m 的圆")
    radius_m: float | None = Field(default=None, gt=0, le=100_000)
    datum: Literal["wgs84", "gcj02"] = "wgs84"
    schedule: list[dict[str, Any]] | None = Field(
        default=None, max_length=20,
        description='生效时段，如 [{"weekdays":[0,1,2,3,4],"start":"08:00","end":"18:00"}]（北京时间）',
    )
    source: str | None = Field(default=None, max_length=64, description="来源，如 禁止令")


class ZoneUpdate(BaseModel):
    """A change to a zone (PATCH): only the fields sent change; ``active: false`` disables it."""

    name: str | None = Field(default=None, min_length=2, max_length=64)
    kind: Literal["permitted", "exclusion"] | None = None
    subject_id: int | None = Field(default=None, ge=1, le=2**53, description="null 表示适用于全体或某司法所")
    office_id: int | None = Field(default=None, ge=1, le=2**53, description="不指定对象时：仅适用于该司法所的对象")
    geometry: dict[str, Any] | None = None
    radius_m: float | None = Field(default=None, gt=0, le=100_000)
    datum: Literal["wgs84", "gcj02"] = "wgs84"
    schedule: list[dict[str, Any]] | None = Field(default=None, max_length=20, description="[] 或 null 表示全天生效")
    source: str | None = Field(default=None, max_length=64)
    active: bool | None = None


class FixRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    fix_time: datetime
    received_at: datetime
    lat: float
    lon: float
    accuracy_m: float | None
    source: str
    speed_kmh: float | None
    battery_pct: int | None
    flags: int


class HttpFixIn(BaseModel):
    """A position from the subject's phone page (POST /api/v1/fixes)."""

    device: str = Field(min_length=3, max_length=32)
    fix_time: datetime
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    source: Literal["gnss", "cell", "wifi"] = "gnss"
    speed_kmh: float | None = Field(default=None, ge=0, le=1000)
    battery_pct: int | None = Field(default=None, ge=0, le=100)


class AlarmRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_id: int
    type: str
    label: str = ""
    severity: int
    status: str
    verdict: str | None
    retrospective: bool
    past_episode: bool = Field(default=False, description="事后补报的已结束事件：补传数据中的一段经过，另有同类告警未关闭时单独成警")
    episode_start: datetime
    episode_end: datetime | None
    last_at: datetime
    opened_at: datetime
    occurrences: int
    lat: float | None
    lon: float | None
    details: dict[str, Any] | None
    escalated_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    verified_at: datetime | None
    verified_by: str | None
    closed_at: datetime | None
    note: str | None
    response_seconds: int | None


class AlarmActionIn(BaseModel):
    action: Literal["acknowledge", "verify", "close", "dispatch", "note"]
    verdict: Literal["confirmed", "false_alarm"] | None = None
    note: str | None = Field(default=None, max_length=2000)
    dispatch_to: int | None = Field(default=None, ge=1, le=2**53)
