"""The command center's map element (a small Vue component over NiceGUI's bundled Leaflet)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nicegui.elements.leaflet as _leaflet_package  # registers the "nicegui-leaflet" ES module
from nicegui import ui
from nicegui.events import GenericEventArguments, Handler, handle_event

LEAFLET_DIST = Path(_leaflet_package.__file__).parent / "dist"


class CommandMap(ui.element, component="static/command/command_map.js"):
    """Live subjects (canvas, clustered when zoomed out), zones and tracks on one map.

    ``base``: the static layers from :func:`zhijiao.ui.command.map_base`; ``rows``: the first
    snapshot of positions (``[sid, lat, lon, level, severity, t, label]``); ``track``: a track
    to draw at once (alarm desk). Later changes go through the methods, never through props.
    """

    def __init__(self, base: dict[str, Any], *, rows: list[list[Any]] | None = None,
                 track: dict[str, Any] | None = None, cluster_below: float | None = 13,
                 on_subject_click: Handler[GenericEventArguments] | None = None) -> None:
        super().__init__()
        self.add_resource(LEAFLET_DIST)
        self._props["base"] = base
        self._props["rows"] = rows or []
        self._props["track"] = track
        self._props["cluster-below"] = cluster_below
        if on_subject_click is not None:
            self.on("subject_click", lambda e: handle_event(on_subject_click, e))

    def apply(self, rows: list[list[Any]], now: float, removed: list[int] | None = None) -> None:
        self.run_method("apply", {"rows": rows, "now": now, "removed": removed or []})

    def focus(self, lat: float, lon: float, zoom: float | None = None, subject_id: int | None = None) -> None:
        self.run_method("focus", lat, lon, zoom, subject_id)

    def set_zones(self, zones: dict[str, Any]) -> None:
        self.run_method("set_zones", zones)

    def set_track(self, track: dict[str, Any]) -> None:
        self.run_method("set_track", track)

    def set_cursor(self, index: int) -> None:
        self.run_method("set_cursor", index)

    def fit(self) -> None:
        self.run_method("fit")
