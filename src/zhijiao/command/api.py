"""Command-center API: today's numbers, alarm charts, duty supervision, cameras."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.command import service as command_service
from zhijiao.command.schemas import (
    AlarmBreakdown,
    CameraCreate,
    CameraRead,
    CameraUpdate,
    CommandStats,
    DutyBoard,
    DutyItem,
    LocationKind,
)

router = APIRouter(tags=["command"])


@router.get("/command/stats", response_model=CommandStats, summary="指挥中心今日数据")
def stats(db_session: ScopedDb) -> CommandStats:
    return command_service.stats(db_session=db_session)


@router.get("/command/alarm-breakdown", response_model=AlarmBreakdown, summary="告警统计（按类型、司法所、日期）")
def alarm_breakdown(db_session: ScopedDb, days: Annotated[int, Query(ge=1, le=366)] = 30) -> AlarmBreakdown:
    return command_service.alarm_breakdown(db_session=db_session, days=days)


@router.get("/command/duty", response_model=DutyBoard, summary="工作督察：各司法所与工作人员排名")
def duty(db_session: ScopedDb) -> DutyBoard:
    return command_service.duty_board(db_session=db_session)


@router.get("/command/duty/items", response_model=list[DutyItem], summary="工作督察明细")
def duty_items(
    db_session: ScopedDb,
    metric: Annotated[str | None, Query(max_length=32)] = None,
    office_id: Annotated[int | None, Query(ge=1, le=2**53)] = None,
    staff_id: Annotated[int | None, Query(ge=1, le=2**53)] = None,
) -> list[DutyItem]:
    return command_service.duty_items(db_session=db_session, metric=metric, office_id=office_id, staff_id=staff_id)


@router.get("/cameras", response_model=list[CameraRead], summary="视频设备列表")
def list_cameras(db_session: ScopedDb, location_kind: LocationKind | None = None) -> list[CameraRead]:
    return [command_service.camera_read(c) for c in command_service.list_cameras(
        db_session=db_session, location_kind=location_kind.value if location_kind else None)]


@router.post("/cameras", response_model=CameraRead, status_code=201, summary="登记视频设备")
def create_camera(db_session: ScopedDb, camera_in: CameraCreate) -> CameraRead:
    return command_service.camera_read(command_service.create_camera(db_session=db_session, camera_in=camera_in))


@router.get("/cameras/{camera_id}", response_model=CameraRead, summary="视频设备")
def get_camera(db_session: ScopedDb, camera_id: IdPath) -> CameraRead:
    return command_service.camera_read(command_service.get_camera(db_session=db_session, camera_id=camera_id))


@router.patch("/cameras/{camera_id}", response_model=CameraRead, summary="修改视频设备（地址、状态、停用）")
def update_camera(db_session: ScopedDb, camera_id: IdPath, camera_in: CameraUpdate) -> CameraRead:
    return command_service.camera_read(
        command_service.update_camera(db_session=db_session, camera_id=camera_id, camera_in=camera_in))
