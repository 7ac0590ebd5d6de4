"""One error family for the whole application.

Services raise :class:`DomainError` subclasses; one handler in ``main.py`` answers
``{"code", "message", "fields"}`` with the error's status. Messages are Chinese (they
reach officers' screens); codes are stable English identifiers for other systems.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status: int = 400
    code: str = "bad_request"
    message: str = "请求有误"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        fields: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.status = status or self.status
        self.fields = fields or {}
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "fields": self.fields}

    def headers(self) -> dict[str, str] | None:
        """HTTP headers that go with the answer (none for most errors)."""
        return None


class NotFound(DomainError):
    status = 404
    code = "not_found"
    message = "对象不存在或不在您的管辖范围内"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    message = "当前状态不允许该操作"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    message = "无权执行该操作"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    message = "未登录或登录已失效"


class InvalidInput(DomainError):
    status = 422
    code = "validation_error"
    message = "输入数据有误"


class TooLarge(DomainError):
    status = 413
    code = "too_large"
    message = "上传内容过大"


class DatabaseBusy(DomainError):
    """The database stayed locked beyond the wait budget (a long writer, an overload): try again
    shortly. Nothing of the failed unit of work was committed."""

    status = 503
    code = "database_busy"
    message = "系统繁忙，请稍后重试"
    retry_after_s = 2

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after_s)}
