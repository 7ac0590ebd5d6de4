"""Devices, bindings, positioning orders, zones and tracks. No HTTP; scoping by the session."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhijiao.core import clock, events, topics
from zhijiao.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from zhijiao.core.pagination import Page
from zhijiao.core.terminal import MAX_DIGITS, canonical_terminal_number
from zhijiao.core.pagination import offset as page_offset
from zhijiao.documents import service as documents_service
from zhijiao.monitoring import geofence, positioning
from zhijiao.monitoring.models import Device, DeviceBinding, FixRecord, PositioningOrder, Zone
from zhijiao.monitoring.schemas import (
    BindingCreate,
    DeviceCreate,
    DeviceCreated,
    DeviceListItem,
    ExpiringOrder,
    OrderCreate,
    OrderDecisionIn,
    ORDER_STATUS_LABELS,
    OrderRead,
    ProposalCreate,
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
from zhijiao.tasks import service as tasks_service

ONLINE_WITHIN = timedelta(minutes=10)  # as the command center counts a device online
MAX_TRACK_DAYS = 31
MAX_TRACK_POINTS = 20_000


def device_secret_hash(secret: str) -> str:
    """How a device's secret (a JT/T 808 auth code, an MQTT/HTTP key) is stored and compared."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _actor(db: Session, perm: Perm) -> Actor:
    return require(get_actor(db), perm)


def _name(db: Session, actor: Actor) -> str:
    """The person's name as screens and documents show it (the account name when there is none)."""
    if actor.staff_id is not None:
        staff = org_service.find_staff(db_session=db, staff_id=actor.staff_id)
        if staff is not None and staff.display_name:
            return staff.display_name[:64]
    return actor.username


# --- devices ------------------------------------------------------------------------------


def create_device(*, db_session: Session, device_in: DeviceCreate) -> DeviceCreated:
    _actor(db_session, Perm.subjects_write)
    # A JT/T 808 terminal without a preset code gets one when it first registers (0x0100 → 0x8100);
    # MQTT and HTTP devices get a token now, shown once.
    generated = device_in.secret is None and device_in.protocol.value != "jt808"
    secret = device_in.secret or (secrets.token_urlsafe(12) if generated else None)
    device = Device(kind=device_in.kind.value, protocol=device_in.protocol.value,
                    ident=canonical_ident(device_in.protocol.value, device_in.ident),
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


def canonical_ident(protocol: str, ident: str) -> str:
    """The identifier a device is stored and looked up by: a JT/T 808 terminal number in its one
    canonical form (``core.terminal``: no leading zeros, as the gateway reads the header), other
    protocols' identifiers as typed. Refuses a terminal number that is not 1–20 digits."""
    return canonical_terminal_number(ident.strip()) if protocol == "jt808" else ident


def get_device(*, db_session: Session, device_id: int | None = None, ident: str | None = None) -> Device:
    stmt = select(Device).where(Device.id == device_id) if device_id else select(Device).where(Device.ident == ident)
    device = db_session.execute(stmt).scalar_one_or_none()
    bare = (ident or "").strip()
    if device is None and not device_id and bare.isascii() and bare.isdigit() and len(bare) <= MAX_DIGITS:
        # a terminal number as printed, with its leading zeros
        device = db_session.execute(select(Device).where(
            Device.ident == canonical_terminal_number(bare), Device.protocol == "jt808")).scalar_one_or_none()
    if device is None:
        raise NotFound("设备不存在", code="device_not_found")
    return device


def list_devices(*, db_session: Session, q: str | None = None, bound: bool | None = None,
                 page: int = 1, size: int = 20) -> Page[DeviceListItem]:
    """The device registry, newest first, with each device's state and (within the caller's
    jurisdiction) who wears it; a device worn in another office says only that it is in use."""
    require(get_actor(db_session), Perm.subjects_read)
    active = (select(DeviceBinding.device_id).where(DeviceBinding.end_at.is_(None))
              .execution_options(skip_scope=True))
    stmt = select(Device)
    if q:
        stmt = stmt.where(Device.ident.contains(q.strip(), autoescape=True))
    if bound is True:
        stmt = stmt.where(Device.id.in_(active))
    elif bound is False:
        stmt = stmt.where(Device.id.not_in(active))
    total = db_session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    devices = db_session.execute(stmt.order_by(Device.id.desc()).offset(page_offset(page, size)).limit(size)).scalars().all()
    ids = [d.id for d in devices]
    bindings = {b.device_id: b for b in db_session.execute(
        select(DeviceBinding).where(DeviceBinding.device_id.in_(ids), DeviceBinding.end_at.is_(None))
        .execution_options(skip_scope=True)).scalars()}
    visible = {s.id: s for s in db_session.execute(  # the session's scope hides other offices' subjects
        select(Subject).where(Subject.id.in_([b.subject_id for b in bindings.values()]))).unique().scalars()}
    latest = _latest_fixes(db_session, ids)
    now = clock.now()
    items = []
    for d in devices:
        item = DeviceListItem.model_validate(d)
        fix_at, battery = latest.get(d.id, (None, None))
        # The stored fixes are the truth the command center counts from; the device row's own
        # fields are only what registration or a gateway set.
        if fix_at is not None and (item.last_fix_at is None or fix_at > item.last_fix_at):
            item.last_fix_at = fix_at
            item.battery_pct = battery if battery is not None else item.battery_pct
        seen = max((t for t in (d.last_seen_at, item.last_fix_at) if t is not None), default=None)
        item.online = seen is not None and now - seen <= ONLINE_WITHIN
        b = bindings.get(d.id)
        if b is not None:
            item.bound_at = b.start_at
            subject = visible.get(b.subject_id)
            if subject is None:
                item.bound_elsewhere = True
            else:
                item.subject_id, item.subject_name = subject.id, subjects_service.display_name(subject)
        items.append(item)
    return Page(items=items, total=total, page=page, size=size)


def _latest_fixes(db_session: Session, device_ids: list[int]) -> dict[int, tuple[datetime, int | None]]:
    """Each device's newest stored fix time and the battery it reported then (one page of devices;
    the unique (device_id, fix_time) index answers both)."""
    if not device_ids:
        return {}
    newest = (select(FixRecord.device_id, func.max(FixRecord.fix_time).label("at"))
              .where(FixRecord.device_id.in_(device_ids)).group_by(FixRecord.device_id).subquery())
    rows = db_session.execute(
        select(FixRecord.device_id, FixRecord.fix_time, FixRecord.battery_pct)
        .join(newest, (FixRecord.device_id == newest.c.device_id) & (FixRecord.fix_time == newest.c.at))
        .execution_options(skip_scope=True)).all()
    return {device_id: (clock.ensure_utc(at), battery) for device_id, at, battery in rows}


def unbound_devices(*, db_session: Session, limit: int = 200) -> list[Device]:
    """Active devices no one wears now (for the binding form)."""
    require(get_actor(db_session), Perm.subjects_read)
    active = (select(DeviceBinding.device_id).where(DeviceBinding.end_at.is_(None))
              .execution_options(skip_scope=True))
    return list(db_session.execute(select(Device).where(Device.active.is_(True), Device.id.not_in(active))
                                   .order_by(Device.ident).limit(limit)).scalars())


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


def unbind_device(*, db_session: Session, subject_id: int, device_id: int, reason: str | None) -> DeviceBinding:
    actor = _actor(db_session, Perm.subjects_write)
    subjects_service.get(db_session=db_session, subject_id=subject_id)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise InvalidInput("解除绑定须填写原因", code="unbind_reason_required", fields={"reason": "必填"})
    binding = db_session.execute(
        select(DeviceBinding).where(DeviceBinding.subject_id == subject_id, DeviceBinding.device_id == device_id,
                                    DeviceBinding.end_at.is_(None))
    ).scalar_one_or_none()
    if binding is None:
        raise NotFound("该对象没有绑定此设备", code="binding_not_found")
    binding.end_at, binding.unbound_by, binding.unbind_reason = clock.now(), _name(db_session, actor), reason[:200]
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
        previous = _extension_of(db_session, subject.id, order_in.extends_id)
        positioning.check_extension(_periods([previous])[0], order_in.start_date, order_in.end_date,
                                    clock.today_local())
        kind = "extension"
    else:
        positioning.check_period(order_in.start_date, order_in.end_date)
    order = PositioningOrder(
        subject_id=subject.id, trigger=order_in.trigger.value, kind=kind, extends_id=order_in.extends_id,
        start_date=order_in.start_date, end_date=order_in.end_date, approved_by_id=actor.staff_id,
        approved_by_name=actor.username, approved_at=clock.now(), reason=order_in.reason, status=APPROVED,
    )
    db_session.add(order)
    db_session.commit()
    events.publish(topics.DIRECTORY, {"subject_id": subject.id})
    return order


APPROVED, PROPOSED, REFUSED = positioning.APPROVED, "proposed", "refused"
DECISION_TASK = "positioning_decision"


def _proposer(db_session: Session) -> Actor:
    """The office staff propose (提请); the bureau's head decides and so does not propose."""
    actor = get_actor(db_session)
    if actor is None or actor.kind != ActorKind.staff or not has_perm(actor, Perm.workflows_write):
        raise Forbidden("只有司法所或区局工作人员可以提请使用电子定位装置", code="positioning_proposer")
    return actor


def _order(db_session: Session, order_id: int) -> PositioningOrder:
    order = db_session.execute(select(PositioningOrder).where(PositioningOrder.id == order_id)).scalar_one_or_none()
    if order is None:
        raise NotFound("电子定位审批不存在或不在您的管辖范围内", code="order_not_found")
    return order


def _extension_of(db_session: Session, subject_id: int, extends_id: int) -> PositioningOrder:
    previous = db_session.execute(
        select(PositioningOrder).where(PositioningOrder.id == extends_id, PositioningOrder.subject_id == subject_id,
                                       PositioningOrder.status == APPROVED)
    ).scalar_one_or_none()
    if previous is None:
        raise NotFound("原审批不存在或未获批准", code="order_not_found", fields={"extends_id": "不存在"})
    return previous


def propose_order(*, db_session: Session, subject_id: int, proposal_in: ProposalCreate) -> PositioningOrder:
    """The office proposes positioning for a subject (社区矫正法 第二十九条); a task asks the bureau's
    head to decide."""
    actor = _proposer(db_session)
    subject = subjects_service.get(db_session=db_session, subject_id=subject_id)
    if subject.status != SubjectStatus.under_correction:
        raise Conflict("只能对在矫社区矫正对象使用电子定位", code="subject_not_under_correction")
    today = clock.today_local()
    if proposal_in.end_date < today:
        raise InvalidInput("结束日期不能早于今天", code="date_past", fields={"end_date": "早于今天"})
    kind = "initial"
    if proposal_in.extends_id is not None:
        previous = _extension_of(db_session, subject.id, proposal_in.extends_id)
        positioning.check_extension(_periods([previous])[0], proposal_in.start_date, proposal_in.end_date, today)
        kind = "extension"
    else:
        positioning.check_period(proposal_in.start_date, proposal_in.end_date)
    waiting = db_session.execute(select(PositioningOrder.id).where(
        PositioningOrder.subject_id == subject.id, PositioningOrder.status == PROPOSED)).first()
    if waiting is not None:
        raise Conflict("该对象已有待审批的电子定位提请", code="positioning_proposal_pending")
    order = PositioningOrder(
        subject_id=subject.id, trigger=proposal_in.trigger.value, kind=kind, extends_id=proposal_in.extends_id,
        start_date=proposal_in.start_date, end_date=proposal_in.end_date, status=PROPOSED,
        proposed_by_id=actor.staff_id, proposed_by_name=_name(db_session, actor), proposed_at=clock.now(),
        reason=proposal_in.reason,
    )
    db_session.add(order)
    db_session.flush()
    what = "延长使用" if kind == "extension" else "使用"
    tasks_service.ensure(
        db_session=db_session, key=f"{DECISION_TASK}:{order.id}", kind=DECISION_TASK,
        title=f"审批{what}电子定位装置（{order.start_date}至{order.end_date}）",
        due_on=max(min(order.start_date, today + timedelta(days=3)), today), subject=subject, assignee_id=None,
        source_type="positioning_orders", source_id=order.id,
    )
    db_session.commit()
    return order


def decide_order(*, db_session: Session, order_id: int, decision_in: OrderDecisionIn) -> PositioningOrder:
    """The bureau's head approves (the 使用电子定位装置决定书 is numbered and stored) or refuses
    with a reason; either way the proposal's task is closed."""
    actor = require(get_actor(db_session), Perm.subjects_read)
    positioning.check_approver(actor.kind == ActorKind.staff and has_perm(actor, Perm.positioning_approve))
    order = _order(db_session, order_id)
    if order.status != PROPOSED:
        raise Conflict("该提请已审批", code="order_decided")
    note = (decision_in.note or "").strip() or None
    order.approved_by_id, order.approved_by_name = actor.staff_id, _name(db_session, actor)
    order.approved_at = clock.now()
    order.decision_note = note
    if decision_in.decision == "refuse":
        if note is None or len(note) < 2:
            raise InvalidInput("不予批准须填写理由", code="refusal_reason_required", fields={"note": "必填"})
        order.status = REFUSED
        tasks_service.close(db_session=db_session, key=f"{DECISION_TASK}:{order.id}", note="不予批准")
        db_session.commit()
        return order
    subject = subjects_service.get(db_session=db_session, subject_id=order.subject_id)
    if subject.status != SubjectStatus.under_correction:
        raise Conflict("该对象已不在矫，不能批准使用电子定位", code="subject_not_under_correction")
    today = clock.today_local()
    if order.end_date < today:
        raise Conflict("提请的期限已经届满，请重新提请", code="positioning_expired")
    if order.kind == "extension" and order.extends_id is not None:
        previous = _extension_of(db_session, subject.id, order.extends_id)
        positioning.check_extension(_periods([previous])[0], order.start_date, order.end_date, today)
    elif order.start_date < today:
        order.start_date = today  # approved late: the period runs from the approval, never before it
    order.status = APPROVED
    documents_service.generate(
        db_session=db_session, kind="positioning_decision", subject=subject, source_type="positioning_orders",
        source_id=order.id, extra={
            "reason": order.reason, "trigger_label": positioning.TRIGGER_LABELS[positioning.Trigger(order.trigger)],
            "positioning_start": order.start_date, "positioning_end": order.end_date,
            "extension": order.kind == "extension",
        })
    tasks_service.close(db_session=db_session, key=f"{DECISION_TASK}:{order.id}", note="已批准")
    db_session.commit()
    events.publish(topics.DIRECTORY, {"subject_id": order.subject_id})
    return order


def list_orders_by(*, db_session: Session, status: str | None = None, in_force: bool = False,
                   limit: int = 500) -> list[PositioningOrder]:
    """Orders across the caller's jurisdiction: the pending proposals, or those in force now."""
    require(get_actor(db_session), Perm.subjects_read)
    stmt = select(PositioningOrder)
    if status:
        stmt = stmt.where(PositioningOrder.status == status)
    if in_force:
        today = clock.today_local()
        stmt = stmt.where(PositioningOrder.status == APPROVED, PositioningOrder.revoked_at.is_(None),
                          PositioningOrder.start_date <= today, PositioningOrder.end_date >= today)
    return list(db_session.execute(stmt.order_by(PositioningOrder.end_date, PositioningOrder.id).limit(limit)).scalars())


def order_read(db_session: Session, order: PositioningOrder, subject: Subject | None = None) -> OrderRead:
    out = OrderRead.model_validate(order)
    out.trigger_label = positioning.TRIGGER_LABELS.get(positioning.Trigger(order.trigger), order.trigger)
    out.status_label = "已解除" if order.revoked_at else ORDER_STATUS_LABELS.get(order.status, order.status)
    if subject is not None:
        out.subject_name, out.office_name = subjects_service.display_name(subject), subject.office.name
    if order.status == APPROVED:
        docs = documents_service.for_source(db_session=db_session, source_type="positioning_orders",
                                            source_id=order.id)
        if docs:
            out.document_id, out.document_number = docs[-1].id, docs[-1].number
    return out


def orders_read(db_session: Session, orders: list[PositioningOrder]) -> list[OrderRead]:
    subjects = {s.id: s for s in db_session.execute(
        select(Subject).where(Subject.id.in_({o.subject_id for o in orders}))).unique().scalars()}
    return [order_read(db_session, o, subjects.get(o.subject_id)) for o in orders]


def revoke_order(*, db_session: Session, order_id: int, reason: str) -> PositioningOrder:
    actor = require(get_actor(db_session), Perm.subjects_read)
    positioning.check_approver(actor.kind == ActorKind.staff and has_perm(actor, Perm.positioning_approve))
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise InvalidInput("解除电子定位须填写原因", code="revoke_reason_required", fields={"reason": "必填"})
    order = _order(db_session, order_id)
    if order.status != APPROVED:
        raise Conflict("只能解除已批准的电子定位", code="order_not_approved")
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
                                       PositioningOrder.status == APPROVED, PositioningOrder.revoked_at.is_(None))
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
    return positioning.in_force(_periods([o for o in orders if o.status == APPROVED]), day)
