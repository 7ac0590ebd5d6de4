"""Every changeable value, with its default, bounds, who may change it and what it means.

``security.*`` belong to the security administrator, ``rules.*`` to the system administrator
(三员: neither touches the other's). Defaults follow GB/T 22239-2019 level 3 and
shared/domain.md; the deployment's environment gives the starting value where it has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from zhijiao.security.permissions import Perm


@dataclass(frozen=True, slots=True)
class SettingSpec:
    key: str
    default: int | float | bool | str
    label: str
    minimum: float | None = None
    maximum: float | None = None

    @property
    def perm(self) -> Perm:
        return Perm.security_settings if self.key.startswith("security.") else Perm.settings_manage


SPECS = {s.key: s for s in [
    # 身份鉴别 / 访问控制
    SettingSpec("security.password_max_age_days", 90, "密码最长使用天数（0 为不强制更换）", 0, 3650),
    SettingSpec("security.lockout_failures", 5, "连续登录失败锁定次数", 3, 20),
    SettingSpec("security.lockout_minutes", 30, "锁定时长（分钟）", 5, 1440),
    SettingSpec("security.session_idle_minutes", 10, "会话空闲超时（分钟）", 1, 120),
    SettingSpec("security.session_absolute_hours", 12, "会话最长时限（小时）", 1, 72),
    # 社区矫正法 第二十七条 and the Measures: leave approval limits
    SettingSpec("rules.leave_office_max_days", 7, "司法所可批准的外出天数上限", 1, 30),
    SettingSpec("rules.leave_max_days", 30, "每次批准外出天数上限", 1, 90),
    # electronic positioning rules
    SettingSpec("rules.dwell_s", 120, "越界/禁区告警的持续时间阈值（秒）", 0, 3600),
    SettingSpec("rules.night_start", "22:00", "夜不归宿起始时间"),
    SettingSpec("rules.night_end", "06:00", "夜不归宿结束时间"),
    SettingSpec("rules.night_radius_m", 500, "夜不归宿判定：离家距离（米）", 100, 5000),
    SettingSpec("rules.lost_contact_s", 1800, "失联判定时长（秒）", 300, 86400),
    SettingSpec("rules.alarm_escalation_minutes", 15, "告警未接警上报区局时限（分钟）", 1, 240),
    # video roll call (视频点名) by schedule: on average once every N days per level, within a window
    SettingSpec("rules.rollcall_every_days_strict", 1, "严管对象计划点名间隔（天，0 为不点名）", 0, 90),
    SettingSpec("rules.rollcall_every_days_ordinary", 7, "普管对象计划点名间隔（天，0 为不点名）", 0, 90),
    SettingSpec("rules.rollcall_every_days_lenient", 30, "宽管对象计划点名间隔（天，0 为不点名）", 0, 180),
    SettingSpec("rules.rollcall_window_start", "09:00", "计划点名时段开始"),
    SettingSpec("rules.rollcall_window_end", "18:00", "计划点名时段结束"),
    SettingSpec("rules.rollcall_answer_minutes", 10, "点名应答时限（分钟）", 1, 120),
    # self-service kiosk (自助终端)
    SettingSpec("rules.kiosk_challenges", "turn_left,turn_right,nod", "自助签到活体动作（逗号分隔：turn_left、turn_right、nod）"),
    SettingSpec("rules.kiosk_courses", "社区矫正法解读|法律常识：遵守监督管理规定|心理健康：情绪管理与压力疏导|"
                "就业指导：职业技能培训信息|安全教育：交通与消防安全", "自助终端自学课程（以 | 分隔）"),
]}
