"""Screens of reception (交付接收) and the announcements (入矫宣告 / 解矫宣告)."""

from __future__ import annotations

from nicegui import ui
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.supervision import forms
from zhijiao.supervision.reception import flows, service
from zhijiao.supervision.reception.schemas import AnnouncementCreate, ReceptionIn
from zhijiao.ui.components.date_input import date_input


def announce_dialog(subject_id: int, kind: str) -> None:
    def build():
        place = ui.input("宣告地点", value="司法所宣告室").props("outlined dense").classes("w-full").mark(
            f"{kind}-place")
        present = ui.textarea("到场人员（每行一人，姓名及身份）").props("outlined dense autogrow").classes(
            "w-full").mark(f"{kind}-present")
        reason = ui.select({"term_completed": "矫正期满", "pardoned": "特赦"}, value="term_completed",
                           label="解矫原因").props("outlined dense").classes("w-full") if kind == "release" else None
        return lambda: {"kind": kind, "place": place.value, "present": forms.lines(present.value),
                        **({"reason": reason.value} if reason is not None else {})}

    def save(db: Session, data: dict) -> str:
        flows.announce(db_session=db, subject_id=subject_id, announcement_in=AnnouncementCreate(**data))
        return "已入矫宣告，宣告书和告知书已生成" if kind == "entry" else "已解矫宣告，文书已生成"

    forms.form("入矫宣告（社区矫正法第二十二条）" if kind == "entry" else "解矫宣告（社区矫正法第四十四条）", "宣告",
          kind, build, save)


def reception_dialog(subject_id: int) -> None:
    def build():
        notified = date_input("收到决定机关通知的日期", value=clock.today_local().isoformat()).mark("reception-notified")
        received = date_input("法律文书送达日期", value=clock.today_local().isoformat()).mark("reception-received")
        docs = ui.textarea("收到的法律文书（每行一件）", value="判决书\n执行通知书\n结案登记表").props(
            "outlined dense autogrow").classes("w-full").mark("reception-documents")
        verified = ui.checkbox("已核对身份").mark("reception-verified")
        return lambda: {"notified_on": notified.value, "documents_received_on": received.value,
                        "documents": [{"name": n} for n in forms.lines(docs.value)], "identity_verified": verified.value}

    def save(db: Session, data: dict) -> str:
        service.record_reception(db_session=db, subject_id=subject_id, reception_in=ReceptionIn(**data))
        return "已登记交付接收"

    forms.form("交付接收（社区矫正法第二十条、第二十二条）", "保存", "reception", build, save)
