"""Minors under correction (社区矫正法 第五十二条至第五十八条): who may see them, and how.

第五十四条: identity information is kept secret; archives go to nobody except for a judicial
organ's case or an inquiry made under state rules. 第五十二条: minors are corrected apart from
adults. 第五十八条: the minor rules continue after the subject turns 18.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from datetime import date

from zhijiao.subjects.idcard import mask_minor_name


class AccessPurpose(enum.StrEnum):
    supervision = "supervision"  # daily work by the assigned officers and team
    judicial_case = "judicial_case"  # 司法机关办案需要
    lawful_inquiry = "lawful_inquiry"  # 有关单位根据国家规定查询
    statistics = "statistics"
    other = "other"


PURPOSE_LABELS: dict[AccessPurpose, str] = {
    AccessPurpose.supervision: "日常监督管理",
    AccessPurpose.judicial_case: "司法机关办案需要",
    AccessPurpose.lawful_inquiry: "有关单位依规定查询",
    AccessPurpose.statistics: "统计分析",
    AccessPurpose.other: "其他",
}
LEGAL_BASIS = {
    "secrecy": "《社区矫正法》第五十四条",
    "separate": "《社区矫正法》第五十二条第三款",
    "continue": "《社区矫正法》第五十八条",
}


def can_view_minor(
    staff_id: int,
    assigned_staff_ids: Collection[int],
    purpose: AccessPurpose | str,
    *,
    inquiry_ref: str | None = None,
) -> bool:
    """Whether a staff member may see a minor subject's identity (社区矫正法 第五十四条).

    Daily work: only the officers assigned to the subject. A judicial case or a lawful inquiry: only
    with a reference to the case or the inquiry letter, which the caller writes to the audit log.
    Statistics and anything else: never (use masked or aggregate data).
    """
    p = AccessPurpose(purpose)
    if p is AccessPurpose.supervision:
        return staff_id in assigned_staff_ids
    if p in (AccessPurpose.judicial_case, AccessPurpose.lawful_inquiry):
        return bool(inquiry_ref and inquiry_ref.strip())
    return False


def display_name(name: str, *, visible: bool) -> str:
    """The full name for those allowed to see it, 张某 / 欧阳某 for everyone else (第五十四条)."""
    return name if visible else mask_minor_name(name)


def age_on(birth_date: date, on: date) -> int:
    """Age in full years (周岁), reached the day *after* the birthday (最高人民法院《关于审理未成年人
    刑事案件具体应用法律若干问题的解释》第二条); born on 29 February: a year older on 1 March."""
    years = on.year - birth_date.year - ((on.month, on.day) <= (birth_date.month, birth_date.day))
    return max(years, 0)


def is_minor_case(birth_date: date, correction_start: date) -> bool:
    """Not yet 18 when correction began: the minor rules then apply to the end (第五十八条)."""
    return age_on(birth_date, correction_start) < 18


def may_share_activity(*minor_cases: bool) -> bool:
    """Group education or community service may not mix minors and adults (第五十二条第三款)."""
    return len(set(minor_cases)) <= 1
