"""The routes of supervision: one router that includes each workflow's own."""

from __future__ import annotations

from fastapi import APIRouter

from zhijiao.supervision.archive import api as archive_api
from zhijiao.supervision.assessments import api as assessments_api
from zhijiao.supervision.daily import api as daily_api
from zhijiao.supervision.leave import api as leave_api
from zhijiao.supervision.levels import api as levels_api
from zhijiao.supervision.notices import api as notices_api
from zhijiao.supervision.plans import api as plans_api
from zhijiao.supervision.reception import api as reception_api
from zhijiao.supervision.release import api as release_api
from zhijiao.supervision.sanctions import api as sanctions_api
from zhijiao.supervision.transfer import api as transfer_api

router = APIRouter()
for module in (assessments_api, reception_api, release_api, plans_api, levels_api, daily_api, leave_api,
               transfer_api, sanctions_api, notices_api, archive_api):
    router.include_router(module.router)
