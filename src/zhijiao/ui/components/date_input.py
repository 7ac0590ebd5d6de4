"""A date field that reads and writes ``YYYY-MM-DD`` whatever the browser's locale."""

from __future__ import annotations

from nicegui import ui


def date_input(label: str, value: str = "") -> ui.input:
    """A text field masked ``####-##-##`` with a calendar (Chinese with ``language='zh-CN'``)."""
    field = ui.input(label, value=value, placeholder="YYYY-MM-DD").props(
        'outlined dense mask="####-##-##" hide-bottom-space')
    with field.add_slot("append"):
        icon = ui.icon("event", size="20px").classes("cursor-pointer text-grey-7")
        with ui.menu().props("no-parent-event") as menu:
            with ui.date(mask="YYYY-MM-DD").props("minimal today-btn").bind_value(
                field, forward=lambda v: v or "", backward=lambda v: v or None
            ):
                with ui.row().classes("justify-end w-full"):
                    ui.button("确定", on_click=menu.close).props("flat dense color=primary")
        icon.on("click", menu.open)
    return field
