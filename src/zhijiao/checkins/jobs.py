"""Timers of check-ins and roll calls (run by ``zhijiao.jobs``)."""

from __future__ import annotations

from datetime import timedelta

from zhijiao.checkins import service
from zhijiao.jobs.service import Job, register

register(Job("checkins.missed", "未按时签到检查（生成告警）", every=timedelta(hours=1),
             run=lambda db, now: {"missed": len(service.scan_missed_checkins(db_session=db, now=now))}))
register(Job("rollcalls.expire", "视频点名超时判定（未应答告警）", every=timedelta(minutes=1),
             run=lambda db, now: {"expired": len(service.expire_rollcalls(db_session=db, now=now))}))
register(Job("rollcalls.plan", "按管理等级计划点名", every=timedelta(minutes=5),
             run=lambda db, now: {"called": len(service.plan_rollcalls(db_session=db, now=now))}))
