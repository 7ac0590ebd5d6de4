"""Schemas of tasks: Read / Page / Summary."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

TASK_KINDS: dict[str, str] = {
    "report_overdue": "逾期未报到",
    "assessment_due": "调查评估期限",
    "reception_documents": "法律文书未送达或不全",
    "level_confirm": "确认管理等级",
    "plan_due": "制定矫正方案",
    "plan_review": "矫正方案复查",
    "duty": "分类管理义务",
    "leave_decision": "外出审批",
    "leave_overdue": "外出逾期未归",
    "leave_late_return": "外出逾期返回处理",
    "transfer_consult": "执行地变更征求意见回复",
    "transfer_handover": "执行地变更档案移交",
    "transfer_report": "新执行地报到",
    "sanction_decision": "奖惩审批",
    "proposal_review": "处理提请建议",
    "court_answer": "等待法院（决定机关）裁定",
    "termination_followup": "办理终止矫正",
    "positioning_decision": "电子定位审批",
}


class TaskRead(BaseModel):
    id: int
    kind: str
    kind_label: str
    title: str
    due_on: date
    status: str
    overdue: bool
    days_overdue: int
    subject_id: int | None
    subject_name: str | None = Field(description="未成年人姓名已隐去（社区矫正法第五十四条）")
    office_id: int | None
    office_name: str | None
    assignee_id: int | None
    assignee_name: str | None
    source_type: str | None
    source_id: int | None
    created_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    note: str | None


class TaskCounts(BaseModel):
    open: int
    overdue: int


class TaskPage(BaseModel):
    items: list[TaskRead]
    total: int
    page: int
    size: int
    counts: TaskCounts = Field(description="同一筛选条件下未办结与已逾期的任务数")


class TaskGroup(BaseModel):
    id: int | None
    name: str
    open: int
    overdue: int


class TaskSummary(BaseModel):
    today: date
    open: int
    overdue: int
    offices: list[TaskGroup]
    staff: list[TaskGroup]


class TaskDone(BaseModel):
    note: str | None = Field(default=None, max_length=2000)
