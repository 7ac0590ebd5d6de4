"""The navigation menu: page modules add their entries when they register.

A later module (e.g. ``zhijiao.supervision.ui``) calls ``add_menu_item`` in its ``register()``
next to its ``@ui.page`` functions; the drawer shows each staff member only the entries of
their role. Entries are kept in ``order``, then in registration order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from zhijiao.security.permissions import ADMIN_ROLES, CASE_ROLES, Role

#: Roles that work on case files, and the 三员 administrators, as plain strings.
CASE = frozenset(r.value for r in CASE_ROLES)
ADMINS = frozenset(r.value for r in ADMIN_ROLES)


@dataclass(frozen=True, slots=True)
class MenuItem:
    label: str
    path: str
    icon: str
    roles: frozenset[str]
    order: int = 100

    def matches(self, path: str) -> bool:
        """Whether ``path`` is this entry's page or one below it (``/subjects/12`` → 社区矫正对象)."""
        if self.path == "/":
            return path == "/"
        return path == self.path or path.startswith(self.path.rstrip("/") + "/")


_items: list[MenuItem] = []


def add_menu_item(label: str, path: str, icon: str, roles: Iterable[str | Role], *, order: int = 100) -> MenuItem:
    """Add an entry to the drawer for ``roles``; adding the same path again replaces it."""
    item = MenuItem(label=label, path=path, icon=icon, roles=frozenset(str(r) for r in roles), order=order)
    _items[:] = [i for i in _items if i.path != path]
    _items.append(item)
    _items.sort(key=lambda i: i.order)  # stable: equal orders keep registration order
    return item


def items_for(role: str | None) -> list[MenuItem]:
    return [i for i in _items if role in i.roles]


def home_for(role: str | None) -> str | None:
    """The first page of a role's menu: where to land after login."""
    items = items_for(role)
    return items[0].path if items else None


def reset() -> None:
    """Forget every entry (``register()`` starts from an empty menu)."""
    _items.clear()
