"""Rules of electronic positioning (社区矫正法 第二十九条), pure and tested without a database."""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from zhijiao.core.errors import Conflict, Forbidden, InvalidInput

MAX_MONTHS = 3  # 第二十九条第二款: 每次不超过三个月
EXPIRY_WARNING_DAYS = 7
BASIS = "《中华人民共和国社区矫正法》第二十九条"
APPROVED = "approved"  # the only status of an order that can be in force (proposed, refused are not)


class Trigger(enum.StrEnum):
    """The five situations in which positioning may be used (第二十九条第一款)."""

    violated_prohibition = "violated_prohibition"  # (一) 违反人民法院禁止令的
    left_without_approval = "left_without_approval"  # (二) 无正当理由，未经批准离开所居住的市、县的
    refused_after_warning = "refused_after_warning"  # (三) 拒不按照规定报告自己的活动情况，被给予警告的
    police_penalty = "police_penalty"  # (四) 违反监督管理规定，被给予治安管理处罚的
    pending_revocation = "pending_revocation"  # (五) 拟提请撤销缓刑、假释或者暂予监外执行收监执行的


TRIGGER_LABELS = {
    Trigger.violated_prohibition: "违反人民法院禁止令",
    Trigger.left_without_approval: "无正当理由未经批准离开所居住的市、县",
    Trigger.refused_after_warning: "拒不按照规定报告活动情况，被给予警告",
    Trigger.police_penalty: "违反监督管理规定，被给予治安管理处罚",
    Trigger.pending_revocation: "拟提请撤销缓刑、假释或暂予监外执行收监执行",
}

@dataclass(frozen=True, slots=True)
class OrderPeriod:
    start: date
    end: date
    revoked_on: date | None = None

    def covers(self, day: date) -> bool:
        last = self.end if self.revoked_on is None else min(self.end, self.revoked_on - timedelta(days=1))
        return self.start <= day <= last


def add_months(start: date, months: int) -> date:
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def check_approver(may_approve: bool) -> None:
    """第二十九条第二款: 经县级司法行政部门负责人批准 — only the bureau's leader approves, a person
    (``Perm.positioning_approve``), never a job."""
    if not may_approve:
        raise Forbidden("使用电子定位装置须经区司法局负责人批准（社区矫正法第二十九条）", code="positioning_approver")


def check_period(start: date, end: date) -> None:
    """Each approval lasts at most three months (第二十九条第二款)."""
    if end < start:
        raise InvalidInput("结束日期不能早于开始日期", code="date_order", fields={"end_date": "早于开始日期"})
    if end >= add_months(start, MAX_MONTHS):
        raise InvalidInput("每次批准使用电子定位装置的期限不得超过三个月", code="positioning_too_long",
                           fields={"end_date": "超过三个月"})


def check_extension(previous: OrderPeriod, start: date, end: date, today: date) -> None:
    """An extension continues a running order after review, again for at most three months."""
    if previous.revoked_on is not None:
        raise Conflict("已解除的电子定位不能延长，请重新审批", code="positioning_revoked")
    if previous.end < today - timedelta(days=1):
        raise Conflict("原批准期限已届满，不能延长，请重新审批", code="positioning_expired")
    if start != previous.end + timedelta(days=1):
        raise InvalidInput("延长期限须自原期限届满次日起算", code="positioning_extension_start",
                           fields={"start_date": f"应为 {previous.end + timedelta(days=1)}"})
    check_period(start, end)


def in_force(orders: Iterable[OrderPeriod], day: date) -> bool:
    return any(o.covers(day) for o in orders)


def expiring(orders: Iterable[OrderPeriod], today: date, within_days: int = EXPIRY_WARNING_DAYS) -> date | None:
    """The end date of the running chain of orders when it ends within ``within_days``."""
    running = [o for o in orders if o.covers(today)]
    if not running:
        return None
    end = max(o.end for o in running)
    # A follow-on extension already approved keeps the chain alive.
    later = [o for o in orders if o.start == end + timedelta(days=1) and o.revoked_on is None]
    if later:
        return None
    return end if (end - today).days <= within_days else None
