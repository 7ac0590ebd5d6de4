// The zone editor's map (/zones): NiceGUI's bundled Leaflet, vector layers only (district
// boundary, office areas, town names, zones); no tile layer unless the deployment names an
// intranet tile server. Clicks are sent to the server ("map_click"), which keeps the drawing and
// sends the draft back (`set_draft`); nothing here talks to any other host.
import { leaflet as L } from "nicegui-leaflet";

function loadCss(href) {
  if (document.querySelector(`link[data-zm-href="${href}"]`)) return Promise.resolve();
  return new Promise((resolve) => {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    link.dataset.zmHref = href;
    link.onload = link.onerror = () => resolve();
    document.head.appendChild(link);
  });
}

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function layerOf(f, style) {
  const p = f.properties || {};
  if (f.geometry?.type === "Point" && p.radius_m) {
    const [lon, lat] = f.geometry.coordinates;
    return L.circle([lat, lon], { radius: p.radius_m, ...style });
  }
  if (f.geometry?.type === "Point") {
    const [lon, lat] = f.geometry.coordinates;
    return L.circleMarker([lat, lon], { radius: 5, ...style });
  }
  return L.geoJSON(f, { style: () => style, pointToLayer: (_, ll) => L.circleMarker(ll, { radius: 4, ...style }) });
}

export default {
  template: `<div class="zm-root"><div ref="map" class="zm-map"></div></div>`,
  props: { base: Object, resourcePath: String },
  async mounted() {
    await this.$nextTick();
    await loadCss(window.path_prefix + `${this.resourcePath}/leaflet/leaflet.css`);
    const base = this.base || {};
    const map = (this.map = L.map(this.$refs.map, {
      zoomControl: true, attributionControl: !!base.tile, zoomSnap: 0.25, zoomDelta: 0.5,
      minZoom: 8, maxZoom: base.tile?.maxZoom ?? 18, doubleClickZoom: false,
    }));
    if (base.tile) {
      L.tileLayer(base.tile.url, { subdomains: base.tile.subdomains || "abc", maxZoom: base.tile.maxZoom || 18,
                                   attribution: base.tile.attribution || "" }).addTo(map);
    }
    if (base.boundary) {
      this.boundsLayer = L.geoJSON(base.boundary, {
        interactive: false,
        style: { color: "#1a5aa8", weight: 2, opacity: 0.9, fillColor: "#dbeafe", fillOpacity: 0.35 },
      }).addTo(map);
    }
    for (const f of base.areas?.features || []) {
      L.geoJSON(f, { interactive: false, style: { color: "#64748b", weight: 1, dashArray: "4 4", fillOpacity: 0 } }).addTo(map);
    }
    for (const l of base.labels || []) {
      L.marker([l.lat, l.lon], {
        interactive: false, keyboard: false,
        icon: L.divIcon({ className: "zm-town", html: `<span>${esc(l.name)}</span>`, iconSize: null }),
      }).addTo(map);
    }
    this.zoneLayer = L.layerGroup().addTo(map);
    this.draftLayer = L.layerGroup().addTo(map);
    this.set_zones(base.zones);
    if (this.boundsLayer) map.fitBounds(this.boundsLayer.getBounds(), { padding: [12, 12] });
    else map.setView([36.85, 118.33], 11);
    map.on("click", (e) => this.$emit("map_click", { lat: e.latlng.lat, lon: e.latlng.lng }));
    this.resizeObserver = new ResizeObserver(() => map.invalidateSize({ pan: false }));
    this.resizeObserver.observe(this.$el);
    this.$el.dataset.ready = "1";
  },
  unmounted() {
    this.resizeObserver?.disconnect();
    this.map?.remove();
  },
  methods: {
    set_zones(zones) {
      if (!this.zoneLayer) return;
      this.zoneLayer.clearLayers();
      for (const f of zones?.features || []) {
        const p = f.properties || {};
        const excl = p.kind === "exclusion";
        const off = p.active === false;
        const color = off ? "#94a3b8" : excl ? "#dc2626" : "#16a34a";
        const layer = layerOf(f, {
          color, weight: p.highlight ? 3 : 1.5, dashArray: excl ? "6 4" : "2 6",
          fillColor: color, fillOpacity: excl ? 0.18 : 0.06, bubblingMouseEvents: true,
        });
        layer.bindTooltip(`${excl ? "禁止进入" : "活动范围"}：${esc(p.name)}${off ? "（已停用）" : ""}`, { sticky: true });
        layer.on("click", (e) => {
          if (this.drawing) return; // clicks while drawing add points, handled by the map
          L.DomEvent.stopPropagation(e);
          this.$emit("zone_click", { id: p.id });
        });
        this.zoneLayer.addLayer(layer);
      }
    },
    set_mode(mode) {
      this.drawing = !!mode;
      this.$refs.map.style.cursor = mode ? "crosshair" : "";
    },
    set_draft(feature, fit) {
      if (!this.draftLayer) return;
      this.draftLayer.clearLayers();
      if (!feature) return;
      const style = { color: "#d97706", weight: 2.5, fillColor: "#f59e0b", fillOpacity: 0.25, interactive: false };
      const layer = layerOf(feature, style).addTo(this.draftLayer);
      for (const v of feature.properties?.vertices || []) {
        L.circleMarker([v[1], v[0]], { radius: 4, color: "#b45309", fillColor: "#fff", fillOpacity: 1, weight: 2, interactive: false })
          .addTo(this.draftLayer);
      }
      if (fit && layer.getBounds) this.map.fitBounds(layer.getBounds(), { padding: [24, 24], maxZoom: 16 });
    },
    fit_all() {
      if (this.boundsLayer) this.map.fitBounds(this.boundsLayer.getBounds(), { padding: [12, 12] });
    },
  },
};
