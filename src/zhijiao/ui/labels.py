"""Chinese labels and badge colours for enum values shown on screen."""

from __future__ import annotations

from zhijiao.security.permissions import ROLE_LABELS
from zhijiao.subjects import rules
from zhijiao.subjects.idcard import GENDER_LABELS
from zhijiao.subjects.schemas import SupervisionLevel

STATUS = {k.value: v for k, v in rules.STATE_LABELS.items()}
CORRECTION_TYPE = {k.value: v for k, v in rules.CORRECTION_TYPE_LABELS.items()}
TERMINATION_REASON = {k.value: v for k, v in rules.TERMINATION_REASON_LABELS.items()}
RELEASE_REASON = {k.value: v for k, v in rules.RELEASE_REASON_LABELS.items()}
REASON = {**TERMINATION_REASON, **RELEASE_REASON}
GENDER = {k.value: v for k, v in GENDER_LABELS.items()}
ROLE = {k.value: v for k, v in ROLE_LABELS.items()}
SUPERVISION_LEVEL = {
    SupervisionLevel.strict.value: "严管",
    SupervisionLevel.ordinary.value: "普管",
    SupervisionLevel.lenient.value: "宽管",
}

# Quasar colour names for badges.
STATUS_COLOR = {
    "pending_reception": "orange-8",
    "reported": "blue-6",
    "under_correction": "green-7",
    "released": "grey-6",
    "terminated": "blue-grey-8",
}
LEVEL_COLOR = {"strict": "red-7", "ordinary": "blue-7", "lenient": "teal-6"}

AUDIT_ACTION = {
    "login": "登录",
    "login_failed": "登录失败",
    "login_blocked_ip": "登录受限（IP）",
    "view_identity": "查看身份信息",
    "create": "新增",
    "update": "修改",
    "delete": "删除",
    "password_reset": "重置密码",
}
AUDIT_OBJECT = {
    "login": "登录",
    "subjects": "社区矫正对象",
    "subject_transitions": "矫正状态流转",
    "correction_team_members": "矫正小组成员",
    "staff": "工作人员账号",
    "offices": "司法所",
    "bureaus": "司法局",
    "auth_sessions": "会话",
    "settings": "参数设置",
    "zones": "电子围栏",
}


def label(table: dict[str, str], value: str | None, default: str = "") -> str:
    """The Chinese label of ``value``; the raw value when unknown, ``default`` when empty."""
    if value is None or value == "":
        return default
    return table.get(str(value), str(value))


def transition_label(target: str, reason: str | None) -> str:
    """Button text of a lifecycle step: 登记报到, 接收入矫, 解除矫正（矫正期满）, 终止矫正（死亡）…"""
    if target == "reported":
        return "登记报到"
    if target == "under_correction":
        return "接收入矫"
    base = STATUS[target]
    return f"{base}（{REASON[reason]}）" if reason else base
