"""API schemas of the command center: statistics, charts, duty supervision, cameras."""

from __future__ import annotations

import enum
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError


class LocationKind(enum.StrEnum):
    center_room = "center_room"  # 中心监控室
    office = "office"  # 司法所
    vehicle = "vehicle"  # 执法车载
    street = "street"  # 街面（雪亮工程）


class CameraStatus(enum.StrEnum):
    online = "online"
    offline = "offline"
    unknown = "unknown"


class StreamProtocol(enum.StrEnum):
    hls = "hls"
    flv = "flv"
    rtsp = "rtsp"
    other = "other"


LOCATION_LABELS = {LocationKind.center_room: "中心监控室", LocationKind.office: "司法所",
                   LocationKind.vehicle: "车载", LocationKind.street: "街面"}
CAMERA_STATUS_LABELS = {CameraStatus.online: "在线", CameraStatus.offline: "离线", CameraStatus.unknown: "未知"}


def protocol_of(url: str) -> StreamProtocol:
    lower = url.lower().split("?", 1)[0]
    if lower.startswith("rtsp://"):
        return StreamProtocol.rtsp
    if lower.endswith(".m3u8"):
        return StreamProtocol.hls
    if lower.endswith(".flv"):
        return StreamProtocol.flv
    return StreamProtocol.other


def gb_device_id(value: str | None) -> str | None:
    """A GB/T 28181 device code: 20 digits (centre, industry, type and serial), or none."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) != 20 or not value.isdigit():
        raise PydanticCustomError("gb_device_id", "国标编码须为 20 位数字（GB/T 28181）")
    return value


class CameraBase(BaseModel):
    name: str = Field(min_length=1, max_length=64, description="名称，如“指挥中心 1 号机”")
    location_kind: LocationKind
    office_id: int | None = Field(default=None, ge=1, le=2**53, description="所属司法所；中心设备为空")
    stream_url: str = Field(min_length=8, max_length=500, description="HLS (.m3u8) 或 HTTP-FLV 地址")
    stream_protocol: StreamProtocol | None = Field(default=None, description="省略时按地址推断")
    gb_device_id: str | None = Field(default=None, max_length=20, description="GB/T 28181 设备编码（20 位数字）")
    address: str | None = Field(default=None, max_length=200, description="安装地点")
    note: str | None = Field(default=None, max_length=200)

    _gb = field_validator("gb_device_id")(classmethod(lambda cls, v: gb_device_id(v)))

    @field_validator("stream_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.lower().startswith(("http://", "https://", "rtsp://")):
            raise ValueError("视频地址须以 http://、https:// 或 rtsp:// 开头")
        return value


class CameraCreate(CameraBase):
    status: CameraStatus = CameraStatus.unknown


class CameraUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=64)
    location_kind: LocationKind | None = None
    office_id: int | None = Field(default=None, ge=0, le=2**53, description="0 表示不属于任何司法所")
    stream_url: str | None = Field(default=None, min_length=8, max_length=500)
    gb_device_id: str | None = Field(default=None, max_length=20, description="空字符串表示清除")
    address: str | None = Field(default=None, max_length=200)
    status: CameraStatus | None = None
    active: bool | None = None
    note: str | None = Field(default=None, max_length=200)

    _gb = field_validator("gb_device_id")(
        classmethod(lambda cls, v: v if v == "" else gb_device_id(v)))

    @field_validator("stream_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else CameraBase._url(value)


class CameraRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    location_kind: str
    office_id: int | None
    office_name: str | None = None
    stream_url: str
    stream_protocol: str
    status: str
    status_at: datetime | None
    source: str
    gb_device_id: str | None
    address: str | None = None
    note: str | None
    active: bool


# --- statistics ---------------------------------------------------------------------------------


class PluggedStat(BaseModel):
    """A number another module provides (check-ins, roll calls); ``available`` is False until it lands."""

    key: str
    label: str
    done: int = 0
    due: int = 0
    available: bool = True


class CommandStats(BaseModel):
    day: date
    subjects_total: int = Field(description="在册人数（待接收、已报到、在矫）")
    subjects_by_status: dict[str, int]
    subjects_by_level: dict[str, int] = Field(description="在矫人员的管理等级")
    subjects_hidden_active: int = Field(0, description="辖区内另有的未成年人档案（仅责任人可见），未计入在册人数")
    subjects_hidden_sealed: int = Field(0, description="辖区内另有的解除矫正后封存的未成年人档案，未计入")
    devices_bound: int
    devices_online: int = Field(description="10 分钟内有定位的在用设备")
    alarms_open: int
    alarms_opened_today: int
    alarms_closed_today: int
    mean_response_s: float | None = Field(description="今日已接警告警的平均响应时间（秒）")
    plugged: list[PluggedStat]


class CountItem(BaseModel):
    key: str
    label: str
    count: int


class AlarmBreakdown(BaseModel):
    days: int
    since: date
    by_type: list[CountItem]
    by_office: list[CountItem]
    by_day: list[CountItem]


# --- duty supervision (工作督察) ------------------------------------------------------------------


class DutyMetricInfo(BaseModel):
    key: str
    label: str
    weight: float


class DutyItem(BaseModel):
    """One thing not done in time, attributed to an office and (where known) an officer."""

    metric: str
    office_id: int
    staff_id: int | None
    subject_id: int | None
    subject_name: str | None
    title: str
    at: datetime | date | None = None
    ref: str | None = Field(default=None, description="链接，如 /command/alarms/12")


class DutyOfficer(BaseModel):
    staff_id: int | None
    name: str
    counts: dict[str, int]
    score: float


class DutyOffice(BaseModel):
    office_id: int
    name: str
    counts: dict[str, int]
    score: float
    rank: int
    officers: list[DutyOfficer]


class DutyBoard(BaseModel):
    generated_at: datetime
    metrics: list[DutyMetricInfo]
    offices: list[DutyOffice]
