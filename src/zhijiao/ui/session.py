"""Who is looking at a screen: the login token in ``app.storage.user`` and the actor behind it.

Every protected page load and every action resolves the token again with ``auth.resolve``, so
the server enforces the idle and absolute session limits (GB/T 22239 level 3) and a revoked or
disabled account loses access at its next click. The actor is bound to a fresh database session
(``db.info['actor']``); pages and actions then call services only, which scope and audit.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from nicegui import app, ui
from sqlalchemy.orm import Session

from zhijiao.config import get_settings
from zhijiao.core.errors import DomainError, Forbidden, Unauthorized
from zhijiao.db import session as dbsession
from zhijiao.org import service as org_service
from zhijiao.security import addresses, auth
from zhijiao.security.actor import Actor
from zhijiao.security.permissions import Perm, has_perm
from zhijiao.ui import labels

T = TypeVar("T")

TOKEN_KEY = "token"
FLASH_KEY = "flash"
LOGIN_PATH = "/login"


@dataclass
class PageContext:
    """What a protected page knows while it is built."""

    db: Session
    actor: Actor
    display_name: str
    office_name: str | None
    bureau_name: str
    path: str

    @property
    def role(self) -> str:
        return self.actor.role or ""

    @property
    def role_label(self) -> str:
        return labels.label(labels.ROLE, self.actor.role) if self.actor.role else "未授予角色"

    def can(self, perm: Perm) -> bool:
        return has_perm(self.actor, perm)


_current: ContextVar[PageContext | None] = ContextVar("zhijiao_ui_page", default=None)


def current() -> PageContext:
    ctx = _current.get()
    if ctx is None:
        raise RuntimeError("no protected page is being built")
    return ctx


def client_ip(request: Request | None) -> str | None:
    if request is None or request.client is None:
        return None
    return addresses.client_address(request.client.host, request.headers.get("x-forwarded-for"))


def _request() -> Request | None:
    try:
        return ui.context.client.request
    except (RuntimeError, AttributeError):
        return None


def token() -> str | None:
    """The browser session's handle: it opens screens only (the API refuses it, see auth.UI_KINDS)."""
    return app.storage.user.get(TOKEN_KEY)


def api_token() -> str:
    """A short-lived API token for a page script that calls the API (auth.delegate); raises Unauthorized."""
    db = dbsession.SessionLocal()
    try:
        return auth.delegate(db, token())
    finally:
        db.close()


def safe_next(target: str | None) -> str:
    """A local path to return to after login; anything else (``//host``, ``http:``) becomes ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_url(next_path: str | None = None) -> str:
    target = safe_next(next_path)
    return LOGIN_PATH if target == "/" else f"{LOGIN_PATH}?next={quote(target, safe='/')}"


def resolve(db: Session, request: Request | None) -> Actor:
    """The logged-in actor, bound to ``db``; raises Unauthorized (timeouts are checked here)."""
    actor = auth.resolve(db, token(), request_id=uuid.uuid4().hex, client_ip=client_ip(request),
                         kinds=auth.UI_KINDS)
    db.info["actor"] = actor
    return actor


def _forget(exc: Unauthorized | None) -> None:
    """Drop the token from the browser's storage and keep the reason for the login page."""
    storage = app.storage.user
    had_token = storage.pop(TOKEN_KEY, None) is not None
    if exc is not None and had_token:
        storage[FLASH_KEY] = exc.message


def _page_context(db: Session, actor: Actor, path: str) -> PageContext:
    staff = org_service.find_staff(db_session=db, staff_id=actor.staff_id) if actor.staff_id else None
    bureau = org_service.get_bureau(db_session=db)
    return PageContext(
        db=db,
        actor=actor,
        display_name=staff.display_name if staff else actor.username,
        office_name=staff.office.name if staff is not None and staff.office is not None else None,
        bureau_name=bureau.name if bureau else get_settings().bureau_name,
        path=path,
    )


def protected_page(path: str, **page_kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``@ui.page`` for logged-in staff: the function receives a :class:`PageContext` first.

    Without a valid session (or with one restricted until the password is changed or the
    one-time code enrolled) the browser is sent to ``/login?next=…``. The database session
    lives while the page is built; actions open their own with :func:`action` or :func:`act`.
    The function may be a coroutine (the command center's screens wait for the live fan-out).
    """

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        params = [p for p in inspect.signature(func).parameters.values() if p.name != "ctx"]
        wants_request = any(p.name == "request" for p in params)
        if not wants_request:
            params.insert(0, inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request))

        @contextlib.contextmanager
        def opened(request: Request, kwargs: dict[str, Any]) -> Iterator[PageContext | Response]:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            db = dbsession.SessionLocal()
            try:
                try:
                    actor = resolve(db, request)
                except (Unauthorized, Forbidden) as exc:
                    _forget(exc)
                    yield RedirectResponse(login_url(target), status_code=303)
                    return
                ctx = _page_context(db, actor, request.url.path)
                reset = _current.set(ctx)
                try:
                    if wants_request:
                        kwargs["request"] = request
                    yield ctx
                finally:
                    _current.reset(reset)
            finally:
                db.close()

        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def page(request: Request, **kwargs: Any) -> Any:
                with opened(request, kwargs) as ctx:
                    return ctx if isinstance(ctx, Response) else await func(ctx, **kwargs)
        else:
            @functools.wraps(func)
            def page(request: Request, **kwargs: Any) -> Any:
                with opened(request, kwargs) as ctx:
                    return ctx if isinstance(ctx, Response) else func(ctx, **kwargs)

        page.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        return ui.page(path, **page_kwargs)(page)

    return decorator


@contextlib.contextmanager
def unit_of_work() -> Iterator[Session]:
    """A database session bound to the logged-in actor, for one action; raises Unauthorized."""
    db = dbsession.SessionLocal()
    try:
        resolve(db, _request())
        yield db
    finally:
        db.close()


def show_error(exc: DomainError, *, close_button: str | bool = False) -> None:
    """A service's refusal as a notification in Chinese; a lost session goes back to login."""
    if isinstance(exc, Unauthorized):
        _forget(exc)
        request = _request()
        ui.navigate.to(login_url(request.url.path if request is not None else None))
        return
    ui.notify(exc.message, type="warning" if exc.status in (409, 422) else "negative",
              position="top", multi_line=True, close_button=close_button)


def act(fn: Callable[[Session], T], *, close_button: str | bool = False) -> T | None:
    """Run ``fn`` with a fresh actor-bound session; a DomainError is shown and gives None."""
    try:
        with unit_of_work() as db:
            return fn(db)
    except DomainError as exc:
        show_error(exc, close_button=close_button)
        return None


def action(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an event handler: it receives a fresh actor-bound session first; DomainErrors are shown.

    ``@action def save(db, event): ...`` is passed to NiceGUI as a handler taking ``event`` only.
    Returns the handler's result, or None when it was refused.
    """
    params = list(inspect.signature(func).parameters.values())[1:]

    @functools.wraps(func)
    def handler(*args: Any, **kwargs: Any) -> Any:
        return act(lambda db: func(db, *args, **kwargs))

    handler.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return handler


def logout() -> None:
    """Revoke the session on the server and forget it in the browser."""
    value = token()
    if value:
        db = dbsession.SessionLocal()
        try:
            auth.logout(db, value)
        finally:
            db.close()
    _forget(None)
    ui.navigate.to(LOGIN_PATH)
