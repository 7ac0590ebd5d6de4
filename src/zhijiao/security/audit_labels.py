"""The audit log in Chinese: what each table, action and field is called, and a change as a sentence.

The log itself keeps the codes (``subjects``, ``update``, ``{"status": [old, new]}``): they are what
the hash chain signs. Screens and the export show them through these words; a code without a word
is shown as it is, so nothing is ever hidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from zhijiao.core import clock

TABLES: dict[str, str] = {
    "login": "登录", "subject_login": "对象手机登录", "job": "定时任务", "role_changes": "角色变更申请",
    "alarm_actions": "告警处置记录", "alarms": "告警", "announcements": "宣告", "audit_events": "审计日志",
    "audit_head": "审计链", "auth_sessions": "登录会话", "bureaus": "司法局", "cameras": "摄像头",
    "checkins": "签到", "correction_plans": "矫正方案", "correction_team_members": "矫正小组成员",
    "daily_records": "日常监管记录", "device_bindings": "设备绑定", "devices": "定位设备",
    "document_counters": "文书编号", "documents": "文书", "evidence": "证据材料", "face_enrolments": "人脸采集",
    "fixes": "定位数据", "job_runs": "定时任务运行", "kiosk_challenges": "自助终端核验",
    "leave_requests": "外出请假", "level_reviews": "管理等级评定", "monthly_assessments": "月度考核",
    "notifications": "通知", "offices": "司法所", "plan_reviews": "矫正方案复查",
    "positioning_orders": "电子定位审批", "pre_sentence_assessments": "调查评估", "proposals": "提请建议",
    "receptions": "交付接收", "rollcalls": "点名", "sanctions": "奖惩", "settings": "系统设置",
    "staff": "工作人员账号", "subject_credentials": "对象手机登录账号", "subject_transitions": "矫正状态流转",
    "subjects": "社区矫正对象", "tasks": "待办任务", "transfers": "执行地变更", "zones": "电子围栏",
}

ACTIONS: dict[str, str] = {
    "login": "登录", "login_failed": "登录失败", "login_blocked_ip": "登录受限（IP）",
    "view_identity": "查看身份信息", "view_track": "查看轨迹", "view_biometric": "查看人脸信息",
    "create": "新增", "update": "修改", "delete": "删除", "export": "导出", "download": "下载",
    "totp_enrolled": "绑定动态口令", "password_changed": "修改密码", "run": "运行", "escalate": "升级",
    "password_reset": "重置密码", "login_created": "开通手机登录", "login_revoked": "停用手机登录",
    "sessions_ended": "结束会话", "rerender": "重新生成",
    "reencrypt": "密钥轮换重新加密", "minor_override": "更正未成年身份", "denied": "拒绝越权操作",
    "activation_issued": "发放激活码", "activated": "激活账号",
}

FIELDS: dict[str, str] = {
    "from_role": "原角色", "to_role": "新角色", "requested_by": "申请人", "requested_by_id": "申请人编号",
    "decided_by": "批准人", "decided_at": "批准时间", "activation_expires_at": "激活码有效期",
    "operation": "操作", "target_role": "对象角色",
    "id": "编号", "name": "姓名/名称", "display_name": "姓名", "username": "用户名", "role": "角色",
    "active": "启用", "office_id": "司法所", "bureau_id": "司法局", "staff_id": "工作人员", "subject_id": "对象",
    "gender": "性别", "birth_date": "出生日期", "ethnicity": "民族", "id_number": "身份证号",
    "id_number_index": "身份证号索引", "id_number_masked": "身份证号（脱敏）", "phone": "联系电话",
    "phone_masked": "联系电话（脱敏）", "residence_address": "居住地", "household_address": "户籍地",
    "correction_type": "矫正类别", "supervision_level": "管理等级", "status": "状态", "is_minor": "未成年人",
    "minor_override": "未成年身份更正", "minor_override_reason": "更正理由", "minor_override_by": "更正人",
    "minor_override_at": "更正时间",
    "crime": "罪名", "sentence": "刑罚", "deciding_organ": "决定机关", "judgment_effective_date": "判决生效日期",
    "correction_start_date": "矫正起始日期", "correction_end_date": "矫正结束日期", "prohibitions": "禁止令",
    "responsible_staff_id": "责任工作人员", "reported_at": "报到时间", "ended_at": "结束时间",
    "termination_reason": "终止/解除原因", "version": "版本", "created_at": "创建时间", "updated_at": "修改时间",
    "from_status": "原状态", "to_status": "新状态", "at": "时间", "actor_id": "办理人", "actor_name": "办理人",
    "reason": "事由", "basis": "法律依据", "note": "备注", "home_lat": "住址纬度", "home_lon": "住址经度",
    "destination": "目的地", "start": "开始", "end": "结束", "days": "天数", "companions": "同行人",
    "contact_phone": "外出联系电话", "requested_by": "申请人", "requested_by_id": "申请人",
    "approver_level": "审批层级", "decided_by": "审批人", "decided_by_id": "审批人", "decided_at": "审批时间",
    "decision_note": "审批意见", "returned_on": "返回日期", "return_note": "返回说明",
    "return_confirmed_by": "返回确认人", "frequent": "经常性外出", "kind": "类别", "title": "标题",
    "number": "编号", "doc_date": "文书日期", "source_type": "来源", "source_id": "来源编号", "sha256": "摘要",
    "pages": "页数", "size": "大小", "proposed_by": "提请人", "proposed_by_id": "提请人",
    "proposed_level": "建议等级", "decided_level": "确定等级", "current_level": "原等级", "score": "分数",
    "computed_score": "建议分数", "passed": "合格", "month": "月份", "assessed_at": "考核时间",
    "assessed_by": "考核人", "occurred_on": "发生日期", "summary": "摘要", "channel": "方式",
    "recorded_by": "记录人", "recorded_at": "记录时间", "findings": "复查情况", "goals": "矫正目标",
    "measures": "矫正措施", "reviewed_by": "复查人", "reviewed_on": "复查日期", "next_review_on": "下次复查",
    "place": "地点", "type": "类型", "severity": "级别", "verdict": "核实结论", "opened_at": "发生时间",
    "closed_at": "办结时间", "closed_by": "办结人", "acknowledged_at": "接警时间", "acknowledged_by": "接警人",
    "dispatched_to_id": "派单对象", "escalated_at": "升级时间", "response_seconds": "响应秒数",
    "retrospective": "事后补报", "past_episode": "补传的单独经过", "occurrences": "次数", "action": "操作", "ident": "设备号",
    "protocol": "协议", "device_id": "设备", "start_at": "开始时间", "end_at": "结束时间", "bound_by": "绑定人",
    "geojson": "范围", "schedule": "时间安排", "restriction": "限制", "zone_id": "围栏", "key": "设置项",
    "value": "取值", "set_by": "设置人", "set_at": "设置时间", "expires_at": "到期时间", "revoked_at": "撤销时间",
    "revoke_reason": "撤销原因", "approved_by_id": "批准人", "approved_by_name": "批准人",
    "approved_at": "批准时间", "legal_basis": "法律依据", "to_agency": "新执行地", "to_address": "新住址",
    "password_hash": "密码", "password_changed_at": "密码修改时间", "password_history": "历史密码",
    "totp_secret": "动态口令密钥", "totp_pending": "待绑定动态口令", "failed_logins": "登录失败次数",
    "locked_until": "锁定至", "totp_last_step": "动态口令使用序号", "last_seen_at": "最近活动",
    "last_login_at": "上次登录", "client_ip": "来源地址", "token_hash": "会话令牌",
    "matched": "比对通过", "source": "来源", "photo": "照片", "embedding": "人脸特征", "quality": "质量",
    "enrolled_by": "采集人", "enrolled_at": "采集时间", "due_on": "到期日", "done_on": "完成日期",
    "done_by": "完成人", "assignee_id": "承办人", "deadline": "期限", "answer": "答复", "opinion": "意见",
    "stream_url": "视频地址", "location_kind": "位置类型", "address": "地址", "short_name": "简称",
    "episode_start": "事件开始", "last_at": "最近一次", "lat": "纬度", "lon": "经度", "details": "详情",
    "code": "编码", "rows": "行数", "object_type": "对象", "purpose": "用途", "inquiry_ref": "查询依据",
}

MASKED = "***"


def table_label(code: str | None) -> str:
    return TABLES.get(code or "", code or "")


def action_label(code: str | None) -> str:
    return ACTIONS.get(code or "", code or "")


def field_label(key: str) -> str:
    return FIELDS.get(key, key)


def _local_time(text: str) -> str:
    try:
        return clock.format_local(clock.ensure_utc(datetime.fromisoformat(text)), "%Y-%m-%d %H:%M")
    except ValueError:
        return text[:16].replace("T", " ")


def _value(value: Any, key: str, values: Mapping[str, str], names: Mapping[str, str]) -> str:
    if value is None or value == "":
        return "空"
    if value is True:
        return "是"
    if value is False:
        return "否"
    if value == MASKED:
        return "（已隐藏）"
    if isinstance(value, str):
        if key in ("actor_name", "requested_by", "decided_by", "proposed_by", "set_by", "bound_by") and value in names:
            return names[value]
        text = values.get(value, value)
        if len(text) >= 19 and text[4:5] == "-" and text[10:11] == "T":  # an ISO time: local, to the minute
            text = _local_time(text)
        return text if len(text) <= 40 else text[:40] + "…"
    if isinstance(value, (list, dict)):
        return f"（{len(value)} 项）"
    return str(value)


def describe(action: str | None, changes: Mapping[str, Any] | None, *, values: Mapping[str, str] | None = None,
             names: Mapping[str, str] | None = None, limit: int | None = None) -> str:
    """A change in words: ``状态：待接收 → 已报到；管理等级：普管 → 严管`` for an update, ``姓名：张三；…``
    for a record made or removed, ``行数：12`` for details. ``values`` names codes (状态, 等级…),
    ``names`` people behind usernames."""
    if not changes:
        return ""
    values, names = values or {}, names or {}
    parts = []
    for key, change in changes.items():
        if key in ("id", "version", "created_at", "updated_at", "id_number_index"):
            continue
        label = field_label(key)
        if action == "update" and isinstance(change, list) and len(change) == 2:
            old, new = (_value(v, key, values, names) for v in change)
            parts.append(f"{label}：{old} → {new}")
        else:
            parts.append(f"{label}：{_value(change, key, values, names)}")
    text = "；".join(parts)
    if limit is not None and len(text) > limit:
        return text[:limit] + "…"
    return text
