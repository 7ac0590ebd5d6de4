"""The screens of supervision: each workflow registers its own pages and menu entries."""

from __future__ import annotations

from zhijiao.supervision.archive import ui as archive_ui
from zhijiao.supervision.assessments import ui as assessments_ui
from zhijiao.supervision.daily import ui as daily_ui
from zhijiao.supervision.leave import ui as leave_ui


def register() -> None:
    for module in (leave_ui, daily_ui, assessments_ui, archive_ui):
        module.register()
