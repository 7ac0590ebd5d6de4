"""Change of the place of execution (执行地变更): deadlines and notifications.

社区矫正法 第二十七条 and 实施办法 第三十条、第三十一条: the bureau consults the new place, which
answers within 5 days; after the decision the subject reports at the new place within 7 days.
Both numbers are [configurable] in :class:`TransferSettings`. Periods do not count their first day.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from zhijiao.core import clock
from zhijiao.supervision.notices.rules import Body, Notification

LEGAL_BASIS = {
    "consult": "《社区矫正法实施办法》第三十条：收到征求意见函后五日内书面回复是否同意接收",
    "report": "《社区矫正法实施办法》第三十一条：自收到变更决定之日起七日内到新执行地报到",
    "notify": "《社区矫正法》第二十七条第二款：作出变更决定后通知决定机关和变更后的社区矫正机构并抄送法律文书",
}


class TransferSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    consult_reply_days: int = Field(5, ge=1, le=30)
    report_days: int = Field(7, ge=1, le=30)
    handover_days: int = Field(5, ge=1, le=30)  # files to the new place after the decision (practice)


def consult_reply_deadline(received_on: date, *, settings: TransferSettings | None = None) -> date:
    """Last day for the new place to answer the consultation (实施办法 第三十条)."""
    return received_on + timedelta(days=(settings or TransferSettings()).consult_reply_days)


def is_consult_reply_overdue(
    received_on: date,
    *,
    replied_on: date | None = None,
    today: date | None = None,
    settings: TransferSettings | None = None,
) -> bool:
    deadline = consult_reply_deadline(received_on, settings=settings)
    return (replied_on or today or clock.today_local()) > deadline


def new_place_report_deadline(decision_received_on: date, *, settings: TransferSettings | None = None) -> date:
    """Last day to report at the new place (实施办法 第三十一条)."""
    return decision_received_on + timedelta(days=(settings or TransferSettings()).report_days)


def is_new_place_report_overdue(
    decision_received_on: date,
    *,
    reported_on: date | None = None,
    today: date | None = None,
    settings: TransferSettings | None = None,
) -> bool:
    deadline = new_place_report_deadline(decision_received_on, settings=settings)
    return (reported_on or today or clock.today_local()) > deadline


def handover_deadline(decided_on: date, *, settings: TransferSettings | None = None) -> date:
    """Last day to hand the files to the new place (实施办法 第三十条 practice: 5 days) [configurable]."""
    return decided_on + timedelta(days=(settings or TransferSettings()).handover_days)


def transfer_notifications() -> list[Notification]:
    """社区矫正法 第二十七条第二款: after a change decision."""
    basis = LEGAL_BASIS["notify"]
    return [
        Notification(Body.deciding_organ, "通知执行地变更决定", basis),
        Notification(Body.new_bureau, "通知变更决定并抄送有关法律文书", basis),
        Notification(Body.procuratorate, "转送法律文书", basis, sender=Body.new_bureau),
        Notification(Body.public_security, "转送法律文书", basis, sender=Body.new_bureau),
    ]
