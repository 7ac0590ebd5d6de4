"""Electronic positioning: devices, their bindings, positioning orders, fixes, zones, alarms."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhijiao.db.base import Base, BigId, IdMixin, TimestampMixin, UTCDateTime
from zhijiao.monitoring.lifecycle import AlarmStatus
from zhijiao.security.scoping import SubjectOwned


class Device(IdMixin, TimestampMixin, Base):
    """A bracelet (腕带) or the subject's phone; identified by its protocol identifier."""

    __tablename__ = "devices"

    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # bracelet | phone
    protocol: Mapped[str] = mapped_column(String(8), nullable=False)  # jt808 | mqtt | http
    ident: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    model_profile: Mapped[str] = mapped_column(String(32), nullable=False, default="default_bracelet")
    # Per-device secret (JT/T 808 auth code, MQTT/HTTP token): only its SHA-256 is kept.
    secret_hash: Mapped[str | None] = mapped_column(String(64), info={"sensitive": True})
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_fix_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    battery_pct: Mapped[int | None] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(String(200))


class DeviceBinding(IdMixin, SubjectOwned, Base):
    """A device worn or carried by a subject for a period; history is kept."""

    __tablename__ = "device_bindings"
    __table_args__ = (
        # One active binding per device (end_at IS NULL), enforced by the database too.
        Index("uq_device_bindings_active", "device_id", unique=True,
              sqlite_where=text("end_at IS NULL"), postgresql_where=text("end_at IS NULL")),
    )

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), nullable=False, index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bound_by: Mapped[str] = mapped_column(String(64), nullable=False)
    unbound_by: Mapped[str | None] = mapped_column(String(64))
    unbind_reason: Mapped[str | None] = mapped_column(String(200))

    device: Mapped[Device] = relationship(lazy="joined")


class PositioningOrder(IdMixin, SubjectOwned, Base):
    """An approval of electronic positioning (社区矫正法 第二十九条), initial or an extension.

    The office proposes (``status`` proposed), the bureau's head approves or refuses; only an
    approved order, not revoked and not expired, is in force for the positioning rules.
    """

    __tablename__ = "positioning_orders"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    trigger: Mapped[str] = mapped_column(String(32), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="initial")  # initial | extension
    extends_id: Mapped[int | None] = mapped_column(ForeignKey("positioning_orders.id"))
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    # proposed | approved | refused (rows written before proposals existed are approvals)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="approved",
                                        server_default="approved", index=True)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    proposed_by_name: Mapped[str | None] = mapped_column(String(64))
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    approved_by_name: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # or refused at
    decision_note: Mapped[str | None] = mapped_column(String(500))  # the leader's opinion; why refused
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(200))


class Zone(IdMixin, TimestampMixin, SubjectOwned, Base):
    """A permitted area or an exclusion zone: for one subject; without a subject, for the subjects of
    one office (office_id) or for everyone."""

    __tablename__ = "zones"
    __scope_shared__ = True  # rows without a subject are visible to every officer

    name: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # permitted | exclusion
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), index=True)  # without a subject
    geojson: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)  # WGS-84 Feature
    schedule: Mapped[list | None] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(String(64))  # e.g. 禁止令, 区界
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class FixRecord(SubjectOwned, Base):
    """One stored position (定位点). Telemetry: not row-audited; reads of tracks are audited."""

    __tablename__ = "fixes"
    __audited__ = False
    __table_args__ = (
        UniqueConstraint("device_id", "fix_time", name="uq_fixes_device_time"),
        Index("ix_fixes_subject_time", "subject_id", "fix_time"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    subject_id: Mapped[int | None] = mapped_column(BigInteger)
    fix_time: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(8), nullable=False, default="gnss")
    speed_kmh: Mapped[float | None] = mapped_column(Float)
    course_deg: Mapped[float | None] = mapped_column(Float)
    battery_pct: Mapped[int | None] = mapped_column(SmallInteger)
    alarm_bits: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    # Bit flags: 1 backfill (补传), 2 noisy (kept, not used by rules), 4 no positioning order in force.
    flags: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)


FLAG_BACKFILL = 1
FLAG_NOISY = 2
FLAG_NO_ORDER = 4


OPEN_ALARM_WHERE = "status != 'closed' AND past_episode = false"


class Alarm(IdMixin, SubjectOwned, Base):
    """A rule broken now (告警), with its handling lifecycle."""

    __tablename__ = "alarms"
    __table_args__ = (
        # One open alarm per subject and type; later fixes update it. A past episode (below) is
        # not that alarm: it is handled like any other, but never updated by later fixes.
        Index("uq_alarms_open", "subject_id", "type", unique=True,
              sqlite_where=text(OPEN_ALARM_WHERE), postgresql_where=text(OPEN_ALARM_WHERE)),
        Index("ix_alarms_status_opened", "status", "opened_at"),
    )

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    device_id: Mapped[int | None] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    severity: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=2)  # 1 high … 3 low
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=AlarmStatus.open)
    verdict: Mapped[str | None] = mapped_column(String(16))  # confirmed | false_alarm
    retrospective: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # A backfilled episode (补传) that was already over when its data arrived, while another alarm of
    # its type was open: its own alarm (事后补报), see ``alarms.apply_rule_events``.
    past_episode: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=text("false"))
    episode_start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)  # first violating fix
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    episode_end: Mapped[datetime | None] = mapped_column(UTCDateTime)  # back to compliance
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    occurrences: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    zone_id: Mapped[int | None] = mapped_column(BigInteger)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    response_seconds: Mapped[int | None] = mapped_column(Integer)  # opened → acknowledged

    actions: Mapped[list[AlarmAction]] = relationship(
        back_populates="alarm", order_by="AlarmAction.at", cascade="all, delete-orphan"
    )


class AlarmAction(IdMixin, Base):
    """What was done with an alarm, for its timeline (the audit log keeps the row changes too)."""

    __tablename__ = "alarm_actions"

    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id"), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor_name: Mapped[str] = mapped_column(String(64), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)

    alarm: Mapped[Alarm] = relationship(back_populates="actions")
