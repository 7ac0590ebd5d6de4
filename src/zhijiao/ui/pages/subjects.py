"""/subjects: search and filter the subjects in the actor's jurisdiction, paged on the server."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from nicegui import ui
from sqlalchemy.orm import Session

from zhijiao.core.errors import DomainError
from zhijiao.core.pagination import Page
from zhijiao.org import service as org_service
from zhijiao.security.permissions import Perm, sees_every_office
from zhijiao.subjects import counts as subject_counts
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.schemas import SubjectListItem, SubjectTally
from zhijiao.ui import labels, menu
from zhijiao.ui.components.hidden_note import hidden_note
from zhijiao.ui.components.paged_table import PAGE_SIZES, PagedTable, fetch_page
from zhijiao.ui.layout import error_notice, frame
from zhijiao.ui.session import PageContext, protected_page

DEFAULT_SIZE = 20

STATUS_CELL = """
<q-td :props="props">
  <q-badge :color="props.row.status_color" :label="props.value" />
  <q-badge v-if="props.row.overdue" color="negative" label="报到逾期" class="q-ml-xs" />
</q-td>
"""
LEVEL_CELL = """
<q-td :props="props">
  <q-badge outline :color="props.row.level_color" :label="props.value" />
</q-td>
"""
NAME_CELL = """
<q-td :props="props">
  <span class="text-primary text-weight-medium">{{ props.value }}</span>
  <q-badge v-if="props.row.minor" color="purple-6" label="未成年" class="q-ml-xs" />
</q-td>
"""


@dataclass
class Filters:
    q: str = ""
    office_id: int | None = None
    status: str = ""
    correction_type: str = ""
    supervision_level: str = ""

    @classmethod
    def clean(cls, q: str, office_id: int | None, status: str, correction_type: str,
              supervision_level: str) -> Filters:
        """Unknown values from the address bar are dropped, not passed to the service."""
        return cls(
            q=q.strip()[:50],
            office_id=office_id if office_id and office_id > 0 else None,
            status=status if status in labels.STATUS else "",
            correction_type=correction_type if correction_type in labels.CORRECTION_TYPE else "",
            supervision_level=supervision_level if supervision_level in labels.SUPERVISION_LEVEL else "",
        )

    def query(self, page: int | None = None, size: int | None = None) -> str:
        params: dict[str, object] = {k: v for k, v in asdict(self).items() if v not in ("", None)}
        if page and page > 1:
            params["page"] = page
        if size and size != DEFAULT_SIZE:
            params["size"] = size
        return "/subjects" + (f"?{urlencode(params)}" if params else "")

    def tally(self, db: Session, found: Page[SubjectListItem]) -> SubjectTally:
        """The count under these filters (subjects/counts.py). A name search says nothing about the
        files left out (it would reveal whether such a person is supervised here)."""
        if self.q:
            return SubjectTally(visible=found.total)
        return subject_counts.tally(
            db_session=db, office_id=self.office_id, status=self.status or None,
            correction_type=self.correction_type or None, supervision_level=self.supervision_level or None)

    def search(self, db: Session, page: int, size: int) -> Page[SubjectListItem]:
        return subjects_service.search(
            db_session=db, q=self.q or None, office_id=self.office_id, status=self.status or None,
            correction_type=self.correction_type or None, supervision_level=self.supervision_level or None,
            page=page, size=size,
        )


def _period(item: SubjectListItem) -> str:
    if not item.correction_start_date:
        return "—"
    end = item.correction_end_date.isoformat() if item.correction_end_date else "…"
    return f"{item.correction_start_date.isoformat()} 至 {end}"


def row(item: SubjectListItem) -> dict:
    return {
        "id": item.id,
        "name": item.name,
        "minor": item.is_minor,
        "gender": labels.label(labels.GENDER, item.gender),
        "id_number": item.id_number_masked,
        "phone": item.phone_masked or "—",
        "office": item.office_name,
        "type": labels.label(labels.CORRECTION_TYPE, item.correction_type),
        "level": labels.label(labels.SUPERVISION_LEVEL, item.supervision_level),
        "level_color": labels.LEVEL_COLOR.get(item.supervision_level, "grey-7"),
        "status": labels.label(labels.STATUS, item.status),
        "status_color": labels.STATUS_COLOR.get(item.status, "grey-7"),
        "overdue": item.report_overdue,
        "period": _period(item),
        "staff": item.responsible_staff_name or "—",
    }


def _columns(district: bool) -> list[dict]:
    cols = [
        ("name", "姓名"), ("gender", "性别"), ("id_number", "身份证号"), ("phone", "联系电话"),
        ("office", "司法所"), ("type", "矫正类别"), ("level", "管理等级"), ("status", "状态"),
        ("period", "矫正期限"), ("staff", "责任人"),
    ]
    return [{"name": n, "label": lbl, "field": n, "align": "left"} for n, lbl in cols if district or n != "office"]


def _options(table: dict[str, str]) -> dict[str, str]:
    return {"": "全部", **table}


def register() -> None:
    menu.add_menu_item("社区矫正对象", "/subjects", "groups", menu.CASE, order=20)

    @protected_page("/subjects")
    def subjects_page(ctx: PageContext, q: str = "", office_id: int | None = None, status: str = "",
                      correction_type: str = "", supervision_level: str = "", page: int = 1,
                      size: int = DEFAULT_SIZE) -> None:
        filters = Filters.clean(q, office_id, status, correction_type, supervision_level)
        size = size if size in PAGE_SIZES else DEFAULT_SIZE
        district = sees_every_office(ctx.actor)
        with frame("社区矫正对象") as f:
            try:
                result = fetch_page(filters.search, ctx.db, page, size)
                tally = filters.tally(ctx.db, result)
                offices = org_service.list_offices(db_session=ctx.db) if district else []
            except DomainError as exc:
                error_notice(exc)
                return
            if ctx.can(Perm.subjects_write):
                with f.actions:
                    ui.button("新建档案", icon="person_add", on_click=lambda: ui.navigate.to("/subjects/new")).props(
                        "unelevated dense color=primary").classes("px-3").mark("new-subject")
            SubjectList(filters, result, tally, {o.id: o.name for o in offices}, district).build()


class SubjectList:
    """The filter bar and the paged table."""

    def __init__(self, filters: Filters, first: Page[SubjectListItem], tally: SubjectTally,
                 offices: dict[int, str], district: bool) -> None:
        self.filters = filters
        self.first = first
        self.tally = tally
        self.offices = offices
        self.district = district

    def build(self) -> None:
        f = self.filters
        with ui.card().classes("zj-card w-full p-3"), ui.row().classes("w-full items-end gap-3"):
            self.q = ui.input("关键字", value=f.q, placeholder="姓名 / 身份证号 / 身份证后四位").props(
                "dense outlined clearable maxlength=50").classes("w-64").mark("search-q")
            self.q.on("keydown.enter", self.apply)
            if self.district:
                self.office = ui.select({0: "全部", **self.offices}, value=f.office_id if f.office_id in self.offices
                                        else 0, label="司法所").props("dense outlined options-dense").classes(
                    "w-44").mark("filter-office")
            self.status = ui.select(_options(labels.STATUS), value=f.status, label="状态").props(
                "dense outlined options-dense").classes("w-32").mark("filter-status")
            self.ctype = ui.select(_options(labels.CORRECTION_TYPE), value=f.correction_type, label="矫正类别").props(
                "dense outlined options-dense").classes("w-36").mark("filter-type")
            self.level = ui.select(_options(labels.SUPERVISION_LEVEL), value=f.supervision_level,
                                   label="管理等级").props("dense outlined options-dense").classes("w-28").mark(
                "filter-level")
            ui.button("查询", icon="search", on_click=self.apply).props("unelevated color=primary").mark("search")
            ui.button("重置", on_click=lambda: ui.navigate.to("/subjects")).props("outline color=primary")
            ui.space()
            self.total = ui.label(f"共 {self.tally.visible} 人").classes("text-sm text-grey-8").mark("total")
        hidden_note(self.tally.hidden_active, self.tally.hidden_sealed, what="列表")

        self.paged = PagedTable(
            columns=_columns(self.district), first=self.first, to_row=row, fetch=self.filters.search,
            url=self.filters.query, on_open=lambda r: ui.navigate.to(f"/subjects/{r['id']}"),
            no_data="没有符合条件的社区矫正对象", sizes=PAGE_SIZES,
        ).add_slot("body-cell-name", NAME_CELL).add_slot("body-cell-status", STATUS_CELL).add_slot(
            "body-cell-level", LEVEL_CELL)
        self.paged.table.mark("subjects-table")

    def apply(self) -> None:
        """New filters: load the page anew, so the address reflects them and 'back' returns here."""
        filters = Filters.clean(self.q.value or "", self.office.value if self.district else None,
                                self.status.value or "", self.ctype.value or "", self.level.value or "")
        ui.navigate.to(filters.query())
