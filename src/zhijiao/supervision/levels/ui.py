"""Screens of classified management (分类管理): the rules propose, the officer confirms."""

from __future__ import annotations

from nicegui import ui
from sqlalchemy.orm import Session

from zhijiao.supervision.levels import service
from zhijiao.supervision.levels.schemas import LevelDecisionIn, LevelReviewCreate
from zhijiao.ui import labels, session
from zhijiao.ui.layout import section

RISKS = {"high": "高", "medium": "中", "low": "低"}


def level_dialog(subject_id: int) -> None:
    """The rule set proposes a level with its reasons; the officer confirms it (or not)."""
    with ui.dialog() as dialog, ui.card().classes("min-w-[460px] gap-3"):
        section("管理等级评定")
        risk = ui.select(RISKS, value="medium", label="风险评估等级").props("outlined dense").classes("w-full").mark(
            "level-risk")
        result = ui.column().classes("w-full gap-1")

        @session.action
        def propose(db: Session) -> None:
            review = service.propose_level(db_session=db, subject_id=subject_id,
                                           review_in=LevelReviewCreate(risk_level=risk.value))
            result.clear()
            with result:
                ui.label(f"建议等级：{labels.SUPERVISION_LEVEL.get(review.proposed_level, review.proposed_level)}"
                         f"（现为{labels.SUPERVISION_LEVEL.get(review.current_level, review.current_level)}）").classes(
                    "text-lg font-bold").mark("level-proposed")
                for reason in review.reasons:
                    ui.label(f"· {reason}").classes("text-sm")
                ui.button("确认该等级", on_click=lambda r=review.id: confirm(r)).props(
                    "unelevated color=primary").mark("level-confirm")

        @session.action
        def confirm(db: Session, review_id: int) -> None:
            review, created = service.decide_level(db_session=db, review_id=review_id,
                                                   decision_in=LevelDecisionIn(decision="confirm"))
            dialog.close()
            ui.notify(f"已确定为{labels.SUPERVISION_LEVEL.get(review.decided_level or '', review.decided_level)}，"
                      f"生成监管任务 {created} 项", type="positive", position="top")
            ui.navigate.reload()

        with ui.row().classes("justify-end w-full"):
            ui.button("关闭", on_click=dialog.close).props("flat")
            ui.button("提出建议", on_click=propose).props("unelevated color=primary").mark("level-propose")
    dialog.open()
