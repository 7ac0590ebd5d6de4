"""Every changeable value, with its default, bounds, who may change it and what it means.

``security.*`` belong to the security administrator, ``rules.*`` to the system administrator
(三员: neither touches the other's). Defaults follow GB/T 22239-2019 level 3 and
shared/domain.md; the deployment's environment gives the starting value where it has one.

``maximum`` is the widest value the software accepts; ``legal_max`` (with ``legal_basis``) is the
ceiling the law sets. A value above the legal ceiling is refused with ``setting_above_legal_limit``
(provinces may tighten the law's limits, never loosen them), so ``maximum`` never exceeds it.
"""

from __future__ import annotations

from dataclasses import dataclass

from zhijiao.security.permissions import Perm

#: Groups in the order the settings screen shows them.
GROUPS = ("身份鉴别与会话", "外出审批", "电子定位告警", "视频点名", "自助终端")


@dataclass(frozen=True, slots=True)
class SettingSpec:
    key: str
    default: int | float | bool | str
    label: str
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    group: str = ""
    hint: str = ""
    legal_max: float | None = None
    legal_basis: str = ""

    def __post_init__(self) -> None:
        if self.legal_max is not None and self.maximum is not None:
            assert self.maximum <= self.legal_max, f"{self.key}: maximum above the legal ceiling"

    @property
    def perm(self) -> Perm:
        return Perm.security_settings if self.key.startswith("security.") else Perm.settings_manage


_AUTH, _LEAVE, _GEO, _ROLL, _KIOSK = GROUPS
_LEVEL3 = "GB/T 22239-2019 第三级 身份鉴别"

SPECS = {s.key: s for s in [
    # 身份鉴别 / 访问控制
    SettingSpec("security.password_max_age_days", 90, "密码最长使用天数（0 为不强制更换）", 0, 3650, unit="天",
                group=_AUTH, hint="到期后登录须先修改密码", legal_basis=_LEVEL3),
    SettingSpec("security.lockout_failures", 5, "连续登录失败锁定次数", 3, 20, unit="次", group=_AUTH,
                hint="达到次数后锁定账号", legal_basis=_LEVEL3),
    SettingSpec("security.lockout_minutes", 30, "锁定时长（分钟）", 5, 1440, unit="分钟", group=_AUTH,
                legal_basis=_LEVEL3),
    SettingSpec("security.session_idle_minutes", 10, "会话空闲超时（分钟）", 1, 120, unit="分钟", group=_AUTH,
                hint="无操作超过该时长须重新登录", legal_basis=_LEVEL3),
    SettingSpec("security.session_absolute_hours", 12, "会话最长时限（小时）", 1, 72, unit="小时", group=_AUTH,
                legal_basis=_LEVEL3),
    # 社区矫正法 第二十七条 and 实施办法 第二十七条: leave approval limits (provinces may tighten, not loosen)
    SettingSpec("rules.leave_office_max_days", 7, "司法所可批准的外出天数上限", 1, 7, unit="天", group=_LEAVE,
                hint="不超过七日的外出，司法所可受委托批准并报区局备案", legal_max=7,
                legal_basis="社区矫正法实施办法第二十七条"),
    SettingSpec("rules.leave_max_days", 30, "每次批准外出天数上限", 1, 30, unit="天", group=_LEAVE,
                hint="超过七日由区局批准；每次不超过三十日，超过须报上一级社区矫正机构", legal_max=30,
                legal_basis="社区矫正法第二十七条、实施办法第二十七条"),
    # electronic positioning rules
    SettingSpec("rules.dwell_s", 120, "越界/禁区告警的持续时间阈值（秒）", 0, 3600, unit="秒", group=_GEO,
                hint="越界或进入禁区持续超过该时长才告警，过滤定位漂移"),
    SettingSpec("rules.night_start", "22:00", "夜不归宿起始时间", group=_GEO, hint="北京时间，格式 时:分"),
    SettingSpec("rules.night_end", "06:00", "夜不归宿结束时间", group=_GEO, hint="北京时间，格式 时:分"),
    SettingSpec("rules.night_radius_m", 500, "夜不归宿判定：离家距离（米）", 100, 5000, unit="米", group=_GEO),
    SettingSpec("rules.lost_contact_s", 1800, "失联判定时长（秒）", 300, 86400, unit="秒", group=_GEO,
                hint="超过该时长无定位数据即为失联（社区矫正法第三十条）"),
    SettingSpec("rules.alarm_escalation_minutes", 15, "告警未接警上报区局时限（分钟）", 1, 240, unit="分钟",
                group=_GEO),
    # video roll call (视频点名) by schedule: on average once every N days per level, within a window
    SettingSpec("rules.rollcall_every_days_strict", 1, "严管对象计划点名间隔（天，0 为不点名）", 0, 90, unit="天",
                group=_ROLL),
    SettingSpec("rules.rollcall_every_days_ordinary", 7, "普管对象计划点名间隔（天，0 为不点名）", 0, 90, unit="天",
                group=_ROLL),
    SettingSpec("rules.rollcall_every_days_lenient", 30, "宽管对象计划点名间隔（天，0 为不点名）", 0, 180, unit="天",
                group=_ROLL),
    SettingSpec("rules.rollcall_window_start", "09:00", "计划点名时段开始", group=_ROLL, hint="北京时间，格式 时:分"),
    SettingSpec("rules.rollcall_window_end", "18:00", "计划点名时段结束", group=_ROLL, hint="北京时间，格式 时:分"),
    SettingSpec("rules.rollcall_answer_minutes", 10, "点名应答时限（分钟）", 1, 120, unit="分钟", group=_ROLL),
    # self-service kiosk (自助终端)
    SettingSpec("rules.kiosk_challenges", "turn_left,turn_right,nod", "自助签到活体动作（逗号分隔：turn_left、turn_right、nod）",
                group=_KIOSK),
    SettingSpec("rules.kiosk_courses", "社区矫正法解读|法律常识：遵守监督管理规定|心理健康：情绪管理与压力疏导|"
                "就业指导：职业技能培训信息|安全教育：交通与消防安全", "自助终端自学课程（以 | 分隔）", group=_KIOSK),
]}
