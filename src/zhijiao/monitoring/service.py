"""Devices, bindings, positioning orders, zones and tracks. No HTTP; scoping by the session."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhijiao.core import clock, events, topics
from zhijiao.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from zhijiao.monitoring import geofence, positioning
from zhijiao.monitoring.models import Device, DeviceBinding, FixRecord, PositioningOrder, Zone
from zhijiao.monitoring.schemas import (
    BindingCreate,
    DeviceCreate,
    DeviceCreated,
    ExpiringOrder,
    OrderCreate,
    ZoneCreate,
    ZoneUpdate,
)
from zhijiao.org import service as org_service
from zhijiao.security import audit
from zhijiao.security.actor import Actor, ActorKind, get_actor
from zhijiao.security.permissions import Perm, has_perm, require, sees_every_office
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.models import Subject
from zhijiao.subjects.schemas import SubjectStatus

MAX_TRACK_DAYS = 31
MAX_TRACK_POINTS = 20_000


def device_secret_hash(secret: str) -> str:
    """How a device's secret (a JT/T 808 auth code, an MQTT/HTTP key) is stored and compared."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _actor(db: Session, perm: Perm) -> Actor:
    return require(get_actor(db), perm)


# --- devices ------------------------------------------------------------------------------


def create_device(*, db_session: Session, device_in: DeviceCreate) -> DeviceCreated:
    _actor(db_session, Perm.subjects_write)
    # A JT/T 808 terminal without a preset code gets one when it first registers (0x0100 → 0x8100);
    # MQTT and HTTP devices get a token now, shown once.
    generated = device_in.secret is None and device_in.protocol.value != "jt808"
    secret = device_in.secret or (secrets.token_urlsafe(12) if generated else None)
    device = Device(kind=device_in.kind.value, protocol=device_in.protocol.value, ident=device_in.ident,
                    model_profile=device_in.model_profile, secret_hash=device_secret_hash(secret) if secret else None,
                    note=device_in.note)
    db_session.add(device)
    try:
        db_session.commit()
    except IntegrityError:
        db_session.rollback()
        raise Conflict("该设备编号已登记", code="device_exists", fields={"ident": "已存在"}) from None
    events.publish(topics.DIRECTORY, {"device_id": device.id})
    out = DeviceCreated.model_validate(device)
    out.secret = secret if generated else None
    return out


def get_device(*, db_session: Session, device_id: int | None = None, ident: str | None = None) -> Device:
    stmt = select(Device).where(Device.id == device_id) if device_id else select(Device).where(Device.ident == ident)
    device = db_session.execute(stmt).scalar_one_or_none()
    if device is None:
        raise NotFound("设备不存在", code="device_not_found")
    return device


def bind_device(*, db_session: Session, subject_id: int, binding_in: BindingCreate) -> DeviceBinding:
    actor = _actor(db_session, Perm.subjects_write)
    subject = subjects_service.get(db_session=db_session, subject_id=subject_id)
    if binding_in.device_id is None and not binding_in.ident:
        raise InvalidInput("请指定设备", code="device_required", fields={"device_id": "必填"})
    device = get_device(db_session=db_session, device_id=binding_in.device_id, ident=binding_in.ident)
    active = db_session.execute(
        select(DeviceBinding).where(DeviceBinding.device_id == device.id, DeviceBinding.end_at.is_(None))
        .execution_options(skip_scope=True)  # a binding in another office must block this one too
    ).scalar_one_or_none()
    if active is not None:
        raise Conflict("该设备正在被其他社区矫正对象使用，请先解除绑定" if active.subject_id != subject.id
                       else "该设备已绑定该对象", code="device_in_use")
    binding = DeviceBinding(device_id=device.id, subject_id=subject.id, start_at=clock.now(), bound_by=actor.username)
    db_session.add(binding)
    try:
        db_session.commit()
    except IntegrityError:
        db_session.rollback()
        raise Conflict("该设备正在被使用", code="device_in_use") from None
    events.publish(topics.DIRECTORY, {"device_id": device.id})
    return binding


def unbind_device(*, db_session: Session, subject_id: int, device_id: int) -> DeviceBinding:
    _actor(db_session, Perm.subjects_write)
    subjects_service.get(db_session=db_session, subject_id=subject_id)
    binding = db_session.execute(
        select(DeviceBinding).where(DeviceBinding.subject_id == subject_id, DeviceBinding.device_id == device_id,
                                    DeviceBinding.end_at.is_(None))
    ).scalar_one_or_none()
    if binding is None:
        raise NotFound("该对象没有绑定此设备", code="binding_not_found")
    binding.end_at = clock.now()
    db_session.commit()
    events.publish(topics.DIRECTORY, {"device_id": device_id})
    return binding


def list_bindings(*, db_session: Session, subject_id: int) -> list[DeviceBinding]:
    subjects_service.get(db_session=db_session, subject_id=subject_id)
    return list(db_session.execute(
        select(DeviceBinding).where(DeviceBinding.subject_id == subject_id).order_by(DeviceBinding.start_at.desc())
    ).scalars())


# --- positioning orders (社区矫正法 第二十九条) ------------------------------------------------


def _periods(orders: list[PositioningOrder]) -> list[positioning.OrderPeriod]:
    return [positioning.OrderPeriod(o.start_date, o.end_date,
                                    clock.to_local(o.revoked_at).date() if o.revoked_at else None) for o in orders]


def create_order(*, db_session: Session, subject_id: int, order_in: OrderCreate) -> PositioningOrder:
    actor = require(get_actor(db_session), Perm.subjects_read)
    positioning.check_approver(actor.kind == ActorKind.staff and has_perm(actor, Perm.positioning_approve))
    subject = subjects_service.get(db_session=db_session, subject_id=subject_id)
    if subject.status != SubjectStatus.under_correction:
        raise Conflict("只能对在矫社区矫正对象使用电子定位", code="subject_not_under_correction")
    kind = "initial"
    if order_in.extends_id is not None:
        previous = db_session.execute(
            select(PositioningOrder).where(PositioningOrder.id == order_in.extends_id,
                                           PositioningOrder.subject_id == subject.id)
        ).scalar_one_or_none()
        if previous is None:
            raise NotFound("原审批不存在", code="order_not_found", fields={"extends_id": "不存在"})
        positioning.check_extension(_periods([previous])[0], order_in.start_date, order_in.end_date,
                                    clock.today_local())
        kind = "extension"
    else:
        positioning.check_period(order_in.start_date, order_in.end_date)
    order = PositioningOrder(
        subject_id=subject.id, trigger=order_in.trigger.value, kind=kind, extends_id=order_in.extends_id,
        start_date=order_in.start_date, end_date=order_in.end_date, approved_by_id=actor.staff_id,
        approved_by_name=actor.username, approved_at=clock.now(), reason=order_in.reason,
    )
    db_session.add(order)
    db_session.commit()
    events.publish(topics.DIRECTORY, {"subject_id": subject.id})
    return order


def revoke_order(*, db_session: Session, order_id: int, reason: str) -> PositioningOrder:
    actor = require(get_actor(db_session), Perm.subjects_read)
    positioning.check_approver(actor.kind == ActorKind.staff and has_perm(actor, Perm.positioning_approve))
    order = db_session.execute(select(PositioningOrder).where(PositioningOrder.id == order_id)).scalar_one_or_none()
    if order is None:
        raise NotFound("审批不存在", code="order_not_found")
    if order.revoked_at is not None:
        raise Conflict("已解除", code="order_revoked")
    order.revoked_at, order.revoke_reason = clock.now(), reason
    db_session.commit()
    events.publish(topics.DIRECTORY, {"subject_id": order.subject_id})
    return order


def list_orders(*, db_session: Session, subject_id: int) -> list[PositioningOrder]:
    subjects_service.get(db_session=db_session, subject_id=subject_id)
    return list(db_session.execute(
        select(PositioningOrder).where(PositioningOrder.subject_id == subject_id)
        .order_by(PositioningOrder.start_date)
    ).scalars())


def expiring_orders(*, db_session: Session, within_days: int = positioning.EXPIRY_WARNING_DAYS) -> list[ExpiringOrder]:
    require(get_actor(db_session), Perm.subjects_read)
    today = clock.today_local()
    rows = db_session.execute(
        select(PositioningOrder).where(PositioningOrder.end_date >= today - timedelta(days=1),
                                       PositioningOrder.revoked_at.is_(None))
    ).scalars().all()
    by_subject: dict[int, list[PositioningOrder]] = {}
    for o in rows:
        by_subject.setdefault(o.subject_id, []).append(o)
    out = []
    subjects = {s.id: s for s in db_session.execute(
        select(Subject).where(Subject.id.in_(list(by_subject)))).unique().scalars()}
    for sid, orders in by_subject.items():
        end = positioning.expiring(_periods(orders), today, within_days)
        if end is not None and sid in subjects:
            s = subjects[sid]
            out.append(ExpiringOrder(subject_id=sid, subject_name=subjects_service.display_name(s),
                                     office_name=s.office.name, end_date=end, days_left=(end - today).days))
    return sorted(out, key=lambda e: e.end_date)


# --- zones -------------------------------------------------------------------------------------


def zone_feature(zone: Zone) -> dict[str, Any]:
    feature = dict(zone.geojson)
    feature["id"] = zone.id
    feature["properties"] = {**(feature.get("properties") or {}), "id": zone.id, "name": zone.name,
                             "kind": zone.kind, "subject_id": zone.subject_id, "schedule": zone.schedule or [],
                             "source": zone.source, "active": zone.active, "office_id": zone.office_id}
    return feature


def to_index_zone(zone: Zone, subject_id: int | None = None) -> geofence.Zone:
    """The zone as the rules index it; ``subject_id``: one copy of an office's zone for one of its
    subjects (the index keys zones by subject), with an id of its own such as ``"12@345"``."""
    if subject_id is None:
        return geofence.zone_from_geojson(zone_feature(zone))
    return geofence.zone_from_geojson(zone_feature(zone), {"id": f"{zone.id}@{subject_id}", "subject_id": subject_id})


def _stored_shape(geometry: dict[str, Any], *, kind: str, radius_m: float | None, datum: str,
                  schedule: list[dict[str, Any]] | None) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    """The GeoJSON Feature kept (WGS-84 whatever the input datum) and the schedule, both validated."""
    props: dict[str, Any] = {"id": 0, "kind": kind, "datum": datum, "schedule": schedule}
    if radius_m is not None:
        props["radius_m"] = radius_m
    try:
        parsed = geofence.zone_from_geojson({"type": "Feature", "geometry": geometry, "properties": props})
    except DomainError:
        raise
    except Exception as exc:  # noqa: BLE001 - any malformed GeoJSON is the client's error
        raise InvalidInput("围栏几何数据格式不正确（应为 GeoJSON）", code="invalid_zone",
                           fields={"geometry": str(exc)[:200]}) from None
    feature = geofence.zone_to_geojson(parsed)
    stored = {"type": "Feature", "geometry": feature["geometry"],
              "properties": {k: v for k, v in feature["properties"].items() if k == "radius_m"}}
    return stored, feature["properties"]["schedule"] or None


def _check_reach(db_session: Session, actor: Actor, subject_id: int | None, office_id: int | None) -> None:
    """Who a zone may apply to: a subject in the caller's scope; an office, by the district or that
    office's own staff; everyone, by the district's staff only."""
    if subject_id is not None:
        subjects_service.get(db_session=db_session, subject_id=subject_id)
    elif office_id is not None:
        org_service.get_office(db_session=db_session, office_id=office_id)
        if not sees_every_office(actor) and office_id != actor.office_id:
            raise Forbidden(code="zone_office_only", message="只能为本所的社区矫正对象设置电子围栏")
    elif not sees_every_office(actor):
        raise Forbidden(code="zone_district_only", message="适用于全体对象的电子围栏只能由区局工作人员设置")


def create_zone(*, db_session: Session, zone_in: ZoneCreate) -> Zone:
    """A zone for one subject, the subjects of one office, or (the district's staff) everyone."""
    actor = _actor(db_session, Perm.subjects_write)
    geojson, schedule = _stored_shape(zone_in.geometry, kind=zone_in.kind, radius_m=zone_in.radius_m,
                                      datum=zone_in.datum, schedule=zone_in.schedule)
    office_id = None if zone_in.subject_id is not None else zone_in.office_id
    _check_reach(db_session, actor, zone_in.subject_id, office_id)
    zone = Zone(name=zone_in.name, kind=zone_in.kind, subject_id=zone_in.subject_id, office_id=office_id,
                geojson=geojson, schedule=schedule, source=zone_in.source)
    db_session.add(zone)
    db_session.commit()
    events.publish(topics.DIRECTORY, {"zone_id": zone.id})
    return zone


def get_zone(*, db_session: Session, zone_id: int) -> Zone:
    """A zone in the caller's scope (a subject's zone goes with the subject's file; shared ones to all)."""
    require(get_actor(db_session), Perm.subjects_read)
    zone = db_session.execute(select(Zone).where(Zone.id == zone_id)).scalar_one_or_none()
    if zone is None:
        raise NotFound("电子围栏不存在", code="zone_not_found")
    return zone


def update_zone(*, db_session: Session, zone_id: int, zone_in: ZoneUpdate) -> Zone:
    """Change a zone's name, kind, subject, shape, schedule or state (停用 / 启用).

    A zone for every subject (no subject) changes the whole district's rules: only staff with the
    district's reach may change it; an office's officer changes the zones of its own subjects.
    """
    actor = _actor(db_session, Perm.subjects_write)
    zone = get_zone(db_session=db_session, zone_id=zone_id)
    changes = zone_in.model_dump(exclude_unset=True)
    _check_reach(db_session, actor, zone.subject_id, zone.office_id)  # may change this zone at all
    if "subject_id" in changes or "office_id" in changes:
        subject_id = changes.get("subject_id", zone.subject_id)
        office_id = None if subject_id is not None else changes.get("office_id", zone.office_id)
        _check_reach(db_session, actor, subject_id, office_id)
        zone.subject_id, zone.office_id = subject_id, office_id
    kind = changes.get("kind", zone.kind)
    if {"geometry", "radius_m", "schedule", "kind", "datum"} & changes.keys():
        current = zone_feature(zone)
        geometry = changes.get("geometry") or current["geometry"]
        radius = changes.get("radius_m", current["properties"].get("radius_m")) if geometry["type"] == "Point" \
            else None
        datum = changes.get("datum", "wgs84") if "geometry" in changes else "wgs84"
        schedule = changes["schedule"] if "schedule" in changes else zone.schedule
        zone.geojson, zone.schedule = _stored_shape(geometry, kind=kind, radius_m=radius, datum=datum,
                                                    schedule=schedule)
    for name in ("name", "kind", "source", "active"):
        if name in changes:
            if name in ("name", "kind", "active") and changes[name] is None:
                raise InvalidInput("该项不能为空", code="invalid_zone", fields={name: "不能为空"})
            setattr(zone, name, changes[name])
    db_session.commit()
    events.publish(topics.DIRECTORY, {"zone_id": zone.id})
    return zone


def list_zones(*, db_session: Session, subject_id: int | None = None, kind: str | None = None,
               include_inactive: bool = False) -> list[Zone]:
    require(get_actor(db_session), Perm.subjects_read)
    stmt = select(Zone) if include_inactive else select(Zone).where(Zone.active.is_(True))
    if subject_id is not None:
        subject = subjects_service.get(db_session=db_session, subject_id=subject_id)
        stmt = stmt.where((Zone.subject_id == subject_id) | (Zone.subject_id.is_(None) & (
            Zone.office_id.is_(None) | (Zone.office_id == subject.office_id))))
    if kind:
        stmt = stmt.where(Zone.kind == kind)
    return list(db_session.execute(stmt.order_by(Zone.id)).scalars())


# --- tracks ------------------------------------------------------------------------------------


def track(*, db_session: Session, subject_id: int, start: datetime, end: datetime) -> list[FixRecord]:
    """A subject's fixes in a period; revealing a track is audited (个人信息保护法)."""
    subjects_service.get(db_session=db_session, subject_id=subject_id)
    if end <= start:
        raise InvalidInput("结束时间必须晚于开始时间", code="date_order", fields={"end": "须晚于开始时间"})
    if end - start > timedelta(days=MAX_TRACK_DAYS):
        raise InvalidInput(f"一次最多查询 {MAX_TRACK_DAYS} 天的轨迹", code="range_too_long", fields={"end": "范围过大"})
    rows = db_session.execute(
        select(FixRecord).where(FixRecord.subject_id == subject_id, FixRecord.fix_time >= start,
                                FixRecord.fix_time < end).order_by(FixRecord.fix_time).limit(MAX_TRACK_POINTS)
    ).scalars().all()
    audit.access(db_session, object_type="subjects", object_id=subject_id, action="view_track",
                 detail={"start": start.isoformat(), "end": end.isoformat(), "points": len(rows)})
    db_session.commit()
    return list(rows)


def order_in_force(orders: list[PositioningOrder], day: date) -> bool:
    return positioning.in_force(_periods(orders), day)
