"""The supervision part of the subject's page (the workflows' actions and cards, the file's
timeline with its documents), the archive's download and a document's PDF.

The subject page belongs to the UI shell, which imports no domain: the section is added to it
from :func:`register`.
"""

from __future__ import annotations

from urllib.parse import quote

from nicegui import ui
from sqlalchemy.orm import Session
from starlette.responses import Response

from zhijiao.core.errors import DomainError
from zhijiao.documents import service as documents_service
from zhijiao.security.permissions import Perm, sees_every_office
from zhijiao.subjects.schemas import SubjectRead, SubjectStatus
from zhijiao.supervision import common
from zhijiao.supervision.archive import service
from zhijiao.supervision.daily import ui as daily_ui
from zhijiao.supervision.leave import ui as leave_ui
from zhijiao.supervision.levels import ui as levels_ui
from zhijiao.supervision.notices import ui as notices_ui
from zhijiao.supervision.plans import ui as plans_ui
from zhijiao.supervision.reception import ui as reception_ui
from zhijiao.supervision.release import ui as release_ui
from zhijiao.supervision.sanctions import ui as sanctions_ui
from zhijiao.supervision.transfer import ui as transfer_ui
from zhijiao.ui import sections
from zhijiao.ui.layout import error_notice, frame, section
from zhijiao.ui.session import PageContext, act, protected_page


def subject_sections(ctx: PageContext, s: SubjectRead, ended: bool) -> None:
    """The workflow actions for one subject and the file's full timeline with its documents."""
    with ui.row().classes("w-full gap-3 items-stretch no-wrap max-lg:flex-wrap"):
        if ctx.can(Perm.subjects_write) and not ended:
            with ui.card().classes("zj-card min-w-[260px] p-4 gap-3").mark("workflow-actions"):
                section("监管事务")
                ui.button("外出请假", icon="luggage", on_click=lambda: leave_ui.leave_dialog(s.id)).props(
                    "outline color=primary").classes("w-full").mark("open-leave")
                ui.button("奖惩", icon="gavel", on_click=lambda: sanctions_ui.sanction_dialog(s.id)).props(
                    "outline color=primary").classes("w-full").mark("open-sanction")
                ui.button("日常监管记录", icon="edit_note", on_click=lambda: daily_ui.record_dialog(s.id)).props(
                    "outline color=primary").classes("w-full").mark("open-record")
                ui.button("管理等级评定", icon="tune", on_click=lambda: levels_ui.level_dialog(s.id)).props(
                    "outline color=primary").classes("w-full").mark("open-level")
                ui.button("矫正小组", icon="groups", on_click=lambda: plans_ui.team_dialog(s.id)).props(
                    "outline color=primary").classes("w-full").mark("open-team")
                ui.button("月度考核", icon="fact_check", on_click=lambda: daily_ui.month_dialog(s.id)).props(
                    "outline color=primary").classes("w-full").mark("open-month")
                if s.status in (SubjectStatus.pending_reception, SubjectStatus.reported):
                    ui.button("交付接收登记", icon="inventory", on_click=lambda: reception_ui.reception_dialog(s.id)).props(
                        "outline color=primary").classes("w-full").mark("open-reception")
                if s.status == SubjectStatus.reported:
                    ui.button("入矫宣告", icon="campaign",
                              on_click=lambda: reception_ui.announce_dialog(s.id, "entry")).props(
                        "outline color=primary").classes("w-full").mark("open-entry")
                if s.status == SubjectStatus.under_correction:
                    ui.button("矫正方案", icon="assignment", on_click=lambda: plans_ui.plan_dialog(s.id)).props(
                        "outline color=primary").classes("w-full").mark("open-plan")
                    ui.button("执行地变更", icon="moving", on_click=lambda: transfer_ui.transfer_dialog(s.id)).props(
                        "outline color=primary").classes("w-full").mark("open-transfer")
                    ui.button("解矫宣告", icon="task_alt",
                              on_click=lambda: reception_ui.announce_dialog(s.id, "release")).props(
                        "outline color=primary").classes("w-full").mark("open-release")
                    ui.button("脱管等情形核实", icon="report", on_click=lambda: sanctions_ui.escalation_dialog(s.id)).props(
                        "outline color=primary").classes("w-full").mark("open-escalation")
                    if sees_every_office(ctx.actor):
                        ui.button("终止矫正", icon="block", on_click=lambda: release_ui.termination_dialog(s.id)).props(
                            "outline color=negative").classes("w-full").mark("open-termination")
        if ctx.can(Perm.subjects_read):
            with ui.card().classes("zj-card min-w-[200px] p-4 gap-3"):
                section("档案")
                ui.link("导出执行档案（zip，将被审计）", f"/subjects/{s.id}/archive.zip", new_tab=True).mark(
                    "archive-export")
        sanctions_ui.pending_sanctions_card(ctx, s.id)
    with ui.row().classes("w-full gap-3 items-stretch no-wrap max-lg:flex-wrap"):
        leave_ui.leaves_card(ctx, s.id, ended)
        sanctions_ui.proposals_card(ctx, s.id)
        transfer_ui.transfers_card(ctx, s.id)
        plans_ui.plans_card(ctx, s.id, ended)
        notices_ui.notifications_card(ctx, s.id)
        with ui.card().classes("zj-card flex-1 min-w-[320px] p-4 gap-3"):
            section("档案时间线（事件与文书）")
            _file_timeline(ctx.db, s.id, can_rerender=ctx.can(Perm.subjects_write))


def _rerender(document_id: int) -> None:
    """重新生成: the document rendered again from its stored data, under the same number (audited)."""

    def run(db: Session) -> tuple[str, bool]:
        document, old_sha256 = documents_service.rerender(db_session=db, document_id=document_id)
        db.commit()
        return document.number, document.sha256 != old_sha256

    result = act(run)
    if result is not None:
        number, changed = result
        ui.notify(f"已按原文号 {number} 重新生成" + ("，文书已更新" if changed else "，内容与原文书一致"),
                  type="positive", position="top")


def _file_timeline(db: Session, subject_id: int, *, can_rerender: bool = False) -> None:
    try:
        entries = service.timeline(db, common.subject(db, subject_id))
        documents = {d.id: d for d in documents_service.list_for_subject(db_session=db, subject_id=subject_id)}
    except DomainError as exc:
        error_notice(exc)
        return
    if not entries:
        ui.label("暂无记录").classes("text-grey-7").mark("file-timeline-empty")
        return
    with ui.timeline(side="right", layout="dense", color="primary").classes("w-full").mark("file-timeline"):
        for e in entries:
            with ui.timeline_entry(title=e.label, subtitle=e.on.isoformat()), ui.column().classes("gap-0.5"):
                if e.summary:
                    ui.label(e.summary).classes("text-sm")
                for doc_id in e.document_ids:
                    with ui.row().classes("items-center gap-2"):
                        d = documents.get(doc_id)
                        name = f"{d.title}（{d.number}）" if d else "查看文书"
                        ui.link(f"{name} PDF", f"/documents/{doc_id}/pdf", new_tab=True).classes("text-sm").mark(
                            f"document-{doc_id}")
                        if can_rerender:
                            ui.button("重新生成", icon="refresh",
                                      on_click=lambda _e, d=doc_id: _rerender(d)).props(
                                "flat dense size=sm color=primary no-caps").mark(f"rerender-{doc_id}").tooltip(
                                "按保存的生成数据和当前模板、字体重新生成（文号不变，将被审计）")


def register() -> None:
    sections.add_subject_section("supervision", subject_sections)

    @protected_page("/subjects/{subject_id}/archive.zip")
    def archive_zip(ctx: PageContext, subject_id: int) -> Response | None:
        try:
            name, data = service.export_archive(db_session=ctx.db, subject_id=subject_id, purpose=None,
                                              inquiry_ref=None)
        except DomainError as exc:
            with frame("导出档案"):
                error_notice(exc)
            return None
        return Response(data, media_type="application/zip", headers={
            "Content-Disposition": f"attachment; filename=\"{name}\"", "Cache-Control": "no-store"})

    @protected_page("/documents/{document_id}/pdf")
    def document_pdf(ctx: PageContext, document_id: int) -> Response | None:
        try:
            document, content = documents_service.read_pdf(db_session=ctx.db, document_id=document_id)
        except DomainError as exc:
            with frame("文书"):
                error_notice(exc)
            return None
        name = quote(f"{document.number}{document.title}.pdf")
        return Response(content, media_type="application/pdf", headers={
            "Content-Disposition": f"inline; filename=\"{documents_service.filename(document)}\"; "
                                   f"filename*=UTF-8''{name}", "Cache-Control": "no-store"})
