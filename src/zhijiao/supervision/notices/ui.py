"""Screens of the notices the law requires (依法应通知事项)."""

from __future__ import annotations

from nicegui import ui
from sqlalchemy.orm import Session

from zhijiao.security.permissions import Perm
from zhijiao.supervision.notices import service
from zhijiao.supervision.notices.models import NotificationStatus
from zhijiao.ui import session
from zhijiao.ui.layout import section
from zhijiao.ui.session import PageContext


def notifications_card(ctx: PageContext, subject_id: int) -> None:
    rows = [service.notification_read(n) for n in service.list_notifications(db_session=ctx.db, subject_id=subject_id)]
    if not rows:
        return
    with ui.card().classes("zj-card min-w-[320px] p-4 gap-2").mark("notifications"):
        section("依法应通知事项")
        for n in rows:
            ui.label(f"{n.action}（{n.legal_basis}）").classes("text-sm")
            if n.status == NotificationStatus.pending and ctx.can(Perm.subjects_write):
                ui.button("已办结", on_click=lambda i=n.id: _notification_done(i)).props(
                    "dense flat color=primary").mark(f"notification-done-{n.id}")
            else:
                ui.label(f"已办结 {n.done_on.isoformat() if n.done_on else ''}").classes("text-xs text-grey-7")


@session.action
def _notification_done(db: Session, notification_id: int) -> None:
    service.notification_done(db_session=db, notification_id=notification_id, done_on=None, note=None)
    ui.notify("已办结", type="positive", position="top")
    ui.navigate.reload()
