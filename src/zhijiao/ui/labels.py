"""Chinese labels and badge colours for enum values shown on screen."""

from __future__ import annotations

from zhijiao.security import audit_labels
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

# the audit log's words live with it (security/audit_labels.py), shared with the export
AUDIT_ACTION = audit_labels.ACTIONS
AUDIT_OBJECT = audit_labels.TABLES


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
