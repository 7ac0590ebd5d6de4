"""/subjects/new and /subjects/{id}/edit: the case file form.

The form is validated by the API's own models (``SubjectCreate`` / ``SubjectUpdate``) and their
errors are translated by the API's translator, so the screen and the API accept and refuse the
same input with the same Chinese messages. The service then checks jurisdiction and duplicates.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from nicegui import ui
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from zhijiao.api.errors import translate
from zhijiao.core.errors import DomainError, Forbidden
from zhijiao.org import service as org_service
from zhijiao.org.models import Staff
from zhijiao.security.permissions import Perm, Role, sees_every_office
from zhijiao.subjects import rules
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.schemas import SubjectCreate, SubjectRead, SubjectUpdate
from zhijiao.ui import labels, session
from zhijiao.ui.components.date_input import date_input
from zhijiao.ui.layout import error_notice, frame, section
from zhijiao.ui.session import PageContext, protected_page

# Text fields: (key, label, required, max length).
IDENTITY_FIELDS = [("name", "姓名", True, 50), ("ethnicity", "民族", True, 16), ("phone", "联系电话", False, 20)]
ADDRESS_FIELDS = [("residence_address", "居住地", False, 200), ("household_address", "户籍地", False, 200)]
CASE_FIELDS = [("crime", "罪名", True, 128), ("sentence", "刑罚", True, 128), ("deciding_organ", "决定机关", True, 128)]
DATE_FIELDS = [("judgment_effective_date", "判决（裁定、决定）生效日期", True),
               ("correction_start_date", "矫正开始日期", False), ("correction_end_date", "矫正结束日期", False)]
TEAM_FIELDS = [("name", "姓名"), ("role", "身份"), ("gender", "性别"), ("phone", "联系电话")]
TEAM_ROLES = ["司法所工作人员", "村（居）委会成员", "家庭成员", "所在单位人员", "社会工作者", "志愿者"]
# Errors of the whole model, shown at the field they concern.
MODEL_ERROR_FIELD = {"gender_mismatch": "gender"}
REQUIRED = "必填项"


def _team_roles(current: str | None) -> list[str]:
    return TEAM_ROLES if not current or current in TEAM_ROLES else [*TEAM_ROLES, current]


def _text(value: Any) -> str | None:
    text = (value or "").strip() if isinstance(value, str) else value
    return text if text not in ("", None) else None


class SubjectForm:
    """Widgets for one case file; ``values()`` reads them as the API's JSON would carry them."""

    def __init__(self, ctx: PageContext, *, original: SubjectRead | None, offices: dict[int, str],
                 staff: list[Staff]) -> None:
        self.ctx = ctx
        self.original = original
        self.offices = offices
        self.staff = staff
        self.fields: dict[str, Any] = {}
        self.team: list[dict[str, Any]] = (
            [{"name": m.name, "role": m.role, "gender": m.gender, "phone": m.phone} for m in original.team]
            if original else []
        )
        self.team_fields: list[dict[str, Any]] = []
        self.district = sees_every_office(ctx.actor)

    # --- building -------------------------------------------------------------------------

    def _input(self, key: str, label: str, required: bool, max_length: int, value: Any = None) -> ui.input:
        widget = ui.input(f"{label}{' *' if required else ''}", value=value or "").props(
            f"outlined dense maxlength={max_length} hide-bottom-space").classes("w-full").mark(f"field-{key}")
        self.fields[key] = widget
        return widget

    def _select(self, key: str, label: str, options: dict, value: Any, required: bool = True) -> ui.select:
        widget = ui.select(options, value=value, label=f"{label}{' *' if required else ''}").props(
            "outlined dense options-dense hide-bottom-space").classes("w-full").mark(f"field-{key}")
        self.fields[key] = widget
        return widget

    def _date(self, key: str, label: str, required: bool, value: date | None) -> ui.input:
        widget = date_input(f"{label}{' *' if required else ''}", value.isoformat() if value else "").classes(
            "w-full").mark(f"field-{key}")
        self.fields[key] = widget
        return widget

    def build(self) -> None:
        o = self.original
        creating = o is None
        with ui.card().classes("zj-card w-full p-4 gap-3"):
            section("基本信息")
            with ui.grid(columns=3).classes("w-full gap-x-4 gap-y-3 max-md:grid-cols-1"):
                self._input("name", "姓名", True, 50, o.name if o else None)
                if creating:
                    self._input("id_number", "身份证号", True, 18).props("counter=false")
                    self._select("gender", "性别", labels.GENDER, None)
                else:
                    ui.input("身份证号", value=o.id_number).props("outlined dense readonly").classes("w-full")
                    ui.input("性别", value=labels.label(labels.GENDER, o.gender)).props(
                        "outlined dense readonly").classes("w-full")
                self._input("ethnicity", "民族", True, 16, o.ethnicity if o else "汉族")
                self._input("phone", "联系电话", False, 20, o.phone if o else None)
                with ui.row().classes("items-center"):
                    # Derived from the birth and decision dates; only the leader corrects it (issue 20).
                    self.fields["is_minor"] = ui.checkbox("未成年社区矫正对象（按出生日期和判决生效日期自动确定）",
                                                          value=o.is_minor if o else False).props(
                        "disable").mark("field-is_minor")
            with ui.grid(columns=2).classes("w-full gap-x-4 gap-y-3 max-md:grid-cols-1"):
                for key, label, required, max_length in ADDRESS_FIELDS:
                    self._input(key, label, required, max_length, getattr(o, key) if o else None)
            section("执行信息")
            with ui.grid(columns=3).classes("w-full gap-x-4 gap-y-3 max-md:grid-cols-1"):
                if self.district or creating:
                    if self.district:
                        office = self._select("office_id", "所属司法所", self.offices, o.office_id if o else None)
                        office.on_value_change(lambda _: self._refresh_staff())
                    else:
                        ui.input("所属司法所", value=self.ctx.office_name or "").props(
                            "outlined dense readonly").classes("w-full")
                else:
                    ui.input("所属司法所", value=o.office_name if o else "").props(
                        "outlined dense readonly").classes("w-full")
                self._select("responsible_staff_id", "责任人", self._staff_options(),
                             o.responsible_staff_id if o else None, required=False).props("clearable")
                self._select("supervision_level", "管理等级", labels.SUPERVISION_LEVEL,
                             o.supervision_level if o else "ordinary")
        with ui.card().classes("zj-card w-full p-4 gap-3"):
            section("案件信息")
            with ui.grid(columns=3).classes("w-full gap-x-4 gap-y-3 max-md:grid-cols-1"):
                if creating:
                    self._select("correction_type", "矫正类别", labels.CORRECTION_TYPE, None)
                else:
                    ui.input("矫正类别", value=labels.label(labels.CORRECTION_TYPE, o.correction_type)).props(
                        "outlined dense readonly").classes("w-full")
                for key, label, required, max_length in CASE_FIELDS:
                    self._input(key, label, required, max_length, getattr(o, key) if o else None)
                for key, label, required in DATE_FIELDS:
                    self._date(key, label, required, getattr(o, key) if o else None)
            self.fields["prohibitions"] = ui.textarea("禁止令内容", value=(o.prohibitions if o else "") or "").props(
                "outlined dense autogrow maxlength=2000 hide-bottom-space").classes("w-full").mark("field-prohibitions")
            ui.label(rules.LEGAL_BASIS["period"]).classes("text-xs text-grey-6")
        with ui.card().classes("zj-card w-full p-4 gap-3"):
            with ui.row().classes("w-full items-center"):
                section("矫正小组")
                ui.space()
                ui.button("添加成员", icon="add", on_click=self._add_member).props("flat dense color=primary").mark(
                    "team-add")
            self._team_rows()
        self.general = ui.label().classes("text-negative text-sm").mark("form-error")
        self.general.set_visibility(False)

    def _staff_options(self) -> dict[int, str]:
        office_id = self.fields["office_id"].value if "office_id" in self.fields else (
            self.original.office_id if self.original else self.ctx.actor.office_id)
        options = {}
        for s in self.staff:
            if s.role == Role.office_officer and s.office_id != office_id:
                continue
            where = s.office.name if s.office else "区局"
            options[s.id] = f"{s.display_name}（{where}）"
        return options

    def _refresh_staff(self) -> None:
        widget = self.fields["responsible_staff_id"]
        options = self._staff_options()
        widget.set_options(options, value=widget.value if widget.value in options else None)

    @ui.refreshable_method
    def _team_rows(self) -> None:
        self.team_fields = []
        if not self.team:
            ui.label("暂无成员（可在建档后补充）").classes("text-sm text-grey-7")
        for i, member in enumerate(self.team):
            with ui.row().classes("w-full items-start gap-3 no-wrap"):
                widgets = {
                    "name": ui.input("姓名 *").props("outlined dense maxlength=50 hide-bottom-space").classes("w-40"),
                    "role": ui.select(_team_roles(member.get("role")), label="身份 *",
                                      new_value_mode="add-unique").props(
                        "outlined dense options-dense use-input hide-bottom-space").classes("w-48"),
                    "gender": ui.select(labels.GENDER, label="性别").props(
                        "outlined dense clearable hide-bottom-space").classes("w-28"),
                    "phone": ui.input("联系电话").props("outlined dense maxlength=20 hide-bottom-space").classes(
                        "w-44"),
                }
                for key, widget in widgets.items():
                    widget.bind_value(member, key)
                    widget.mark(f"team-{i}-{key}")
                ui.button(icon="delete", on_click=lambda _, i=i: self._remove_member(i)).props(
                    "flat round dense color=grey-7").tooltip("移除")
            self.team_fields.append(widgets)

    def _add_member(self) -> None:
        self.team.append({"name": "", "role": None, "gender": None, "phone": ""})
        self._team_rows.refresh()

    def _remove_member(self, index: int) -> None:
        del self.team[index]
        self._team_rows.refresh()

    # --- reading and errors ------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        """Every field's value as JSON would carry it; blank fields are null."""
        data: dict[str, Any] = {}
        for key, widget in self.fields.items():
            value = widget.value
            data[key] = _text(value) if isinstance(value, str) or value is None else value
        data["team"] = [{k: _text(v) for k, v in m.items() if _text(v) is not None} for m in self.team]
        return data

    def clear_errors(self) -> None:
        for widget in [*self.fields.values(), *(w for row in self.team_fields for w in row.values())]:
            if hasattr(widget, "error"):
                widget.error = None
        self.general.set_visibility(False)

    def show_errors(self, fields: dict[str, str]) -> None:
        leftover = []
        for name, message in fields.items():
            widget = self._widget(name)
            if widget is not None and hasattr(widget, "error"):
                widget.error = message
            else:
                leftover.append(message)
        if leftover:
            self.general.set_text("；".join(leftover))
            self.general.set_visibility(True)

    def _widget(self, name: str) -> Any:
        parts = name.split(".")
        if parts[0] == "team" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(self.team_fields):
            return self.team_fields[int(parts[1])].get(parts[2])
        return self.fields.get(parts[0])

    def validate(self, model: type[BaseModel], data: dict[str, Any]) -> BaseModel | None:
        """The API's model built from ``data``, or None with the errors shown per field."""
        self.clear_errors()
        # A blank required field is absent from the JSON, so that pydantic says 必填项.
        fields = model.model_fields
        data = {k: v for k, v in data.items() if not (v is None and k in fields and fields[k].is_required())}
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            fields, details = translate(exc.errors())
            for d in details:  # errors of the whole model: put them where the user can fix them
                if d["field"] == "body":
                    fields.pop("body", None)
                    target = MODEL_ERROR_FIELD.get(d["code"]) or (
                        "correction_start_date" if "开始日期不能早于" in d["message"] else
                        "correction_end_date" if d["code"] == "date_order" else "body")
                    fields.setdefault(target, d["message"])
            self.show_errors(fields)
            ui.notify("请根据提示修改标红的项目", type="warning", position="top")
            return None

    def refuse(self, exc: DomainError) -> None:
        """A service refusal: the message as a notification, its fields marked."""
        self.show_errors(dict(exc.fields))
        session.show_error(exc)

    # --- saving ------------------------------------------------------------------------------

    def create(self, db: Session) -> None:
        data = self.values()
        if not self.district:
            data.pop("office_id", None)
        subject_in = self.validate(SubjectCreate, data)
        if subject_in is None:
            return
        try:
            subject = subjects_service.create(db_session=db, subject_in=subject_in)
        except DomainError as exc:
            self.refuse(exc)
            return
        ui.notify(f"已建立 {subject_in.name} 的档案", type="positive", position="top")
        ui.navigate.to(f"/subjects/{subject.id}")

    def update(self, db: Session) -> None:
        o = self.original
        assert o is not None
        data = self.values()
        missing = {k: REQUIRED for k, _, required, *_ in [*IDENTITY_FIELDS, *CASE_FIELDS, *DATE_FIELDS]
                   if required and data.get(k) is None}
        if missing:  # a PATCH with null would erase a required value
            self.clear_errors()
            self.show_errors(missing)
            return
        before = o.model_dump(mode="json")
        before["team"] = [{k: v for k, v in m.items() if v is not None} for m in before["team"]]
        changes = {k: v for k, v in data.items() if k in SubjectUpdate.model_fields and v != before.get(k)}
        if not changes:
            ui.notify("没有修改任何内容", position="top")
            return
        subject_in = self.validate(SubjectUpdate, {**changes, "version": o.version})
        if subject_in is None:
            return
        try:
            subjects_service.update(db_session=db, subject_id=o.id, subject_in=subject_in)
        except DomainError as exc:
            self.refuse(exc)
            return
        ui.notify("档案已保存", type="positive", position="top")
        ui.navigate.to(f"/subjects/{o.id}")


def _load_choices(ctx: PageContext) -> tuple[dict[int, str], list[Staff]]:
    offices = org_service.list_offices(db_session=ctx.db) if sees_every_office(ctx.actor) else []
    staff = org_service.list_staff(db_session=ctx.db, active_only=True)
    return {o.id: o.name for o in offices}, staff


def _buttons(save: Callable[..., Any], cancel_to: str) -> None:
    with ui.row().classes("w-full justify-end gap-2"):
        ui.button("取消", on_click=lambda: ui.navigate.to(cancel_to)).props("flat")
        ui.button("保存", icon="save", on_click=save).props("unelevated color=primary").mark("save")


def register() -> None:
    @protected_page("/subjects/new")
    def new_subject(ctx: PageContext) -> None:
        with frame("新建社区矫正对象档案"):
            try:
                if not ctx.can(Perm.subjects_write):
                    raise Forbidden("您的角色无权新建档案", code="permission_denied")
                offices, staff = _load_choices(ctx)
            except DomainError as exc:
                error_notice(exc)
                return
            form = SubjectForm(ctx, original=None, offices=offices, staff=staff)
            form.build()
            _buttons(session.action(lambda db: form.create(db)), "/subjects")

    @protected_page("/subjects/{subject_id}/edit")
    def edit_subject(ctx: PageContext, subject_id: int) -> None:
        with frame("编辑社区矫正对象档案"):
            try:
                if not ctx.can(Perm.subjects_write):
                    raise Forbidden("您的角色无权修改档案", code="permission_denied")
                original = subjects_service.read_full(db_session=ctx.db, subject_id=subject_id)
                if original.status in {s.value for s in rules.FINAL_STATES}:
                    raise Forbidden("已解除或终止矫正的档案不能修改", code="subject_closed")
                offices, staff = _load_choices(ctx)
            except DomainError as exc:
                error_notice(exc)
                return
            form = SubjectForm(ctx, original=original, offices=offices, staff=staff)
            form.build()
            _buttons(session.action(lambda db: form.update(db)), f"/subjects/{subject_id}")
