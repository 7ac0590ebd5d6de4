"""Parts that domains add to the shell's pages, so that the shell imports no domain.

A domain adds its part of the subject page (``/subjects/{id}``) from its ``register()``::

    sections.add_subject_section("supervision", subject_sections)

Each is called as ``render(ctx, subject, ended)`` below the file, in the order added. Kept out of
the page modules: a test's NiceGUI reset forgets those and imports them afresh.
"""

from __future__ import annotations

from collections.abc import Callable

# render(ctx: PageContext, subject: SubjectRead, ended: bool) -> None
SubjectSection = Callable[..., None]

_SUBJECT_SECTIONS: dict[str, SubjectSection] = {}


def add_subject_section(name: str, render: SubjectSection) -> None:
    """Add a domain's part of the subject page (a second mount replaces it under its name)."""
    _SUBJECT_SECTIONS[name] = render


def subject_sections() -> list[SubjectSection]:
    return list(_SUBJECT_SECTIONS.values())
