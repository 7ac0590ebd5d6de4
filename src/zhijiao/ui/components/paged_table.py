"""A table paged on the server: Quasar asks for a page, a service answers with a ``Page``."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from nicegui import ui
from sqlalchemy.orm import Session

from zhijiao.core.pagination import Page
from zhijiao.ui import session

T = TypeVar("T")

PAGE_SIZES = (10, 20, 50, 100)


def fetch_page(fetch: Callable[[Session, int, int], Page[T]], db: Session, page: int, size: int) -> Page[T]:
    """``fetch`` for a page number from the address bar: past the end, the last page instead."""
    result = fetch(db, max(page, 1), size)
    if not result.items and result.total and page > 1:
        result = fetch(db, math.ceil(result.total / size), size)
    return result


class PagedTable(Generic[T]):
    """``ui.table`` bound to ``fetch(db, page, size)``.

    The first page is passed in (read while the page was built); later pages are fetched in
    a fresh actor-bound session (so an expired login is noticed) and, with ``url``, the address
    bar is updated so that reloading or going back shows the same page.
    """

    def __init__(self, *, columns: list[dict], first: Page[T], to_row: Callable[[T], dict[str, Any]],
                 fetch: Callable[[Session, int, int], Page[T]], url: Callable[[int, int], str] | None = None,
                 on_open: Callable[[dict[str, Any]], None] | None = None, no_data: str = "暂无数据",
                 row_key: str = "id", sizes: tuple[int, ...] = PAGE_SIZES) -> None:
        self.to_row = to_row
        self.fetch = fetch
        self.url = url
        self.sizes = sizes
        self.default_size = first.size
        self.table = ui.table(
            rows=[to_row(i) for i in first.items], columns=columns, row_key=row_key,
            pagination={"page": first.page, "rowsPerPage": first.size, "rowsNumber": first.total},
        ).props(f'dense flat bordered :rows-per-page-options="{list(sizes)}" no-data-label="{no_data}"').classes(
            "zj-table w-full")
        self.table.on("request", self._on_request)
        if on_open is not None:
            self.table.on("rowClick", lambda e: on_open(e.args[1]))
        else:
            self.table.props("no-hover")
        self.total = first.total

    def add_slot(self, name: str, template: str) -> PagedTable[T]:
        self.table.add_slot(name, template)
        return self

    def _on_request(self, e: Any) -> None:
        pagination = dict((e.args or {}).get("pagination") or {})
        size = int(pagination.get("rowsPerPage") or self.default_size)
        self.load(max(int(pagination.get("page") or 1), 1), size if size in self.sizes else self.default_size)

    def load(self, page: int, size: int) -> None:
        result = session.action(lambda db: self.fetch(db, page, size))()
        if result is None:
            return
        self.table.rows = [self.to_row(i) for i in result.items]
        self.table.pagination = {**self.table.pagination, "page": result.page, "rowsPerPage": result.size,
                                 "rowsNumber": result.total}
        self.total = result.total
        if self.url is not None:
            target = json.dumps(self.url(result.page, result.size))
            ui.run_javascript(f"history.replaceState(history.state, '', {target})")
