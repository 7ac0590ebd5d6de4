"""The dialogs of the supervision screens: one shape for every form (fields, then the service call,
then a Chinese notice), shared by the sub-packages' ``ui`` modules."""

from __future__ import annotations

from nicegui import ui
from pydantic import ValidationError
from sqlalchemy.orm import Session

from zhijiao.api.errors import translate
from zhijiao.ui import session
from zhijiao.ui.layout import section


def invalid(exc: ValidationError) -> None:
    fields, _ = translate(exc.errors())
    ui.notify("请检查填写内容：" + "；".join(f"{k}：{v}" for k, v in fields.items()), type="warning", position="top",
              multi_line=True)


def lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def form(title: str, submit_label: str, marker: str, build, save) -> None:
    """A dialog: ``build()`` makes the fields and returns a function reading them into a dict;
    ``save(db, data)`` calls the service and returns the message to show."""
    with ui.dialog() as dialog, ui.card().classes("min-w-[460px] gap-3"):
        section(title)
        read = build()

        @session.action
        def submit(db: Session) -> None:
            try:
                message = save(db, read())
            except ValidationError as exc:
                invalid(exc)
                return
            dialog.close()
            ui.notify(message, type="positive", position="top")
            ui.navigate.reload()

        with ui.row().classes("justify-end w-full"):
            ui.button("取消", on_click=dialog.close).props("flat")
            ui.button(submit_label, on_click=submit).props("unelevated color=primary").mark(f"{marker}-submit")
    dialog.open()
