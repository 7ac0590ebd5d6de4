"""Pydantic schemas of the case file: Base / Create / Update / Read / ListItem."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from zhijiao.core.errors import InvalidInput
from zhijiao.subjects import idcard
from zhijiao.subjects.idcard import Gender
from zhijiao.subjects.rules import CorrectionType, SubjectState, SupervisionLevel, TerminationReason  # noqa: F401


# One definition of each enum: the rules modules own them; the API re-exports them.
SubjectStatus = SubjectState


_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")

Name = Annotated[str, Field(min_length=2, max_length=50, description="姓名")]


def _check_phone(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    value = value.strip().replace(" ", "")
    if not _PHONE.match(value):
        raise PydanticCustomError("phone_format", "电话号码格式不正确（手机 11 位，或区号-号码）")
    return value


def _check_id(value: str) -> str:
    try:
        return idcard.parse_id_number(value).number
    except InvalidInput as exc:
        raise PydanticCustomError(exc.code, exc.message) from None


Phone = Annotated[str | None, AfterValidator(_check_phone), Field(description="联系电话")]
IdNumber = Annotated[str, AfterValidator(_check_id), Field(description="18 位公民身份号码")]


class TeamMember(BaseModel):
    name: Name
    role: str = Field(min_length=2, max_length=32, description="身份：司法所工作人员、村（居）委会、家庭成员等")
    gender: Gender | None = None
    phone: Phone = None


class SubjectBase(BaseModel):
    name: Name
    gender: Gender
    ethnicity: str = Field(default="汉族", min_length=2, max_length=16)
    phone: Phone = None
    residence_address: str | None = Field(default=None, max_length=200)
    household_address: str | None = Field(default=None, max_length=200)
    correction_type: CorrectionType
    crime: str = Field(min_length=2, max_length=128, description="罪名")
    sentence: str = Field(min_length=2, max_length=128, description="刑期/原判刑罚")
    deciding_organ: str = Field(min_length=2, max_length=128, description="决定机关")
    judgment_effective_date: date
    correction_start_date: date | None = None
    correction_end_date: date | None = None
    prohibitions: str | None = Field(default=None, max_length=2000, description="禁止令内容")
    supervision_level: SupervisionLevel = SupervisionLevel.ordinary
    is_minor: bool = Field(default=False, description="不被采用：由出生日期和判决生效日期自动确定；更正须由局领导办理")
    responsible_staff_id: int | None = None
    team: list[TeamMember] = Field(default_factory=list, max_length=20)


def _check_dates(start: date | None, end: date | None, judgment: date | None) -> None:
    if start and end and end <= start:
        raise PydanticCustomError("date_order", "矫正结束日期必须晚于开始日期")
    if judgment and start and start < judgment:
        raise PydanticCustomError("date_order", "矫正开始日期不能早于判决生效日期")


class SubjectCreate(SubjectBase):
    id_number: IdNumber
    office_id: int | None = Field(default=None, description="所属司法所；司法所工作人员可省略")


    @model_validator(mode="after")
    def _consistent(self) -> SubjectCreate:
        info = idcard.parse_id_number(self.id_number)
        if info.gender != self.gender.value:
            raise PydanticCustomError("gender_mismatch", "性别与身份证号码第 17 位不一致")
        _check_dates(self.correction_start_date, self.correction_end_date, self.judgment_effective_date)
        return self


class SubjectUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    ethnicity: str | None = Field(default=None, min_length=2, max_length=16)
    phone: Phone = None
    residence_address: str | None = Field(default=None, max_length=200)
    household_address: str | None = Field(default=None, max_length=200)
    crime: str | None = Field(default=None, min_length=2, max_length=128)
    sentence: str | None = Field(default=None, min_length=2, max_length=128)
    deciding_organ: str | None = Field(default=None, min_length=2, max_length=128)
    judgment_effective_date: date | None = None
    correction_start_date: date | None = None
    correction_end_date: date | None = None
    prohibitions: str | None = Field(default=None, max_length=2000)
    supervision_level: SupervisionLevel | None = None
    is_minor: bool | None = Field(default=None, description="不被采用：由出生日期和判决生效日期自动确定")
    responsible_staff_id: int | None = None
    office_id: int | None = None
    team: list[TeamMember] | None = Field(default=None, max_length=20)
    version: int | None = Field(default=None, description="乐观锁版本号；提供时若已被他人修改则返回 409")

    @model_validator(mode="after")
    def _dates(self) -> SubjectUpdate:
        _check_dates(self.correction_start_date, self.correction_end_date, self.judgment_effective_date)
        return self


class MinorOverrideIn(BaseModel):
    """The bureau leader's decision on a file's minor status, against what the dates give."""

    model_config = ConfigDict(extra="forbid")

    is_minor: bool | None = Field(description="按未成年人办理与否；null 撤销更正，恢复按日期自动确定")
    reason: str = Field(min_length=4, max_length=200, description="更正理由（如：出生日期经户籍核实有误）")


class MinorOverrideRead(BaseModel):
    id: int
    is_minor: bool
    minor_override: bool | None
    reason: str | None
    by: str | None
    at: datetime | None


class TransitionIn(BaseModel):
    to: SubjectStatus
    reason: str | None = Field(
        default=None, max_length=32,
        description="终止原因（revoked_probation / revoked_parole / recommitted / died）或解除原因",
    )
    basis: str | None = Field(default=None, max_length=256, description="法律依据；省略时按规则填入")
    note: str | None = Field(default=None, max_length=2000)


class TransitionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    from_status: str
    to_status: str
    at: datetime
    actor_name: str
    reason: str | None
    basis: str
    note: str | None


class TeamMemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    role: str
    gender: str | None
    phone: str | None


class Derived(BaseModel):
    reporting_deadline: date
    report_overdue: bool
    days_served: int | None
    days_remaining: int | None


class SubjectListItem(BaseModel):
    id: int
    name: str
    gender: str
    id_number_masked: str
    phone_masked: str | None
    office_id: int
    office_name: str
    correction_type: str
    supervision_level: str
    status: str
    is_minor: bool
    correction_start_date: date | None
    correction_end_date: date | None
    responsible_staff_name: str | None
    report_overdue: bool


class SubjectRead(SubjectListItem):
    id_number: str
    birth_date: date
    ethnicity: str
    phone: str | None
    residence_address: str | None
    household_address: str | None
    crime: str
    sentence: str
    deciding_organ: str
    judgment_effective_date: date
    prohibitions: str | None
    responsible_staff_id: int | None
    reported_at: datetime | None
    ended_at: datetime | None
    termination_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    derived: Derived
    team: list[TeamMemberRead]
    transitions: list[TransitionRead]


class SubjectTally(BaseModel):
    """The files matching a filter: those the caller can open and those left out of ``visible``."""

    visible: int
    hidden_active: int = Field(0, description="未成年人档案，仅其责任工作人员可见，未计入")
    hidden_sealed: int = Field(0, description="解除或终止矫正后封存的未成年人档案，未计入")

    @property
    def hidden(self) -> int:
        return self.hidden_active + self.hidden_sealed


class SubjectCounts(BaseModel):
    """Every count of subjects the screens show (subjects/counts.py), for the caller's files only."""

    registered: int = Field(description="在册：待接收、已报到、在矫")
    under_correction: int = Field(description="在矫")
    by_status: dict[str, int] = Field(description="各状态人数（含解除、终止）")
    by_level: dict[str, int] = Field(description="在矫人员的管理等级：严管、普管、宽管")
    total: int = Field(description="全部档案")
    report_overdue: int = Field(description="报到逾期（判决、裁定生效之日起十日内未报到，第二十一条）")
    hidden_active: int = Field(0, description="辖区内另有的未成年人档案，仅其责任工作人员可见，未计入以上数字")
    hidden_sealed: int = Field(0, description="辖区内另有的解除或终止矫正后封存的未成年人档案，未计入")

    @property
    def hidden(self) -> int:
        return self.hidden_active + self.hidden_sealed
