// The command center's map: Leaflet (bundled with NiceGUI) with no tile layer unless the
// deployment names an intranet tile server. Vector layers: the district boundary, its
// neighbours, office areas or town labels, zones. Subjects are drawn on ONE canvas (10,000
// dots redraw in a few milliseconds) and aggregated into grid clusters when zoomed out;
// subjects with an open alarm are never clustered and pulse. Deltas arrive from the server
// about once a second (`apply`); nothing here talks to any other host.
import { leaflet as L } from "nicegui-leaflet";

const LEVEL_COLORS = ["#ff9f43", "#38bdf8", "#34d399", "#a78bfa"]; // 严管 普管 宽管 其他
const LEVEL_LABELS = ["严管", "普管", "宽管", "—"];
const SEV_COLORS = { 1: "#ff3b5c", 2: "#ffb020", 3: "#facc15" };
const STALE_COLOR = "#5b6b82";
const STALE_S = 600; // no fix for 10 minutes: shown grey (offline)
const CELL_PX = 52;
const CLUSTER_MIN_VISIBLE = 250; // fewer dots than this in view: never aggregate
const CLUSTER_MIN_CELL = 3; // a cell with fewer is drawn as dots
const MAX_PULSES = 300;

function loadCss(href) {
  if (document.querySelector(`link[data-cc-href="${href}"]`)) return Promise.resolve();
  return new Promise((resolve) => {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    link.dataset.ccHref = href;
    link.onload = link.onerror = () => resolve();
    document.head.appendChild(link);
  });
}

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function hhmm(epoch) {
  const d = new Date(epoch * 1000);
  return d.toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" });
}

// Latency of pushed rows (browser receipt − fix time), kept for tests and the benchmark.
window.ccStats = window.ccStats || { lags: [], rows: 0, deltas: 0, firstPaint: null };

const DotsLayer = L.Layer.extend({
  initialize(owner) {
    this.owner = owner;
  },
  onAdd(map) {
    this._map = map;
    const pane = map.getPane("ccDots") || map.createPane("ccDots");
    pane.style.zIndex = 450;
    pane.style.pointerEvents = "none";
    this._canvas = L.DomUtil.create("canvas", "cc-dots-canvas", pane);
    map.on("moveend zoomend resize viewreset", this.redraw, this);
    map.on("zoomstart", this._hide, this);
    this.redraw();
  },
  onRemove(map) {
    map.off("moveend zoomend resize viewreset", this.redraw, this);
    map.off("zoomstart", this._hide, this);
    L.DomUtil.remove(this._canvas);
  },
  _hide() {
    this._canvas.style.visibility = "hidden";
  },
  redraw() {
    const map = this._map;
    if (!map) return;
    const size = map.getSize();
    const dpr = window.devicePixelRatio || 1;
    const c = this._canvas;
    if (c.width !== size.x * dpr || c.height !== size.y * dpr) {
      c.width = size.x * dpr;
      c.height = size.y * dpr;
      c.style.width = size.x + "px";
      c.style.height = size.y + "px";
    }
    L.DomUtil.setPosition(c, map.containerPointToLayerPoint([0, 0]));
    c.style.visibility = "visible";
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, size.x, size.y);
    this.owner.drawDots(ctx, size);
  },
});

export default {
  template: `<div class="cc-map-root"><div ref="map" class="cc-map"></div></div>`,
  props: {
    base: Object,
    rows: Array,
    track: Object,
    clusterBelow: Number,
    resourcePath: String,
  },
  data() {
    return {};
  },
  async mounted() {
    await this.$nextTick();
    await loadCss(window.path_prefix + `${this.resourcePath}/leaflet/leaflet.css`);
    const base = this.base || {};
    this.items = new Map();
    this.hits = [];
    this.clusters = [];
    this.pulses = new Map();
    this.clockOffset = 0;
    this.highlighted = null;
    const map = (this.map = L.map(this.$refs.map, {
      zoomControl: true,
      attributionControl: !!base.tile,
      zoomSnap: 0.25,
      zoomDelta: 0.5,
      minZoom: base.minZoom ?? 8,
      maxZoom: base.tile?.maxZoom ?? 18,
      preferCanvas: false,
      worldCopyJump: false,
    }));
    map.zoomControl.setPosition("topright");
    for (const [name, z] of [["ccAreas", 380], ["ccLabels", 440], ["ccTrack", 460]]) {
      map.createPane(name).style.zIndex = z;
    }
    map.getPane("ccLabels").style.pointerEvents = "none";
    if (base.tile) {
      this.$el.classList.add("cc-has-tiles");
      L.tileLayer(base.tile.url, {
        subdomains: base.tile.subdomains || "abc",
        maxZoom: base.tile.maxZoom || 18,
        attribution: base.tile.attribution || "",
      }).addTo(map);
    }
    this.drawStatic(base);
    if (this.boundsLayer) {
      map.fitBounds(this.boundsLayer.getBounds(), { padding: [16, 16] });
    } else {
      map.setView(base.center || [36.85, 118.3], base.zoom || 11);
    }
    this.dots = new DotsLayer(this);
    this.dots.addTo(map);
    this.tip = L.tooltip({ direction: "top", offset: [0, -8], className: "cc-tip", opacity: 1 });
    map.on("mousemove", (e) => this.hover(e));
    map.on("mouseout", () => map.closeTooltip(this.tip));
    map.on("click", (e) => this.click(e));
    map.on("zoomend", () => this.syncPulses());
    this.resizeObserver = new ResizeObserver(() => map.invalidateSize({ pan: false }));
    this.resizeObserver.observe(this.$el);
    if (this.rows && this.rows.length) this.reset(this.rows, base.now);
    if (this.track) this.set_track(this.track);
    this.dots.redraw();
    if (window.ccStats.firstPaint === null) window.ccStats.firstPaint = performance.now();
    this.$el.dataset.ready = "1";
    this.$emit("ready", { zoom: map.getZoom() });
  },
  unmounted() {
    this.resizeObserver?.disconnect();
    this.map?.remove();
  },
  methods: {
    drawStatic(base) {
      const map = this.map;
      for (const f of base.neighbours?.features || []) {
        L.geoJSON(f, {
          pane: "ccAreas",
          interactive: false,
          style: { color: "#1e3a5f", weight: 1, fillColor: "#0b1f3a", fillOpacity: 0.35, dashArray: "2 4" },
        }).addTo(map);
        if (f.properties?.label) this.label(f.properties.label, "cc-neighbour");
      }
      if (base.boundary) {
        L.geoJSON(base.boundary, {
          pane: "ccAreas",
          interactive: false,
          style: { color: "#38e1ff", weight: 9, opacity: 0.12, fill: false },
        }).addTo(map);
        this.boundsLayer = L.geoJSON(base.boundary, {
          pane: "ccAreas",
          interactive: false,
          style: { color: "#5eead4", weight: 2, opacity: 0.95, fillColor: "#0ea5e9", fillOpacity: 0.07, className: "cc-boundary" },
        }).addTo(map);
      }
      for (const f of base.areas?.features || []) {
        L.geoJSON(f, {
          pane: "ccAreas",
          interactive: false,
          style: { color: "#2b6cb0", weight: 1, opacity: 0.8, fillOpacity: 0, dashArray: "4 4" },
        }).addTo(map);
      }
      for (const l of base.labels || []) this.label(l, "cc-town");
      this.zoneLayer = L.layerGroup().addTo(map);
      this.set_zones(base.zones);
    },
    label(l, cls) {
      L.marker([l.lat, l.lon], {
        pane: "ccLabels",
        interactive: false,
        keyboard: false,
        icon: L.divIcon({ className: cls, html: `<span>${esc(l.name)}</span>`, iconSize: null }),
      }).addTo(this.map);
    },
    set_zones(zones) {
      if (!this.zoneLayer) return;
      this.zoneLayer.clearLayers();
      for (const f of zones?.features || []) {
        const p = f.properties || {};
        const excl = p.kind === "exclusion";
        const hl = p.highlight;
        const style = {
          pane: "ccAreas",
          color: excl ? "#ff4d6d" : "#4ade80",
          weight: hl ? 3 : 1.5,
          opacity: 0.9,
          dashArray: excl ? "6 4" : "2 6",
          fillColor: excl ? "#ff4d6d" : "#4ade80",
          fillOpacity: excl ? (hl ? 0.28 : 0.14) : 0.04,
        };
        let layer;
        if (f.geometry?.type === "Point" && p.radius_m) {
          const [lon, lat] = f.geometry.coordinates;
          layer = L.circle([lat, lon], { radius: p.radius_m, ...style });
        } else {
          layer = L.geoJSON(f, { style: () => style, pane: "ccAreas" });
        }
        layer.bindTooltip(`${excl ? "禁入区" : "活动范围"}：${esc(p.name || "")}`, { className: "cc-tip", sticky: true });
        this.zoneLayer.addLayer(layer);
      }
    },

    // --- live positions -------------------------------------------------------------------------
    reset(rows, now) {
      this.items.clear();
      this.apply({ rows, now, initial: true });
    },
    apply(delta) {
      const nowMs = Date.now();
      if (delta.now) this.clockOffset = delta.now - nowMs / 1000;
      const stats = window.ccStats;
      for (const r of delta.rows || []) {
        this.items.set(r[0], { lat: r[1], lon: r[2], lvl: r[3], sev: r[4], t: r[5], label: r[6] });
        if (!delta.initial) {
          if (stats.lags.length < 200000) stats.lags.push(nowMs / 1000 - r[5]);
          stats.rows++;
        }
      }
      for (const sid of delta.removed || []) this.items.delete(sid);
      if (!delta.initial) stats.deltas++;
      this.scheduleRedraw();
    },
    scheduleRedraw() {
      if (this._raf) return;
      this._raf = requestAnimationFrame(() => {
        this._raf = null;
        this.dots?.redraw();
        this.syncPulses();
      });
    },
    drawDots(ctx, size) {
      const map = this.map;
      const zoom = map.getZoom();
      const nowS = Date.now() / 1000 + this.clockOffset;
      let cluster = this.clusterBelow && zoom < this.clusterBelow;
      if (cluster) {
        const view = map.getBounds().pad(0.05);
        let visible = 0;
        for (const it of this.items.values()) {
          if (view.contains([it.lat, it.lon]) && ++visible >= CLUSTER_MIN_VISIBLE) break;
        }
        cluster = visible >= CLUSTER_MIN_VISIBLE;
      }
      const cells = new Map();
      const hits = [];
      const clusters = [];
      const pad = 24;
      const labels = zoom >= 15;
      const dot = (p, it, sid) => {
        const stale = nowS - it.t > STALE_S;
        const r = it.sev ? 6 : 4.5;
        ctx.beginPath();
        ctx.arc(p.x, p.y, r + 2.5, 0, 6.2832);
        ctx.fillStyle = "rgba(5,11,24,0.55)";
        ctx.fill();
        ctx.beginPath();
        ctx.arc(p.x, p.y, r, 0, 6.2832);
        ctx.fillStyle = it.sev ? SEV_COLORS[it.sev] : stale ? STALE_COLOR : LEVEL_COLORS[it.lvl] || LEVEL_COLORS[3];
        ctx.fill();
        if (sid === this.highlighted) {
          ctx.lineWidth = 2;
          ctx.strokeStyle = "#ffffff";
          ctx.stroke();
        }
        if (labels && it.label) {
          ctx.font = "12px 'Noto Sans CJK SC', 'Noto Sans SC', sans-serif";
          ctx.fillStyle = "rgba(216,233,255,0.92)";
          ctx.fillText(it.label, p.x + 8, p.y + 4);
        }
        hits.push({ x: p.x, y: p.y, sid });
      };
      for (const [sid, it] of this.items) {
        const p = map.latLngToContainerPoint([it.lat, it.lon]);
        if (p.x < -pad || p.y < -pad || p.x > size.x + pad || p.y > size.y + pad) continue;
        if (cluster && !it.sev) {
          const key = Math.floor(p.x / CELL_PX) * 100000 + Math.floor(p.y / CELL_PX);
          let c = cells.get(key);
          if (!c) cells.set(key, (c = { x: 0, y: 0, n: 0, strict: 0, stale: 0, members: [] }));
          c.members.push([p, it, sid]);
          c.x += p.x;
          c.y += p.y;
          c.n++;
          if (it.lvl === 0) c.strict++;
          if (nowS - it.t > STALE_S) c.stale++;
          continue;
        }
        dot(p, it, sid);
      }
      for (const c of cells.values()) {
        if (c.n < CLUSTER_MIN_CELL) {
          for (const [p, it, sid] of c.members) dot(p, it, sid);
          continue;
        }
        const x = c.x / c.n,
          y = c.y / c.n;
        const r = Math.min(30, 11 + 4.2 * Math.log2(c.n));
        const g = ctx.createRadialGradient(x, y, r * 0.3, x, y, r);
        g.addColorStop(0, "rgba(56,189,248,0.55)");
        g.addColorStop(1, "rgba(56,189,248,0.10)");
        ctx.beginPath();
        ctx.arc(x, y, r, 0, 6.2832);
        ctx.fillStyle = g;
        ctx.fill();
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = "rgba(125,211,252,0.9)";
        ctx.stroke();
        if (c.strict) {
          // the share of 严管 subjects as an orange arc
          ctx.beginPath();
          ctx.arc(x, y, r + 3, -Math.PI / 2, -Math.PI / 2 + (6.2832 * c.strict) / c.n);
          ctx.lineWidth = 3;
          ctx.strokeStyle = LEVEL_COLORS[0];
          ctx.stroke();
        }
        ctx.font = "bold 13px 'Roboto', sans-serif";
        ctx.fillStyle = "#ffffff";
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        ctx.fillText(String(c.n), x, y);
        ctx.textAlign = "start";
        ctx.textBaseline = "alphabetic";
        clusters.push({ x, y, r, n: c.n, latlng: map.containerPointToLatLng([x, y]) });
      }
      this.hits = hits;
      this.clusters = clusters;
      this.$el.dataset.dots = String(hits.length);
      this.$el.dataset.clusters = String(clusters.length);
    },
    syncPulses() {
      const map = this.map;
      if (!map) return;
      const want = new Set();
      for (const [sid, it] of this.items) {
        if (it.sev && want.size < MAX_PULSES) want.add(sid);
      }
      for (const [sid, m] of this.pulses) {
        if (!want.has(sid)) {
          m.remove();
          this.pulses.delete(sid);
        }
      }
      for (const sid of want) {
        const it = this.items.get(sid);
        let m = this.pulses.get(sid);
        if (!m) {
          m = L.marker([it.lat, it.lon], {
            interactive: false,
            keyboard: false,
            icon: L.divIcon({ className: `cc-pulse cc-sev-${it.sev}`, html: "<i></i><i></i>", iconSize: [36, 36] }),
          }).addTo(map);
          this.pulses.set(sid, m);
        } else {
          m.setLatLng([it.lat, it.lon]);
        }
      }
    },
    nearest(point) {
      let best = null,
        bestD = 12 * 12;
      for (const h of this.hits) {
        const d = (h.x - point.x) ** 2 + (h.y - point.y) ** 2;
        if (d < bestD) {
          bestD = d;
          best = h;
        }
      }
      if (best) return { kind: "dot", ...best };
      for (const c of this.clusters) {
        if ((c.x - point.x) ** 2 + (c.y - point.y) ** 2 <= c.r * c.r) return { kind: "cluster", ...c };
      }
      return null;
    },
    hover(e) {
      const now = performance.now();
      if (this._lastHover && now - this._lastHover < 40) return;
      this._lastHover = now;
      const hit = this.nearest(e.containerPoint);
      if (!hit) {
        this.map.closeTooltip(this.tip);
        this.$refs.map.style.cursor = "";
        return;
      }
      this.$refs.map.style.cursor = "pointer";
      if (hit.kind === "cluster") {
        this.tip.setLatLng(hit.latlng).setContent(`${hit.n} 名社区矫正对象（点击放大）`);
      } else {
        const it = this.items.get(hit.sid);
        const stale = Date.now() / 1000 + this.clockOffset - it.t > STALE_S;
        this.tip
          .setLatLng([it.lat, it.lon])
          .setContent(
            `<b>${esc(it.label)}</b> · ${LEVEL_LABELS[it.lvl] || ""}<br>` +
              `定位 ${hhmm(it.t)}${stale ? "（离线）" : ""}${it.sev ? "<br><span class='cc-tip-alarm'>有未处置告警</span>" : ""}`,
          );
      }
      if (!this.map.hasLayer(this.tip)) this.tip.openOn(this.map);
    },
    click(e) {
      const hit = this.nearest(e.containerPoint);
      if (!hit) return;
      if (hit.kind === "cluster") {
        this.map.setView(hit.latlng, Math.min(this.map.getZoom() + 2, this.clusterBelow || 18));
      } else {
        this.$emit("subject_click", { sid: hit.sid });
      }
    },
    focus(lat, lon, zoom, sid) {
      this.highlighted = sid ?? null;
      this.map.flyTo([lat, lon], zoom || Math.max(this.map.getZoom(), 15), { duration: 0.8 });
      this.scheduleRedraw();
    },
    fit() {
      if (this.boundsLayer) this.map.fitBounds(this.boundsLayer.getBounds(), { padding: [16, 16] });
    },

    // --- tracks (alarm desk, replay) ------------------------------------------------------------
    set_track(track) {
      const map = this.map;
      this.trackLayer?.remove();
      this.cursor = null;
      this.trackPoints = (track?.points || []).map((p) => [p[0], p[1]]);
      this.trackTimes = (track?.points || []).map((p) => p[2]);
      const layer = (this.trackLayer = L.layerGroup().addTo(map));
      const pts = this.trackPoints;
      if (pts.length) {
        L.polyline(pts, { pane: "ccTrack", color: "#38e1ff", weight: 8, opacity: 0.15, interactive: false }).addTo(layer);
        L.polyline(pts, { pane: "ccTrack", color: "#7dd3fc", weight: 2.5, opacity: 0.9, interactive: false }).addTo(layer);
        this.done = L.polyline([], { pane: "ccTrack", color: "#fbbf24", weight: 3.5, opacity: 0.95, interactive: false }).addTo(layer);
        const endpoint = (p, text, cls) =>
          L.marker(p, { pane: "ccTrack", icon: L.divIcon({ className: `cc-endpoint ${cls}`, html: text, iconSize: [22, 22] }) }).addTo(layer);
        endpoint(pts[0], "起", "cc-start");
        endpoint(pts[pts.length - 1], "终", "cc-end");
      }
      for (const s of track?.stops || []) {
        L.circleMarker([s.lat, s.lon], { pane: "ccTrack", radius: 9, color: "#fbbf24", weight: 2, fillColor: "#f59e0b", fillOpacity: 0.35 })
          .bindTooltip(`停留 ${s.minutes} 分钟<br>${hhmm(s.start)}–${hhmm(s.end)}`, { className: "cc-tip" })
          .addTo(layer);
      }
      for (const c of track?.crossings || []) {
        const bad = (c.kind === "exclusion") === !!c.entered;
        L.marker([c.lat, c.lon], {
          pane: "ccTrack",
          icon: L.divIcon({ className: `cc-cross ${bad ? "cc-cross-bad" : "cc-cross-ok"}`, html: bad ? "!" : "✓", iconSize: [20, 20] }),
        })
          .bindTooltip(`${esc(c.label)}<br>${hhmm(c.t)}`, { className: "cc-tip" })
          .addTo(layer);
      }
      if (track?.alarm) {
        L.marker([track.alarm.lat, track.alarm.lon], {
          pane: "ccTrack",
          icon: L.divIcon({ className: "cc-pulse cc-sev-1", html: "<i></i><i></i>", iconSize: [36, 36] }),
        })
          .bindTooltip(esc(track.alarm.label || "告警位置"), { className: "cc-tip", permanent: true, direction: "right", offset: [14, 0] })
          .addTo(layer);
      }
      const bounds = L.latLngBounds(pts);
      if (track?.alarm) bounds.extend([track.alarm.lat, track.alarm.lon]);
      if (track?.fit !== false && bounds.isValid()) map.fitBounds(bounds, { padding: [40, 40], maxZoom: 16 });
      this.$el.dataset.track = String(pts.length);
    },
    set_cursor(i) {
      const pts = this.trackPoints || [];
      if (!pts.length) return;
      i = Math.max(0, Math.min(pts.length - 1, i | 0));
      if (!this.cursor) {
        this.cursor = L.marker(pts[i], {
          pane: "ccTrack",
          zIndexOffset: 1000,
          icon: L.divIcon({ className: "cc-cursor", html: "<i></i>", iconSize: [18, 18] }),
        }).addTo(this.trackLayer);
      }
      this.cursor.setLatLng(pts[i]);
      this.done?.setLatLngs(pts.slice(0, i + 1));
      if (!this.map.getBounds().pad(-0.1).contains(pts[i])) this.map.panTo(pts[i], { animate: true });
      this.$el.dataset.cursor = String(i);
    },
  },
};
