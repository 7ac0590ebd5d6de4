"""What the rules know besides the fixes, read from the database: the zones and, for every subject
with a device bound, their context (positioning order in force, home, approved leave).

The rules themselves (:mod:`zhijiao.monitoring.rules`) do no I/O; whoever runs them (the fix
pipeline, a benchmark) loads this and hands it over.
"""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.monitoring import positioning
from zhijiao.monitoring import service as monitoring_service
from zhijiao.monitoring.geofence import Zone as IndexZone
from zhijiao.monitoring.models import DeviceBinding, PositioningOrder, Zone
from zhijiao.monitoring.rule_types import Leave, SubjectContext
from zhijiao.monitoring.zone_index import ZoneIndex
from zhijiao.subjects.models import Subject
from zhijiao.supervision.leave import service as leave_service

log = logging.getLogger(__name__)

LEAVE_LOOKBACK_DAYS = 2  # leaves that ended lately still matter to backfilled fixes


@dataclass(frozen=True, slots=True)
class RuleContext:
    index: ZoneIndex
    subjects: dict[int, SubjectContext]  # every subject with a device bound now


def rule_context(*, db_session: Session) -> RuleContext:
    """Zones and subjects' contexts as the database has them now."""
    today = clock.today_local()
    orders: dict[int, list[positioning.OrderPeriod]] = collections.defaultdict(list)
    for o in db_session.execute(select(PositioningOrder).where(
            PositioningOrder.end_date >= today, PositioningOrder.status == positioning.APPROVED)).scalars():
        revoked = clock.to_local(o.revoked_at).date() if o.revoked_at else None
        orders[o.subject_id].append(positioning.OrderPeriod(o.start_date, o.end_date, revoked))
    bound = {b.subject_id: b.start_at for b in db_session.execute(
        select(DeviceBinding).where(DeviceBinding.end_at.is_(None))).scalars()}
    homes: dict[int, tuple[float, float]] = {}
    by_office: dict[int, list[int]] = collections.defaultdict(list)
    for sid, lat, lon, office_id in db_session.execute(
        select(Subject.id, Subject.home_lat, Subject.home_lon, Subject.office_id).where(Subject.id.in_(list(bound)))
    ):
        if lat is not None:
            homes[sid] = (lat, lon)
        by_office[office_id].append(sid)
    zones: list[IndexZone] = []
    for z in db_session.execute(select(Zone).where(Zone.active.is_(True))).scalars():
        try:
            if z.subject_id is None and z.office_id is not None:
                # an office's zone: one copy for each of its subjects wearing a device
                zones.extend(monitoring_service.to_index_zone(z, sid) for sid in sorted(by_office.get(z.office_id, ())))
            else:
                zones.append(monitoring_service.to_index_zone(z))
        except Exception:  # noqa: BLE001 - a bad stored zone must not stop the pipeline
            log.exception("zone %s cannot be indexed", z.id)
    leaves = approved_leaves(db_session=db_session, since=today - timedelta(days=LEAVE_LOOKBACK_DAYS))
    contexts = {}
    for sid, since in bound.items():
        contexts[sid] = SubjectContext(
            subject_id=sid, positioning_order_in_force=positioning.in_force(orders.get(sid, ()), today),
            device_active=True, home=homes.get(sid), leaves=leaves.get(sid, ()), monitoring_since=since,
        )
    return RuleContext(ZoneIndex(zones), contexts)


def approved_leaves(*, db_session: Session, since: date) -> dict[int, tuple[Leave, ...]]:
    """Approved leaves ending on or after ``since``, per subject (社区矫正法 第二十七条).

    The destination is free text in the request, so a leave covers any place for its days; an
    overdue leave (status ``overdue``) covers nothing: the subject should be back.
    """
    out: dict[int, list[Leave]] = collections.defaultdict(list)
    for window in leave_service.leave_windows(db_session, since):
        out[window.subject_id].append(Leave(start=window.start_at, end=window.end_at))
    return {sid: tuple(v) for sid, v in out.items()}
