"""Deployment settings of the command center's map (``ZHIJIAO_TILE_*``).

Kept here so the command center is self-contained; they can join ``zhijiao.config.Settings``
as they are. Without a tile URL the map is drawn from vector layers only (no internet).

- ``ZHIJIAO_TILE_URL``: an intranet tile server, e.g. a 天地图 mirror
  ``http://10.1.2.3/DataServer?T=vec_w&x={x}&y={y}&l={z}``;
- ``ZHIJIAO_TILE_DATUM``: ``wgs84`` (天地图 uses CGCS2000, within centimetres of WGS-84) or
  ``gcj02`` (AMap/高德-style tiles): positions, zones and boundaries are converted with
  :mod:`zhijiao.core.geo` before they reach the map;
- ``ZHIJIAO_TILE_SUBDOMAINS``, ``ZHIJIAO_TILE_MAX_ZOOM``, ``ZHIJIAO_TILE_ATTRIBUTION``.
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class MapSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZHIJIAO_", env_file=None, extra="ignore")

    tile_url: str | None = None
    tile_datum: Literal["wgs84", "gcj02"] = "wgs84"
    tile_subdomains: str = ""
    tile_max_zoom: int = 18
    tile_attribution: str = ""

    @property
    def datum(self) -> str:
        """The datum the browser map works in: GCJ-02 only under GCJ-02 tiles."""
        return self.tile_datum if self.tile_url else "wgs84"


@functools.lru_cache(maxsize=1)
def map_settings() -> MapSettings:
    return MapSettings()
