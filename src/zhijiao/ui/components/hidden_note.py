"""The note under a count that leaves out files the caller cannot open (社区矫正法 第五十四条).

Every count of subjects (subjects/counts.py) counts only the files the caller can open; this says
how many files of the caller's jurisdiction are left out, so that two people's numbers can be
told apart, without showing anything about the files themselves.
"""

from __future__ import annotations

from nicegui import ui


def hidden_text(hidden_active: int, hidden_sealed: int = 0, *, what: str = "以上数字") -> str:
    """The sentence, or '' when nothing is left out."""
    if hidden_active and hidden_sealed:
        text = f"另有 {hidden_active} 名未成年人档案仅责任人可见、{hidden_sealed} 名解除矫正后依法封存"
    elif hidden_active:
        text = f"另有 {hidden_active} 名未成年人档案仅责任人可见"
    elif hidden_sealed:
        text = f"另有 {hidden_sealed} 名未成年人档案解除矫正后依法封存"
    else:
        return ""
    return f"{text}，未计入{what}"

def hidden_note(hidden_active: int, hidden_sealed: int = 0, *, what: str = "以上数字",
                classes: str = "text-xs text-grey-8") -> ui.label | None:
    """A small line with a lock icon; nothing when nothing is left out."""
    text = hidden_text(hidden_active, hidden_sealed, what=what)
    if not text:
        return None
    with ui.row().classes("items-center gap-1 no-wrap").mark("hidden-note-row"):
        ui.icon("lock", size="14px").classes("text-grey-7")
        label = ui.label(text).classes(classes).mark("hidden-note")
    return label
