"""Cameras of the video wall (中心/司法所/车载/街面), configured by hand until GB/T 28181 fills them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhijiao.db.base import Base, IdMixin, TimestampMixin, UTCDateTime
from zhijiao.org.models import Office


class Camera(IdMixin, TimestampMixin, Base):
    """One video source. Equipment, not a case file: readable by case roles, office officers see
    their office's cameras only (filtered in the service, see ``command.service.list_cameras``)."""

    __tablename__ = "cameras"

    name: Mapped[str] = mapped_column(String(64), nullable=False)
    location_kind: Mapped[str] = mapped_column(String(16), nullable=False)  # center_room | office | vehicle | street
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(200))  # 安装地点
    stream_url: Mapped[str] = mapped_column(String(500), nullable=False)
    stream_protocol: Mapped[str] = mapped_column(String(8), nullable=False, default="hls")  # hls | flv | rtsp | other
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="unknown")  # online | offline | unknown
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(16), nullable=False, default="manual")  # manual | gb28181
    gb_device_id: Mapped[str | None] = mapped_column(String(20), unique=True)  # GB/T 28181 20-digit code
    note: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    office: Mapped[Office | None] = relationship(lazy="joined")
