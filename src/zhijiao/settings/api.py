from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path

from zhijiao.api.deps import ScopedDb
from zhijiao.settings import service as settings_service

router = APIRouter(prefix="/settings", tags=["settings"])


@router.get("", summary="可配置参数（系统管理员：业务规则；安全管理员：安全参数）")
def list_settings(db_session: ScopedDb) -> list[dict[str, Any]]:
    return settings_service.list_settings(db_session=db_session)


@router.put("/{key}", summary="修改参数（修改将被审计）")
def set_setting(
    db_session: ScopedDb,
    key: Annotated[str, Path(max_length=64)],
    value: Annotated[int | float | bool | str, Body(embed=True)],
) -> dict[str, Any]:
    row = settings_service.set_value(db_session=db_session, key=key, raw=value)
    return {"key": row.key, "value": row.value, "updated_by": row.updated_by}
