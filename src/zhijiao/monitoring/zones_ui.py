"""/zones (电子围栏): zones drawn on the offline map, with their subject and time schedule.

The map is NiceGUI's bundled Leaflet with vector layers only (the district boundary, office
areas, town names); ``zone_map.js`` sends clicks here and draws the draft this page keeps. A zone
is a polygon clicked point by point, a circle around a point (clicked, a town's centre or the
subject's home) with a radius, or a copy of a template (the 临淄区 boundary, an office's area, an
existing zone). Saving goes through the same service as ``POST/PATCH /api/v1/zones``, which
checks the caller's scope and is audited; the rule engine reloads the zones on the change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nicegui.elements.leaflet as _leaflet_package  # registers the "nicegui-leaflet" ES module
from nicegui import ui
from shapely.geometry import mapping, shape

from zhijiao.command import mapdata
from zhijiao.command.config import map_settings
from zhijiao.core import geo
from zhijiao.core.errors import DomainError, InvalidInput
from zhijiao.monitoring import geofence
from zhijiao.monitoring import service as monitoring_service
from zhijiao.monitoring.models import Zone
from zhijiao.monitoring.schemas import ZoneCreate, ZoneUpdate
from zhijiao.org import service as org_service
from zhijiao.org.towns import TOWN_CENTRES
from zhijiao.security.permissions import Perm, sees_every_office
from zhijiao.subjects import service as subjects_service
from zhijiao.ui import menu, session
from zhijiao.ui.layout import error_notice, frame, section
from zhijiao.ui.session import PageContext, protected_page

LEAFLET_DIST = Path(_leaflet_package.__file__).parent / "dist"
WEEKDAYS = {0: "周一", 1: "周二", 2: "周三", 3: "周四", 4: "周五", 5: "周六", 6: "周日"}
KINDS = {"exclusion": "禁止进入（禁区）", "permitted": "活动范围"}
KIND_SHORT = {"exclusion": "禁止进入", "permitted": "活动范围"}
SHAPES = {"polygon": "多边形（在地图上逐点单击）", "circle": "圆形（中心点 + 半径）", "template": "复制模板"}
EVERYONE = "all"

CSS = """
.zm-root, .zm-map { width: 100%; height: 100%; }
.zm-root .leaflet-container { background: #eef2f7; font-family: inherit; }
.zm-town span { color: #475569; font-size: 12px; white-space: nowrap; text-shadow: 0 0 3px #fff, 0 0 6px #fff;
                position: relative; left: -50%; }
"""


class ZoneMap(ui.element, component="zone_map.js"):
    """The offline vector map with zones and the draft being drawn."""

    def __init__(self, base: dict[str, Any]) -> None:
        super().__init__()
        self.add_resource(LEAFLET_DIST)
        self._props["base"] = base

    def set_zones(self, zones: dict[str, Any]) -> None:
        self.run_method("set_zones", zones)

    def set_mode(self, mode: str | None) -> None:
        self.run_method("set_mode", mode)

    def set_draft(self, feature: dict[str, Any] | None, fit: bool = False) -> None:
        self.run_method("set_draft", feature, fit)


def schedule_text(schedule: list[dict[str, Any]] | None) -> str:
    """``[{"weekdays": [0..4], "start": "08:00", "end": "18:00"}]`` → 周一至周五 08:00–18:00."""
    if not schedule:
        return "全天"
    parts = []
    for w in schedule:
        days = sorted(w.get("weekdays") or [])
        if days == list(range(7)):
            label = "每天"
        elif len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
            label = f"{WEEKDAYS[days[0]]}至{WEEKDAYS[days[-1]]}"
        else:
            label = "、".join(WEEKDAYS[d] for d in days)
        start, end = w.get("start", ""), w.get("end", "")
        if start == end:
            parts.append(f"{label} 全天")
        else:
            parts.append(f"{label} {start}–{'次日' if end < start else ''}{end}")
    return "；".join(parts)


def register() -> None:
    menu.add_menu_item("电子围栏", "/zones", "fence", menu.CASE, order=45)

    @protected_page("/zones")
    def zones_page(ctx: PageContext) -> None:
        ui.add_css(CSS)
        with frame("电子围栏") as f:
            try:
                ZoneEditor(ctx, f)
            except DomainError as exc:
                error_notice(exc)


class ZoneEditor:
    def __init__(self, ctx: PageContext, f: Any) -> None:
        db = ctx.db
        self.can_write = ctx.can(Perm.subjects_write)
        self.district = sees_every_office(ctx.actor)  # may change the zones for everyone (the service checks)
        self.datum = map_settings().datum
        zones = monitoring_service.list_zones(db_session=db, include_inactive=True)
        self.zones_at_start = zones
        self.subjects = {s.id: f"{s.name}（{s.office_name}）" for s in subjects_service.search(
            db_session=db, size=2000).items}
        self.homes: dict[int, tuple[float, float]] = {}
        self.offices = {o.id: o for o in org_service.list_offices(db_session=db)}
        # whom a zone applies to: everyone (the district's staff), an office's subjects, one subject
        own = [o for o in self.offices.values() if self.district or o.id == ctx.actor.office_id]
        self.reach_options = {**({EVERYONE: "全体社区矫正对象"} if self.district else {}),
                              **{f"o:{o.id}": f"{o.name}的全部对象" for o in own},
                              **{f"s:{sid}": label for sid, label in self.subjects.items()}}
        self.editing: int | None = None
        self.vertices: list[list[float]] = []  # [lon, lat] WGS-84
        self.center: tuple[float, float] | None = None  # (lat, lon) WGS-84
        self.template_geometry: dict[str, Any] | None = None
        self.template_radius: float | None = None
        self.windows: list[dict[str, Any]] = []

        base = {"boundary": mapdata.boundary(self.datum), "areas": mapdata.office_areas(db, self.datum),
                "labels": mapdata.labels(db, self.datum), "zones": self._zones_fc(zones),
                "tile": mapdata.base_layers(db_session=db, with_zones=False)["tile"]}
        ui.label("在离线地图上绘制电子围栏：禁止进入的区域（进入即告警）或活动范围（离开即告警）；可按星期与时段生效。"
                 "围栏保存后立即用于定位告警。").classes("text-sm text-grey-8")
        with ui.row().classes("w-full no-wrap items-stretch gap-3"):
            with ui.card().classes("zj-card p-0 grow").style("height: 640px; min-width: 0"):
                self.map = ZoneMap(base).classes("w-full h-full").mark("zone-map")
                self.map.on("map_click", self._clicked)
                self.map.on("zone_click", lambda e: self.edit(int(e.args["id"])))
            with ui.card().classes("zj-card p-4 gap-2").style("width: 440px; flex: none"):
                self._form()
        section("围栏列表")
        self.table = ui.table(rows=[], columns=[{"name": n, "label": lbl, "field": n, "align": "left"} for n, lbl in (
            ("name", "名称"), ("kind", "类型"), ("applies", "适用对象"), ("shape", "形状"), ("schedule", "生效时段"),
            ("source", "来源"), ("state", "状态"), ("actions", "操作"))], row_key="id",
            pagination={"rowsPerPage": 20}).props("dense flat bordered no-hover").classes("zj-table w-full") \
            .mark("zone-table")
        self.table.add_slot("body-cell-actions", """
<q-td :props="props" class="q-gutter-x-xs">
  <q-btn v-if="props.row.can_edit" flat dense no-caps size="sm" color="primary" label="编辑"
         @click.stop="$parent.$emit('edit', props.row)" />
  <q-btn v-if="props.row.can_edit && props.row.active" flat dense no-caps size="sm" color="negative" label="停用"
         @click.stop="$parent.$emit('toggle', props.row)" />
  <q-btn v-if="props.row.can_edit && !props.row.active" flat dense no-caps size="sm" color="positive" label="启用"
         @click.stop="$parent.$emit('toggle', props.row)" />
</q-td>""")
        self.table.on("edit", lambda e: self.edit(int(e.args["id"])))
        self.table.on("toggle", lambda e: self.toggle(int(e.args["id"]), not e.args["active"]))
        self.zones = {z.id: z for z in zones}
        self._show(zones)

    # --- the form --------------------------------------------------------------------------------

    def _form(self) -> None:
        self.title = ui.label("新建围栏").classes("text-base font-semibold").mark("zone-form-title")
        self.name = ui.input("名称").classes("w-full").mark("zone-name")
        self.kind = ui.select(KINDS, label="类型", value="exclusion").classes("w-full").mark("zone-kind")
        self.subject = ui.select(self.reach_options, label="适用对象", value=next(iter(self.reach_options), None),
                                 with_input=True).classes("w-full").mark("zone-subject")
        self.shape = ui.toggle({k: v.split("（")[0] for k, v in SHAPES.items()}, value="polygon",
                               on_change=lambda: self._shape_changed()).props("no-caps dense").mark("zone-shape")
        self.hint = ui.label().classes("text-xs text-grey-7")
        with ui.column().classes("w-full gap-1") as self.polygon_box:
            with ui.row().classes("gap-2"):
                ui.button("撤销一点", icon="undo", on_click=self._undo).props("flat dense no-caps")
                ui.button("清除", icon="clear", on_click=self._clear).props("flat dense no-caps")
            self.vertex_count = ui.label("已选 0 个点").classes("text-xs text-grey-8").mark("zone-vertices")
        with ui.column().classes("w-full gap-1") as self.circle_box:
            self.centre_from = ui.select({"click": "在地图上单击中心点", "town": "街道/镇中心", "home": "对象住址"},
                                         label="中心点", value="click",
                                         on_change=lambda: self._centre_changed()).classes("w-full") \
                .mark("zone-centre")
            self.town = ui.select(list(TOWN_CENTRES), label="街道/镇", on_change=lambda: self._centre_changed()) \
                .classes("w-full").mark("zone-town")
            self.radius = ui.number("半径（米）", value=500, min=10, max=100000, step=50,
                                    on_change=lambda: self._redraw()).classes("w-full").mark("zone-radius")
            self.centre_label = ui.label("尚未选择中心点").classes("text-xs text-grey-8")
        with ui.column().classes("w-full gap-1") as self.template_box:
            options = {"district": "临淄区区界"}
            options.update({f"office:{o.id}": f"{o.name}辖区" for o in self.offices.values() if o.area_geojson})
            options.update({f"zone:{z.id}": f"复制围栏：{z.name}" for z in self.zones_at_start})
            self.template = ui.select(options, label="模板",
                                      on_change=lambda: self._template_changed()).classes("w-full").mark("zone-template")
        ui.separator()
        with ui.row().classes("w-full items-center justify-between"):
            ui.label("生效时段（北京时间；不设为全天生效）").classes("text-sm")
            ui.button("添加时段", icon="add", on_click=lambda: self._add_window()).props("flat dense no-caps") \
                .mark("zone-add-window")
        self.windows_box = ui.column().classes("w-full gap-1")
        self.copy_box = ui.row().classes("w-full")
        with ui.row().classes("w-full justify-end gap-2 pt-2"):
            self.new_button = ui.button("新建", on_click=self.reset).props("flat no-caps")
            self.save_as = ui.button("另存为新围栏", on_click=lambda: self.save(as_new=True)).props("flat no-caps")
            self.save_button = ui.button("保存围栏", icon="save", on_click=lambda: self.save()).props(
                "unelevated no-caps color=primary").mark("zone-save")
        if not self.can_write:
            for el in (self.save_button, self.save_as, self.new_button):
                el.set_visibility(False)
            ui.label("您的角色只能查看电子围栏").classes("text-xs text-grey-7")
        self.save_as.set_visibility(False)
        self._shape_changed()

    def _add_window(self, window: dict[str, Any] | None = None) -> None:
        w = window or {"weekdays": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00"}
        entry: dict[str, Any] = {}
        with self.windows_box, ui.column().classes("w-full gap-0 border rounded p-2") as line:
            entry["days"] = ui.select(WEEKDAYS, multiple=True, value=list(w["weekdays"]), label="星期") \
                .props("dense use-chips").classes("w-full").mark("zone-window-days")
            with ui.row().classes("w-full items-center no-wrap gap-2"):
                entry["start"] = ui.input("开始", value=w["start"]).props("dense mask='##:##'").style("width: 64px") \
                    .mark("zone-window-start")
                entry["end"] = ui.input("结束", value=w["end"]).props("dense mask='##:##'").style("width: 64px") \
                    .mark("zone-window-end")
                ui.button("每天", on_click=lambda: entry["days"].set_value(list(range(7)))).props(
                    "flat dense no-caps size=sm")
                ui.button("工作日", on_click=lambda: entry["days"].set_value(list(range(5)))).props(
                    "flat dense no-caps size=sm")
                ui.space()
                ui.button(icon="delete", on_click=lambda: (self.windows.remove(entry), line.delete())).props(
                    "flat dense round size=sm color=grey-7")
        self.windows.append(entry)

    def _schedule(self) -> list[dict[str, Any]] | None:
        out = []
        for e in self.windows:
            if not e["days"].value:
                raise InvalidInput("请为每个时段选择星期", code="invalid_zone", fields={"schedule": "缺少星期"})
            for key in ("start", "end"):
                text = e[key].value or ""
                if len(text) != 5 or not text[:2].isdigit() or not text[3:].isdigit() or int(text[:2]) > 23 \
                        or int(text[3:]) > 59:
                    raise InvalidInput("时间格式应为 时:分，如 08:00", code="invalid_zone", fields={"schedule": text})
            out.append({"weekdays": sorted(e["days"].value), "start": e["start"].value, "end": e["end"].value})
        return out or None

    # --- drawing ---------------------------------------------------------------------------------

    def _to_wgs(self, lat: float, lon: float) -> tuple[float, float]:
        return geo.gcj02_to_wgs84(lat, lon) if self.datum == "gcj02" else (lat, lon)

    def _to_map(self, feature: dict[str, Any]) -> dict[str, Any]:
        g = feature["geometry"]
        if g["type"] in ("Polygon", "MultiPolygon") and sum(len(r) for r in g["coordinates"][0]) > 400:
            g = mapping(shape(g).simplify(mapdata.SIMPLIFY_DEG, preserve_topology=True))  # display only
            feature = {**feature, "geometry": g}
        if self.datum != "gcj02":
            return feature
        if g["type"] == "Point":
            lat, lon = geo.wgs84_to_gcj02(g["coordinates"][1], g["coordinates"][0])
            return {**feature, "geometry": {"type": "Point", "coordinates": [lon, lat]}}
        return {**feature, "geometry": mapping(geo.wgs84_geometry_to_gcj02(shape(g)))}

    def _shape_changed(self) -> None:
        mode = self.shape.value
        self.polygon_box.set_visibility(mode == "polygon")
        self.circle_box.set_visibility(mode == "circle")
        self.template_box.set_visibility(mode == "template")
        self.hint.set_text({"polygon": "在地图上依次单击多边形的各个顶点（至少 3 个），无需回到起点。",
                            "circle": "选择中心点并填写半径。",
                            "template": "选择模板后可再修改名称、类型、适用对象与时段。"}[mode])
        self.town.set_visibility(self.centre_from.value == "town")
        self.map.set_mode(mode if mode in ("polygon", "circle") else None)
        self._redraw()

    def _clicked(self, e: Any) -> None:
        lat, lon = self._to_wgs(float(e.args["lat"]), float(e.args["lon"]))
        if self.shape.value == "polygon":
            self.vertices.append([round(lon, 7), round(lat, 7)])
        elif self.shape.value == "circle" and self.centre_from.value == "click":
            self.center = (lat, lon)
        else:
            return
        self._redraw()

    def _undo(self) -> None:
        if self.vertices:
            self.vertices.pop()
        self._redraw()

    def _clear(self) -> None:
        self.vertices, self.center, self.template_geometry = [], None, None
        self._redraw()

    def _centre_changed(self) -> None:
        self.town.set_visibility(self.centre_from.value == "town")
        if self.centre_from.value == "town" and self.town.value:
            self.center = TOWN_CENTRES[self.town.value]
        elif self.centre_from.value == "home":
            self.center = self._home()
        self._redraw(fit=True)

    def _home(self) -> tuple[float, float] | None:
        sid = self._reach()[0]
        if not sid:
            ui.notify("请先选择适用对象", type="warning", position="top")
            return None
        home = session.act(lambda db: subjects_service.get(db_session=db, subject_id=sid))
        if home is None or home.home_lat is None:
            ui.notify("该对象没有登记住址坐标", type="warning", position="top")
            return None
        return home.home_lat, home.home_lon

    def _template_changed(self) -> None:
        value = self.template.value
        self.template_radius = None
        if value == "district":
            self.template_geometry = mapping(geofence.linzi_boundary().geometry)  # type: ignore[arg-type]
            self.name.value = self.name.value or "临淄区活动范围"
            self.kind.value = "permitted"
        elif value and value.startswith("office:"):
            office = self.offices[int(value.split(":")[1])]
            area = office.area_geojson or {}
            self.template_geometry = area.get("geometry", area)
            self.name.value = self.name.value or f"{office.area_name}范围"
        elif value and value.startswith("zone:"):
            zone = self.zones.get(int(value.split(":")[1]))
            if zone is not None:
                feature = monitoring_service.zone_feature(zone)
                self.template_geometry, self.template_radius = feature["geometry"], feature["properties"].get("radius_m")
                self.kind.value = zone.kind
                self.windows_box.clear()
                self.windows = []
                for w in zone.schedule or []:
                    self._add_window(w)
        self._redraw(fit=True)

    def geometry(self) -> tuple[dict[str, Any], float | None]:
        """The drawn shape as GeoJSON (WGS-84) and the radius for a circle; raises when incomplete."""
        mode = self.shape.value
        if mode == "polygon":
            if len(self.vertices) < 3:
                raise InvalidInput("多边形至少需要 3 个点：请在地图上单击", code="invalid_zone",
                                   fields={"geometry": "点数不足"})
            return {"type": "Polygon", "coordinates": [[*self.vertices, self.vertices[0]]]}, None
        if mode == "circle":
            if self.center is None:
                raise InvalidInput("请选择圆心", code="invalid_zone", fields={"geometry": "缺少圆心"})
            if not self.radius.value or self.radius.value <= 0:
                raise InvalidInput("半径必须大于 0", code="invalid_zone", fields={"radius_m": "必须大于 0"})
            return {"type": "Point", "coordinates": [self.center[1], self.center[0]]}, float(self.radius.value)
        if self.template_geometry is None:
            raise InvalidInput("请选择模板", code="invalid_zone", fields={"geometry": "未选择"})
        return self.template_geometry, self.template_radius

    def _redraw(self, fit: bool = False) -> None:
        self.vertex_count.set_text(f"已选 {len(self.vertices)} 个点")
        if self.center:
            self.centre_label.set_text(f"中心点：北纬 {self.center[0]:.5f}，东经 {self.center[1]:.5f}")
        mode, feature = self.shape.value, None
        if mode == "polygon" and self.vertices:
            ring = self.vertices + [self.vertices[0]] if len(self.vertices) >= 3 else self.vertices
            geometry = {"type": "Polygon", "coordinates": [ring]} if len(self.vertices) >= 3 else \
                {"type": "LineString", "coordinates": ring} if len(ring) > 1 else \
                {"type": "Point", "coordinates": ring[0]}
            feature = {"type": "Feature", "geometry": geometry, "properties": {}}
        elif mode == "circle" and self.center:
            feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [self.center[1], self.center[0]]},
                       "properties": {"radius_m": float(self.radius.value or 0) or 1}}
        elif mode == "template" and self.template_geometry:
            feature = {"type": "Feature", "geometry": self.template_geometry,
                       "properties": {"radius_m": self.template_radius} if self.template_radius else {}}
        if feature is not None:
            feature = self._to_map(feature)
            if mode == "polygon":
                feature["properties"]["vertices"] = [c for c in feature["geometry"]["coordinates"][0]] \
                    if feature["geometry"]["type"] == "Polygon" else []
        self.map.set_draft(feature, fit)

    def _reach(self) -> tuple[int | None, int | None]:
        """(subject_id, office_id) of the chosen 适用对象."""
        value = self.subject.value or ""
        if value.startswith("s:"):
            return int(value[2:]), None
        if value.startswith("o:"):
            return None, int(value[2:])
        return None, None

    def _applies(self, z: Zone) -> str:
        if z.subject_id:
            return self.subjects.get(z.subject_id, "—")
        if z.office_id:
            office = self.offices.get(z.office_id)
            return f"{office.name}的全部对象" if office else "—"
        return "全体对象"

    # --- saving ----------------------------------------------------------------------------------

    def save(self, as_new: bool = False) -> None:
        try:
            geometry, radius = self.geometry()
            schedule = self._schedule()
        except DomainError as exc:
            session.show_error(exc)
            return
        subject_id, office_id = self._reach()
        name = (self.name.value or "").strip()
        if len(name) < 2:
            ui.notify("请填写围栏名称（至少 2 个字）", type="warning", position="top")
            return
        if self.editing is None or as_new:
            source = "复制" if as_new else ("区界" if self.template.value == "district" and self.shape.value ==
                                          "template" else "绘制")
            zone = session.act(lambda db: monitoring_service.create_zone(db_session=db, zone_in=ZoneCreate(
                name=name, kind=self.kind.value, subject_id=subject_id, office_id=office_id, geometry=geometry,
                radius_m=radius, schedule=schedule, source=source)))
        else:
            zone_id = self.editing
            zone = session.act(lambda db: monitoring_service.update_zone(db_session=db, zone_id=zone_id,
                                                                         zone_in=ZoneUpdate(
                name=name, kind=self.kind.value, subject_id=subject_id, office_id=office_id, geometry=geometry,
                radius_m=radius, schedule=schedule or [])))
        if zone is None:
            return
        ui.notify(f"已保存围栏“{zone.name}”", type="positive", position="top")
        self.reload()
        self.reset()

    def toggle(self, zone_id: int, active: bool) -> None:
        zone = session.act(lambda db: monitoring_service.update_zone(db_session=db, zone_id=zone_id,
                                                                     zone_in=ZoneUpdate(active=active)))
        if zone is not None:
            ui.notify(f"已{'启用' if active else '停用'}围栏“{zone.name}”", type="positive", position="top")
            self.reload()

    def edit(self, zone_id: int) -> None:
        zone = self.zones.get(zone_id)
        if zone is None:
            return
        feature = monitoring_service.zone_feature(zone)
        self.editing = zone.id
        self.title.set_text(f"编辑围栏：{zone.name}")
        self.name.value, self.kind.value = zone.name, zone.kind
        key = f"s:{zone.subject_id}" if zone.subject_id else f"o:{zone.office_id}" if zone.office_id else EVERYONE
        self.subject.value = key if key in self.reach_options else None
        self.vertices, self.center = [], None
        self.template_geometry, self.template_radius = feature["geometry"], feature["properties"].get("radius_m")
        self.shape.value = "template"
        self.windows_box.clear()
        self.windows = []
        for w in zone.schedule or []:
            self._add_window(w)
        self.save_as.set_visibility(self.can_write)
        self._shape_changed()
        self._redraw(fit=True)

    def reset(self) -> None:
        self.editing = None
        self.title.set_text("新建围栏")
        self.name.value = ""
        self.vertices, self.center, self.template_geometry, self.template_radius = [], None, None, None
        self.template.value = None
        self.windows_box.clear()
        self.windows = []
        self.save_as.set_visibility(False)
        self._redraw()

    def reload(self) -> None:
        zones = session.act(lambda db: monitoring_service.list_zones(db_session=db, include_inactive=True))
        if zones is not None:
            self.zones = {z.id: z for z in zones}
            self._show(zones)
            self.map.set_zones(self._zones_fc(zones))

    # --- listing ---------------------------------------------------------------------------------

    def _zones_fc(self, zones: list[Zone]) -> dict[str, Any]:
        fc = mapdata.zones_geojson([z for z in zones if z.active], self.datum, skip_district=False)
        by_name = {z.id: z for z in zones}
        for f in fc["features"]:
            f["properties"]["active"] = by_name[f["properties"]["id"]].active if f["properties"]["id"] in by_name \
                else True
        return fc

    def _show(self, zones: list[Zone]) -> None:
        rows = []
        for z in zones:
            feature = monitoring_service.zone_feature(z)
            radius = feature["properties"].get("radius_m")
            rows.append({
                "id": z.id, "name": z.name, "kind": KIND_SHORT.get(z.kind, z.kind),
                "applies": self._applies(z),
                "shape": f"圆形 半径 {radius:g} 米" if radius else "多边形",
                "schedule": schedule_text(z.schedule), "source": z.source or "—",
                "state": "生效" if z.active else "已停用", "active": z.active, "can_edit": self.can_write and (
                    self.district or z.subject_id is not None or f"o:{z.office_id}" in self.reach_options),
            })
        self.table.rows = rows
        self.table.update()
