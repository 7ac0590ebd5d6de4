"""The audit chain's external anchor, written every few minutes (security.anchors)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from zhijiao.jobs.service import Job, register
from zhijiao.security import anchors


def _anchor(db: Session, _now: datetime) -> dict:
    anchor = anchors.write(db)
    return {"seq": anchor.seq if anchor else None}


register(Job("audit.anchor", "审计链头写入外部锚点文件（防末尾删除）", every=timedelta(minutes=5), run=_anchor))
