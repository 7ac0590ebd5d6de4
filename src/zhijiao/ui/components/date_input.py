"""Date and date-time fields that read and write ``YYYY-MM-DD`` (``YYYY-MM-DD HH:mm``) in Chinese,
whatever the browser's locale: a masked text field with a calendar that starts on Monday and names
months and days in Chinese, and a 24-hour clock. Never the browser's native date inputs, which
follow the operating system's language."""

from __future__ import annotations

from nicegui import ui

#: QDate's ``locale`` (the calendar's own words, independent of the browser and of Quasar's pack).
ZH_CN = {
    "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
    "daysShort": ["日", "一", "二", "三", "四", "五", "六"],
    "months": [f"{n}月" for n in ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二")],
    "monthsShort": [f"{n}月" for n in range(1, 13)],
    "firstDayOfWeek": 1,
    "format24h": True,
    "pluralDay": "天",
}
CALENDAR_PROPS = 'minimal today-btn first-day-of-week="1"'


def zh_calendar(picker: ui.date) -> ui.date:
    """Chinese words, Monday first (中国习惯), on one calendar."""
    picker.props(CALENDAR_PROPS)
    picker._props["locale"] = ZH_CN  # a dict prop: set directly, not parsed from a string
    return picker


def date_input(label: str, value: str = "") -> ui.input:
    """A text field masked ``####-##-##`` with a Chinese calendar."""
    field = ui.input(label, value=value, placeholder="YYYY-MM-DD").props(
        'outlined dense mask="####-##-##" hide-bottom-space')
    with field.add_slot("append"):
        icon = ui.icon("event", size="20px").classes("cursor-pointer text-grey-7")
        with ui.menu().props("no-parent-event") as menu:
            with zh_calendar(ui.date(mask="YYYY-MM-DD")).bind_value(
                field, forward=lambda v: v or "", backward=lambda v: v or None
            ):
                with ui.row().classes("justify-end w-full"):
                    ui.button("确定", on_click=menu.close).props("flat dense color=primary")
        icon.on("click", menu.open)
    return field


def datetime_input(label: str, value: str = "") -> ui.input:
    """A text field masked ``####-##-## ##:##`` (24-hour) with a Chinese calendar and clock."""
    field = ui.input(label, value=value, placeholder="YYYY-MM-DD HH:mm").props(
        'outlined dense mask="####-##-## ##:##" hide-bottom-space')
    with field.add_slot("append"):
        icon = ui.icon("event", size="20px").classes("cursor-pointer text-grey-7")
        with ui.menu().props("no-parent-event") as menu:
            with ui.row().classes("no-wrap items-start gap-0"):
                zh_calendar(ui.date(mask="YYYY-MM-DD HH:mm")).bind_value(
                    field, forward=lambda v: v or "", backward=lambda v: v or None)
                ui.time(mask="YYYY-MM-DD HH:mm").props("format24h minimal").bind_value(
                    field, forward=lambda v: v or "", backward=lambda v: v or None)
            with ui.row().classes("justify-end w-full"):
                ui.button("确定", on_click=menu.close).props("flat dense color=primary")
        icon.on("click", menu.open)
    return field
