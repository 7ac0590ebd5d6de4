"""The navigation menu: page modules add their entries when they register.

A later module (e.g. ``zhijiao.supervision.ui``) calls ``add_menu_item`` in its ``register()``
next to its ``@ui.page`` functions; the drawer shows each staff member only the entries their
permissions open (a :class:`Perm`, or a predicate on the actor). Entries are kept in
``order``, then in registration order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from zhijiao.security.actor import Actor
from zhijiao.security.permissions import Perm, has_perm

#: The case-file pages: the roles that work on case files read them (the 三员 never do).
CASE = Perm.subjects_read
#: The check-in kiosk's own screen.
KIOSK = Perm.kiosk_checkin

ShownTo = Perm | Callable[[Actor | None], bool]


@dataclass(frozen=True, slots=True)
class MenuItem:
    label: str
    path: str
    icon: str
    shown_to: ShownTo
    order: int = 100

    def visible_to(self, actor: Actor | None) -> bool:
        if isinstance(self.shown_to, Perm):
            return has_perm(actor, self.shown_to)
        return self.shown_to(actor)

    def matches(self, path: str) -> bool:
        """Whether ``path`` is this entry's page or one below it (``/subjects/12`` → 社区矫正对象)."""
        if self.path == "/":
            return path == "/"
        return path == self.path or path.startswith(self.path.rstrip("/") + "/")


_items: list[MenuItem] = []


def add_menu_item(label: str, path: str, icon: str, shown_to: ShownTo, *, order: int = 100) -> MenuItem:
    """Add an entry to the drawer of those ``shown_to`` admits; adding the same path again replaces it."""
    item = MenuItem(label=label, path=path, icon=icon, shown_to=shown_to, order=order)
    _items[:] = [i for i in _items if i.path != path]
    _items.append(item)
    _items.sort(key=lambda i: i.order)  # stable: equal orders keep registration order
    return item


def items_for(actor: Actor | None) -> list[MenuItem]:
    return [i for i in _items if i.visible_to(actor)]


def home_for(actor: Actor | None) -> str | None:
    """The first page of an actor's menu: where to land after login."""
    items = items_for(actor)
    return items[0].path if items else None


def reset() -> None:
    """Forget every entry (``register()`` starts from an empty menu)."""
    _items.clear()
