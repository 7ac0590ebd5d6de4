from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from zhijiao.api.deps import IdPath, ScopedDb
from zhijiao.core.errors import InvalidInput
from zhijiao.core.pagination import Page
from zhijiao.monitoring import alarms as alarm_service
from zhijiao.monitoring import service as monitoring_service
from zhijiao.monitoring.models import Alarm
from zhijiao.monitoring.schemas import (
    AlarmActionIn,
    AlarmRead,
    BindingCreate,
    BindingRead,
    DeviceCreate,
    DeviceCreated,
    DeviceListItem,
    ExpiringOrder,
    FixRead,
    OrderCreate,
    OrderDecisionIn,
    OrderRead,
    ProposalCreate,
    UnbindIn,
    ZoneCreate,
    ZoneUpdate,
)

router = APIRouter(tags=["monitoring"])


def _alarm(alarm: Alarm) -> AlarmRead:
    out = AlarmRead.model_validate(alarm)
    out.label = alarm_service.label(alarm.type)
    return out


@router.post("/devices", response_model=DeviceCreated, status_code=201, summary="登记定位设备")
def create_device(db_session: ScopedDb, device_in: DeviceCreate) -> DeviceCreated:
    return monitoring_service.create_device(db_session=db_session, device_in=device_in)


@router.get("/devices", response_model=Page[DeviceListItem], summary="定位设备登记册（在线、最后定位、电量）")
def list_devices(
    db_session: ScopedDb,
    q: Annotated[str | None, Query(max_length=32, description="设备编号包含")] = None,
    bound: bool | None = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Page[DeviceListItem]:
    return monitoring_service.list_devices(db_session=db_session, q=q, bound=bound, page=page, size=size)


@router.post("/subjects/{subject_id}/devices", response_model=BindingRead, status_code=201, summary="绑定设备")
def bind_device(db_session: ScopedDb, subject_id: IdPath, binding_in: BindingCreate) -> BindingRead:
    binding = monitoring_service.bind_device(db_session=db_session, subject_id=subject_id, binding_in=binding_in)
    return BindingRead.model_validate(binding)


@router.get("/subjects/{subject_id}/devices", response_model=list[BindingRead], summary="设备绑定记录")
def list_bindings(db_session: ScopedDb, subject_id: IdPath) -> list[BindingRead]:
    return [BindingRead.model_validate(b) for b in monitoring_service.list_bindings(db_session=db_session,
                                                                                      subject_id=subject_id)]


@router.delete("/subjects/{subject_id}/devices/{device_id}", response_model=BindingRead,
               summary="解除绑定（须填写原因）")
def unbind_device(db_session: ScopedDb, subject_id: IdPath, device_id: IdPath,
                  reason: Annotated[str | None, Query(max_length=200, description="解除原因（必填）")] = None,
                  ) -> BindingRead:
    return BindingRead.model_validate(monitoring_service.unbind_device(
        db_session=db_session, subject_id=subject_id, device_id=device_id, reason=reason))


@router.post("/subjects/{subject_id}/devices/{device_id}/unbind", response_model=BindingRead,
             summary="解除绑定（须填写原因）")
def unbind_device_post(db_session: ScopedDb, subject_id: IdPath, device_id: IdPath, unbind_in: UnbindIn) -> BindingRead:
    return BindingRead.model_validate(monitoring_service.unbind_device(
        db_session=db_session, subject_id=subject_id, device_id=device_id, reason=unbind_in.reason))


@router.post("/subjects/{subject_id}/positioning-orders", response_model=OrderRead, status_code=201,
             summary="电子定位审批（社区矫正法第二十九条）")
def create_order(db_session: ScopedDb, subject_id: IdPath, order_in: OrderCreate) -> OrderRead:
    return monitoring_service.order_read(db_session, monitoring_service.create_order(db_session=db_session, subject_id=subject_id,
                                                                                     order_in=order_in))


@router.get("/subjects/{subject_id}/positioning-orders", response_model=list[OrderRead], summary="电子定位审批记录")
def list_orders(db_session: ScopedDb, subject_id: IdPath) -> list[OrderRead]:
    return monitoring_service.orders_read(
        db_session, monitoring_service.list_orders(db_session=db_session, subject_id=subject_id))


@router.post("/subjects/{subject_id}/positioning-proposals", response_model=OrderRead, status_code=201,
             summary="提请使用（或延长）电子定位装置，由区司法局负责人审批")
def propose_order(db_session: ScopedDb, subject_id: IdPath, proposal_in: ProposalCreate) -> OrderRead:
    order = monitoring_service.propose_order(db_session=db_session, subject_id=subject_id, proposal_in=proposal_in)
    return monitoring_service.order_read(db_session, order)


@router.get("/positioning-orders/pending", response_model=list[OrderRead], summary="待审批的电子定位提请")
def pending_orders(db_session: ScopedDb) -> list[OrderRead]:
    return monitoring_service.orders_read(
        db_session, monitoring_service.list_orders_by(db_session=db_session, status=monitoring_service.PROPOSED))


@router.get("/positioning-orders/in-force", response_model=list[OrderRead], summary="正在使用的电子定位")
def orders_in_force(db_session: ScopedDb) -> list[OrderRead]:
    return monitoring_service.orders_read(
        db_session, monitoring_service.list_orders_by(db_session=db_session, in_force=True))


@router.post("/positioning-orders/{order_id}/decision", response_model=OrderRead,
             summary="区司法局负责人审批电子定位提请（批准生成《使用电子定位装置决定书》）")
def decide_order(db_session: ScopedDb, order_id: IdPath, decision_in: OrderDecisionIn) -> OrderRead:
    order = monitoring_service.decide_order(db_session=db_session, order_id=order_id, decision_in=decision_in)
    return monitoring_service.order_read(db_session, order)


@router.get("/positioning-orders/expiring", response_model=list[ExpiringOrder],
            summary="即将到期的电子定位（默认 7 日内，可选 15、30 日）")
def expiring_orders(db_session: ScopedDb, days: Annotated[int, Query(ge=0, le=90)] = 7) -> list[ExpiringOrder]:
    return monitoring_service.expiring_orders(db_session=db_session, within_days=days)


@router.post("/positioning-orders/{order_id}/revoke", response_model=OrderRead, summary="解除电子定位")
def revoke_order(db_session: ScopedDb, order_id: IdPath,
                 reason: Annotated[str, Body(embed=True, min_length=2, max_length=200)]) -> OrderRead:
    return monitoring_service.order_read(
        db_session, monitoring_service.revoke_order(db_session=db_session, order_id=order_id, reason=reason))


@router.post("/zones", status_code=201, summary="新建电子围栏（GeoJSON）")
def create_zone(db_session: ScopedDb, zone_in: ZoneCreate) -> dict[str, Any]:
    return monitoring_service.zone_feature(monitoring_service.create_zone(db_session=db_session, zone_in=zone_in))


@router.patch("/zones/{zone_id}", summary="修改、停用或启用电子围栏")
def update_zone(db_session: ScopedDb, zone_id: IdPath, zone_in: ZoneUpdate) -> dict[str, Any]:
    return monitoring_service.zone_feature(
        monitoring_service.update_zone(db_session=db_session, zone_id=zone_id, zone_in=zone_in))


@router.get("/zones", summary="电子围栏（GeoJSON FeatureCollection）")
def list_zones(
    db_session: ScopedDb,
    subject_id: Annotated[int | None, Query(ge=1, le=2**53)] = None,
    kind: Annotated[str | None, Query(pattern="^(permitted|exclusion)$")] = None,
) -> dict[str, Any]:
    zones = monitoring_service.list_zones(db_session=db_session, subject_id=subject_id, kind=kind)
    return {"type": "FeatureCollection", "features": [monitoring_service.zone_feature(z) for z in zones]}


@router.get("/subjects/{subject_id}/fixes", response_model=list[FixRead], summary="轨迹（查询将被审计）")
def list_fixes(db_session: ScopedDb, subject_id: IdPath, start: datetime, end: datetime) -> list[FixRead]:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("时间必须带时区，如 2026-11-28T08:00:00+08:00", code="timezone_required",
                           fields={"start": "须带时区"})
    rows = monitoring_service.track(db_session=db_session, subject_id=subject_id, start=start, end=end)
    return [FixRead.model_validate(r) for r in rows]


@router.get("/alarms", response_model=Page[AlarmRead], summary="告警")
def list_alarms(
    db_session: ScopedDb,
    subject_id: Annotated[int | None, Query(ge=1, le=2**53)] = None,
    type: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[str | None, Query(pattern="^(open|acknowledged|verified|closed)$")] = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[AlarmRead]:
    result = alarm_service.search(db_session=db_session, subject_id=subject_id, type=type, status=status,
                                  page=page, size=size)
    return Page(items=[_alarm(a) for a in result.items], total=result.total, page=page, size=size)


@router.get("/alarms/{alarm_id}", response_model=AlarmRead, summary="告警详情")
def get_alarm(db_session: ScopedDb, alarm_id: IdPath) -> AlarmRead:
    return _alarm(alarm_service.get(db_session=db_session, alarm_id=alarm_id))


@router.post("/alarms/{alarm_id}/actions", response_model=AlarmRead, summary="告警处置：接警、核查、关闭")
def act_on_alarm(db_session: ScopedDb, alarm_id: IdPath, action_in: AlarmActionIn) -> AlarmRead:
    return _alarm(alarm_service.act(db_session=db_session, alarm_id=alarm_id, action=action_in.action,
                                    verdict=action_in.verdict, note=action_in.note, dispatch_to=action_in.dispatch_to))
