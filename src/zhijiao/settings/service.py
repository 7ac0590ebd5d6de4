"""Reading and changing settings; every change is an audited row change."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhijiao.core.errors import InvalidInput, NotFound
from zhijiao.db import session as dbsession
from zhijiao.security.actor import Actor, get_actor
from zhijiao.security.permissions import has_perm, require
from zhijiao.settings.models import Setting
from zhijiao.settings.registry import SPECS, SettingSpec

_CACHE_S = 10.0
_lock = threading.Lock()
_cache: dict[str, Any] = {}
_loaded = 0.0
_read_once = False  # whether _cache holds what the table said, at least once


def _spec(key: str) -> SettingSpec:
    spec = SPECS.get(key)
    if spec is None:
        raise NotFound("没有该设置项", code="setting_not_found")
    return spec


def value(key: str) -> Any:
    """The current value (cached for a few seconds; hot paths call this)."""
    global _loaded, _read_once
    spec = _spec(key)
    if time.monotonic() - _loaded > _CACHE_S:
        with _lock:
            try:
                with dbsession.session_scope(Actor.system("settings")) as db:
                    rows = {s.key: s.value for s in db.execute(select(Setting)).scalars()}
            except Exception:  # noqa: BLE001 - before migrations (first start) use defaults
                # and while the database is away, the values last read: a bureau's thresholds
                # must not fall back to the defaults for the length of an outage
                rows = None if _read_once else {}
            else:
                _read_once = True
            if rows is not None:
                _cache.clear()
                _cache.update(rows)
            _loaded = time.monotonic()
    found = _cache.get(key, spec.default)
    if spec.legal_max is not None and isinstance(found, (int, float)) and not isinstance(found, bool) \
            and found > spec.legal_max:
        return type(spec.default)(spec.legal_max)  # a value stored before the ceiling was enforced
    return found


def invalidate(*, forget: bool = False) -> None:
    """Read the table again at the next use; ``forget``: another database now (tests), so the
    values last read are no fallback."""
    global _loaded, _read_once
    _loaded = 0.0
    if forget:
        _read_once = False
        _cache.clear()


def _validate(spec: SettingSpec, raw: Any) -> Any:
    if isinstance(spec.default, bool):
        if not isinstance(raw, bool):
            raise InvalidInput("应为 true 或 false", code="setting_type", fields={"value": "类型错误"})
        return raw
    if isinstance(spec.default, (int, float)):
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise InvalidInput("应为数字", code="setting_type", fields={"value": "类型错误"})
        if isinstance(spec.default, int) and not float(raw).is_integer():
            raise InvalidInput("应为整数", code="setting_type", fields={"value": "类型错误"})
        if spec.legal_max is not None and raw > spec.legal_max:
            raise InvalidInput(f"{spec.label}不得超过 {spec.legal_max:g}{spec.unit}（{spec.legal_basis}）",
                               code="setting_above_legal_limit", fields={"value": "超出法定上限"})
        if (spec.minimum is not None and raw < spec.minimum) or (spec.maximum is not None and raw > spec.maximum):
            raise InvalidInput(f"取值范围为 {spec.minimum:g}–{spec.maximum:g}", code="setting_range",
                               fields={"value": "超出范围"})
        return type(spec.default)(raw)
    if not isinstance(raw, str) or (spec.key.endswith(("_start", "_end")) and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", raw)):
        raise InvalidInput("格式不正确", code="setting_type", fields={"value": "格式不正确"})
    return raw


def list_settings(*, db_session: Session) -> list[dict[str, Any]]:
    actor = get_actor(db_session)
    visible = [s for s in SPECS.values() if has_perm(actor, s.perm)]
    if not visible:
        require(actor, next(iter(SPECS.values())).perm)
    rows = {s.key: s for s in db_session.execute(select(Setting)).scalars()}
    return [{"key": s.key, "label": s.label, "value": rows[s.key].value if s.key in rows else s.default,
             "default": s.default, "minimum": s.minimum, "maximum": s.maximum, "unit": s.unit, "group": s.group,
             "hint": s.hint, "legal_max": s.legal_max, "legal_basis": s.legal_basis,
             "updated_by": rows[s.key].updated_by if s.key in rows else None,
             "updated_at": rows[s.key].updated_at if s.key in rows else None} for s in visible]


def set_value(*, db_session: Session, key: str, raw: Any) -> Setting:
    spec = _spec(key)
    actor = require(get_actor(db_session), spec.perm)
    checked = _validate(spec, raw)
    row = db_session.get(Setting, key)
    if row is None:
        row = Setting(key=key, value=checked, updated_by=actor.username)
        db_session.add(row)
    else:
        row.value, row.updated_by = checked, actor.username
    db_session.commit()
    invalidate()
    return row
