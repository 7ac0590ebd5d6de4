"""One error shape for every failure: ``{"code", "message", "fields"}``.

Validation errors are translated to Chinese per field; our own validators raise
``PydanticCustomError(code, chinese_message)`` and keep their code.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from zhijiao.core.errors import DatabaseBusy, DomainError
from zhijiao.db.session import is_busy

log = logging.getLogger("zhijiao.api")

_MESSAGES: dict[str, str] = {
    "missing": "必填项",
    "string_too_short": "长度不能少于 {min_length} 个字符",
    "string_too_long": "长度不能超过 {max_length} 个字符",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "string_type": "必须是文本",
    "string_pattern_mismatch": "格式不正确",
    "int_parsing": "必须是整数",
    "int_type": "必须是整数",
    "int_from_float": "必须是整数",
    "float_parsing": "必须是数字",
    "float_type": "必须是数字",
    "finite_number": "必须是有限的数字",
    "bool_parsing": "必须是 true 或 false",
    "bool_type": "必须是 true 或 false",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_inexact": "日期不能包含时间",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式应为 ISO 8601（如 2026-01-01T08:00:00+08:00）",
    "datetime_from_date_parsing": "时间格式应为 ISO 8601",
    "datetime_type": "时间格式应为 ISO 8601",
    "timezone_aware": "时间必须带时区",
    "enum": "取值必须是以下之一：{expected}",
    "literal_error": "取值必须是以下之一：{expected}",
    "greater_than": "必须大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "必须小于 {lt}",
    "less_than_equal": "不能大于 {le}",
    "extra_forbidden": "不允许的字段",
    "json_invalid": "请求体不是合法的 JSON",
    "json_type": "请求体不是合法的 JSON",
    "model_attributes_type": "格式不正确，应为对象",
    "dict_type": "格式不正确，应为对象",
    "model_type": "格式不正确，应为对象",
    "list_type": "格式不正确，应为列表",
    "uuid_parsing": "格式不正确",
    "value_error": "取值不合法",
    "string_unicode": "文本编码不正确",
    "bytes_type": "格式不正确",
    "url_parsing": "网址格式不正确",
    "no_such_attribute": "不允许的字段",
    "union_tag_invalid": "类型不正确",
}


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form", "cookie")]
    return ".".join(parts) or "body"


def translate(errors: list[dict[str, Any]]) -> tuple[dict[str, str], list[dict[str, str]]]:
    fields: dict[str, str] = {}
    details: list[dict[str, str]] = []
    for err in errors:
        etype = err.get("type", "value_error")
        ctx = {k: (", ".join(map(str, v)) if isinstance(v, (list, tuple)) else v) for k, v in (err.get("ctx") or {}).items()}
        template = _MESSAGES.get(etype)
        if template is None:
            # Our own PydanticCustomError messages are already Chinese.
            msg = str(err.get("msg") or "取值不合法")
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            if msg.isascii():
                msg = "取值不合法"
        else:
            try:
                msg = template.format(**ctx)
            except (KeyError, IndexError):
                msg = template
        name = _field_name(tuple(err.get("loc", ())))
        fields.setdefault(name, msg)
        details.append({"field": name, "code": etype, "message": msg})
    return fields, details


def _body(code: str, message: str, fields: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "fields": fields or {}, **extra}


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status, headers=exc.headers())

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # A lock not got within the wait budget is overload, not a fault: 503 and when to retry.
        if is_busy(exc):
            log.warning("database busy on %s %s: %s", request.method, request.url.path, exc.orig)
            busy = DatabaseBusy()
            return JSONResponse(busy.to_dict(), status_code=busy.status, headers=busy.headers())
        return await _unexpected(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields, details = translate(list(exc.errors()))
        first = next(iter(fields.items()), None)
        message = f"输入数据有误：{first[0]} {first[1]}" if first else "输入数据有误"
        return JSONResponse(_body("validation_error", message, fields, errors=details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {404: ("not_found", "请求的资源不存在"), 405: ("method_not_allowed", "不支持该请求方法"),
                    401: ("unauthorized", "未登录或登录已失效"), 403: ("forbidden", "无权执行该操作"),
                    413: ("too_large", "请求内容过大"), 415: ("unsupported_media_type", "不支持的内容类型")}
        code, message = messages.get(exc.status_code, ("http_error", str(exc.detail)))
        return JSONResponse(_body(code, message), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(_body("internal_error", "服务器内部错误，请联系管理员"), status_code=500)


class ErrorOut(BaseModel):
    """The one error shape: a stable code, a Chinese message, and the fields at fault."""

    code: str
    message: str
    fields: dict[str, str] | None = None
    errors: list[dict[str, Any]] | None = None  # validation errors, one per field


# The statuses any route may answer besides its own success (issue 20 item 9: the OpenAPI
# schema declares every code the API really returns). Declared once on the /api/v1 router.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "请求无效"},
    401: {"model": ErrorOut, "description": "未登录或登录已失效"},
    403: {"model": ErrorOut, "description": "无权执行此操作"},
    404: {"model": ErrorOut, "description": "不存在或不在管辖范围内"},
    405: {"model": ErrorOut, "description": "不支持的请求方法"},
    409: {"model": ErrorOut, "description": "与当前状态冲突（如已被他人修改）"},
    413: {"model": ErrorOut, "description": "请求或上传过大"},
    415: {"model": ErrorOut, "description": "不支持的内容类型"},
    422: {"model": ErrorOut, "description": "输入有误（逐项说明）"},
    429: {"model": ErrorOut, "description": "请求过于频繁，请稍后再试"},
    503: {"model": ErrorOut, "description": "数据库繁忙，请稍后重试（见 Retry-After）"},
}
