"""The daily deadline scan of the supervision workflows (run by ``zhijiao.jobs``)."""

from __future__ import annotations

from datetime import time

from zhijiao.core import clock
from zhijiao.jobs.service import Job, register
from zhijiao.supervision import scheduled

register(Job(scheduled.JOB, "期限检查：逾期报到、外出逾期、法院答复、调查评估，滚动生成监管任务",
             daily_at=time(1, 0),
             run=lambda db, now: scheduled.scan(db_session=db, today=clock.to_local(now).date())))
