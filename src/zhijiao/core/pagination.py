"""Page parameters and the page envelope every list answers with."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")

MAX_PAGE_SIZE = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="匹配的总条数")
    page: int
    size: int


def offset(page: int, size: int) -> int:
    return (max(page, 1) - 1) * size
