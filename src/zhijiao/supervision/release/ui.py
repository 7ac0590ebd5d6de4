"""Screens of termination (终止矫正, 社区矫正法 第四十五条); a release is announced on the reception
package's screen."""

from __future__ import annotations

from nicegui import ui
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.supervision import forms
from zhijiao.supervision.release import flows
from zhijiao.supervision.release.schemas import TerminationIn
from zhijiao.ui import labels
from zhijiao.ui.components.date_input import date_input


def termination_dialog(subject_id: int) -> None:
    def build():
        reason = ui.select(labels.TERMINATION_REASON, value="revoked_probation", label="终止原因").props(
            "outlined dense").classes("w-full").mark("termination-reason")
        on = date_input("裁定、决定或死亡日期", value=clock.today_local().isoformat()).mark("termination-date")
        return lambda: {"reason": reason.value, "decided_on": on.value}

    def save(db: Session, data: dict) -> str:
        _s, notices = flows.terminate(db_session=db, subject_id=subject_id, termination_in=TerminationIn(**data))
        return f"已终止矫正，需通知 {len(notices)} 个机关"

    forms.form("终止矫正（社区矫正法第四十五条、第四十六条）", "确认终止", "termination", build, save)
