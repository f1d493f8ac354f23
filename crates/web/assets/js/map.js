// Maps of New Zealand drawn from the outline bundled with the build (Natural Earth via
// world-atlas) and named with the places bundled with it (GeoNames), with Leaflet. Nothing is
// fetched from outside: a tile server, for streets, is used only when the deployment configures
// one. The bundled data has no roads (none was found in the package registries).
//
// New Zealand crosses the antimeridian (the Chatham Islands lie at about -176.5°): every
// longitude west of it is shifted by +360 before it is drawn, so the country is one piece and
// fitting the bounds does not span the globe. Positions picked on the map are shifted back.

import { h } from './dom.js';

const L = window.L;
let outline = null;
let places = null;
let uiConfig = null;

export const shiftLon = (lon) => (lon < 0 ? lon + 360 : lon);
export const unshiftLon = (lon) => {
  let x = lon;
  while (x > 180) x -= 360;
  while (x < -180) x += 360;
  return Math.round(x * 1e6) / 1e6;
};
/** A GeoPoint from the API as a Leaflet position. */
export const toLatLng = (p) => [p.lat, shiftLon(p.lon)];

async function loadOutline() {
  if (!outline) outline = fetch('/ui/vendor/nz.geojson').then((r) => r.json());
  return outline;
}

/** The bundled places as { name, lat, lon, population }, largest first (population 0: a suburb
 * or a place of fewer than 1,000 people). */
async function loadPlaces() {
  if (!places) {
    places = fetch('/ui/vendor/nz-places.json').then((r) => r.json())
      .then((d) => d.places.map(([name, lat, lon, population]) => ({ name, lat, lon, population })))
      .catch(() => []);
  }
  return places;
}

async function loadConfig() {
  if (!uiConfig) uiConfig = fetch('/ui/config.json').then((r) => r.json()).catch(() => ({}));
  return uiConfig;
}

/** The main islands, Stewart Island and the Chathams: what a map of New Zealand should show. */
const HOME_BOUNDS = [[-47.4, 166.3], [-34.3, 183.9]];

/** A map of New Zealand in `container` (an element with a fixed height). */
export async function nzMap(container, { label = 'Map of New Zealand' } = {}) {
  container.classList.add('map');
  container.setAttribute('role', 'region');
  container.setAttribute('aria-label', label);
  // A finite greatest zoom: marker clusters need one, and street level is as far as it is useful.
  const map = L.map(container, { zoomSnap: 0.25, maxZoom: 18, worldCopyJump: false, attributionControl: true });
  map.attributionControl.setPrefix(false);
  const [geo, config, named] = await Promise.all([loadOutline(), loadConfig(), loadPlaces()]);
  if (config.tile_url) {
    L.tileLayer(config.tile_url, { maxZoom: 18 }).addTo(map);
  }
  L.geoJSON(geo, {
    interactive: false,
    style: { color: '#4a6572', weight: 1, fillColor: '#e6efe9', fillOpacity: config.tile_url ? 0.1 : 1 },
  }).addTo(map);
  map.attributionControl.addAttribution('Outline: Natural Earth');
  map.attributionControl.addAttribution('Places: GeoNames (CC BY 4.0)');
  labelsOf(map, named);
  map.fitBounds(HOME_BOUNDS);
  // The container may have been sized after the map was made (a tab shown later).
  setTimeout(() => map.invalidateSize(), 0);
  return map;
}

/** Fits the map to the given Leaflet positions (or New Zealand when there are none). */
export function fitTo(map, latlngs) {
  if (!latlngs.length) { map.fitBounds(HOME_BOUNDS); return; }
  map.fitBounds(L.latLngBounds(latlngs).pad(0.2), { maxZoom: 13 });
}

/**
 * A point marker (vector, so no image is fetched). `label` is shown on hover; `site`, the camera
 * site's name, is written beside it at city zoom when the marker is in a `clusterLayer`.
 */
export function pointMarker(latlng, { color = '#b3261e', radius = 6, label, site } = {}) {
  const m = L.circleMarker(latlng, { radius, color: '#fff', weight: 1.5, fillColor: color, fillOpacity: 0.9, site });
  if (label) m.bindTooltip(label);
  return m;
}

/** Marker clusters that say when they are emptied (clearing fires no event of its own), so that
 * the site names go with their markers. */
const Clusters = L.MarkerClusterGroup.extend({
  clearLayers() {
    L.MarkerClusterGroup.prototype.clearLayers.call(this);
    return this.fire('cleared');
  },
});

/**
 * A layer for point markers that draws those too close together to tell apart as one circle
 * with their number (`noun` names what is counted, e.g. 'read'). Selecting a circle zooms in
 * to it; one whose points all lie at one place (many reads at one site) spreads them out.
 */
export function clusterLayer(map, { noun = 'point' } = {}) {
  const group = new Clusters({
    maxClusterRadius: 36,
    showCoverageOnHover: false,
    spiderfyOnMaxZoom: true,
    iconCreateFunction: (cluster) => {
      const n = cluster.getChildCount();
      const size = n < 10 ? 30 : n < 100 ? 36 : 42;
      return L.divIcon({
        className: 'map-cluster',
        iconSize: L.point(size, size),
        html: h('span', { title: `${n} ${noun}s here: select to see them`, 'aria-label': `${n} ${noun}s here` }, String(n)),
      });
    },
  });
  group.addTo(map);
  const labels = labelsOf(map);
  if (labels) labels.watch(group);
  return group;
}

// Names on the map. Each map keeps one label manager: the bundled places and the camera sites of
// its cluster layers, redrawn after every move so that no name covers another or a marker. The
// sites come first (they are what the map is about), then the places, largest first, each from
// its zoom: the cities on the map of the whole country, towns as one comes closer, suburbs at
// city zoom.
const labelManagers = new WeakMap();

/** How a place of `population` is drawn, and from which zoom (city zoom is about 11). */
const placeTier = (population) => (population >= 100000 ? { tier: 'city', minZoom: 0 }
  : population >= 30000 ? { tier: 'town', minZoom: 5.5 }
    : population >= 10000 ? { tier: 'town', minZoom: 6.5 }
      : population >= 1000 ? { tier: 'town', minZoom: 8.5 }
        : { tier: 'suburb', minZoom: 11 });
/** Camera sites are named at city zoom only: further out they would hide the towns. */
const SITE_LABEL_ZOOM = 11;
/** Characters' mean width in pixels, by label class (see map.css), to size a label unmeasured. */
const CHAR_WIDTH = { city: 7.6, town: 6.8, suburb: 6.2, site: 7.2 };

function labelsOf(map, named) {
  if (labelManagers.has(map)) return labelManagers.get(map);
  if (!named) return null;
  const pane = map.createPane('map-labels');
  pane.style.zIndex = 450; // over the outline and points, under the markers and tooltips
  pane.style.pointerEvents = 'none';
  const shown = L.layerGroup().addTo(map);
  const groups = [];
  const cache = new Map(); // one marker per label, made when first shown
  // `kind` is 'place' or 'site', `look` how it is drawn (map.css), `dy` how far the label is
  // moved down (or up, below zero) from where its look puts it.
  const labelMarker = (kind, look, name, latlng, dy) => {
    const key = `${look}|${name}|${latlng.lat}|${latlng.lng}|${dy}`;
    if (!cache.has(key)) {
      cache.set(key, L.marker(latlng, {
        pane: 'map-labels',
        interactive: false,
        keyboard: false,
        icon: L.divIcon({
          className: `map-label map-label-${kind} map-label-${look}`, iconSize: null, iconAnchor: [0, -dy], html: h('span', {}, name),
        }),
      }));
    }
    return cache.get(key);
  };
  const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  let pending = false;
  function redraw() {
    pending = false;
    const zoom = map.getZoom();
    const size = map.getSize();
    const names = []; // the boxes of the names placed so far
    const taken = []; // of the markers and the map's controls
    const wanted = [];
    const free = (b) => b.left >= 0 && b.top >= 0 && b.right <= size.x && b.bottom <= size.y
      && !names.some((t) => overlaps(t, b)) && !taken.some((t) => overlaps(t, b));
    const place = (b, marker) => { names.push(b); wanted.push(marker); };
    // A place's name is centred on it, or just above or below when a marker is there (but not
    // when another name is: the larger place keeps the spot). `tier` is its look.
    const offerPlace = (tier, name, latlng) => {
      const p = map.latLngToContainerPoint(latlng);
      const w = name.length * CHAR_WIDTH[tier] + 8;
      const at = (dy) => ({ left: p.x - w / 2, right: p.x + w / 2, top: p.y + dy - 10, bottom: p.y + dy + 10 });
      if (names.some((t) => overlaps(t, at(0)))) return;
      const dy = [0, -20, 20, -32, 32].find((d) => free(at(d)));
      if (dy !== undefined) place(at(dy), labelMarker('place', tier, name, latlng, dy));
    };
    // A site's name is written to the right of its marker (or to the left, at the map's right
    // edge), past `gap` pixels: the marker's half width.
    const offerSite = (name, latlng, gap) => {
      const p = map.latLngToContainerPoint(latlng);
      const w = name.length * CHAR_WIDTH.site + 8;
      const by = gap > 12 ? 'cluster' : 'point';
      for (const [side, left] of [['right', p.x + gap], ['left', p.x - gap - w]]) {
        const b = { left, right: left + w, top: p.y - 10, bottom: p.y + 10 };
        if (free(b)) { place(b, labelMarker('site', `site-${by}-${side}`, name, latlng, 0)); return; }
      }
    };
    // The map's controls (zoom, attribution) keep their corners.
    const corner = map.getContainer().getBoundingClientRect();
    for (const el of map.getContainer().querySelectorAll('.leaflet-control')) {
      const r = el.getBoundingClientRect();
      taken.push({ left: r.left - corner.left, right: r.right - corner.left, top: r.top - corner.top, bottom: r.bottom - corner.top });
    }
    // The markers as drawn, each with the sites it holds. A point is drawn itself or as the
    // circle that holds it: the nearest of its clusters with an icon on the map (the plugin's
    // getVisibleParent knows only markers with icons, not vector points). The points of a circle
    // spread out on selection still belong to it (the plugin marks them and their circle).
    const drawnAs = (group, m) => {
      if (map.hasLayer(m)) return m._preSpiderfyLatlng && group._spiderfied ? group._spiderfied : m;
      let c = m.__parent;
      while (c && !c._icon) c = c.__parent;
      return c || null;
    };
    const mark = (latlng, r) => {
      const p = map.latLngToContainerPoint(latlng);
      taken.push({ left: p.x - r, right: p.x + r, top: p.y - r, bottom: p.y + r });
    };
    const drawn = new Map();
    for (const group of groups) {
      for (const m of group.getLayers()) {
        const seen = drawnAs(group, m);
        if (!seen) continue;
        if (map.hasLayer(m)) mark(m.getLatLng(), m.getRadius() + 2);
        if (!drawn.has(seen)) drawn.set(seen, new Set());
        if (m.options.site) drawn.get(seen).add(m.options.site);
      }
    }
    for (const seen of drawn.keys()) if (!(seen instanceof L.CircleMarker)) mark(seen.getLatLng(), 22);
    if (zoom >= SITE_LABEL_ZOOM) {
      // A site is named beside its marker when the marker is its own: a point, or a circle
      // that holds only that site's points (a circle of several sites is left unnamed).
      for (const [seen, sites] of drawn) {
        const gap = seen instanceof L.CircleMarker ? seen.getRadius() + 4 : 24;
        if (sites.size === 1) offerSite([...sites][0], seen.getLatLng(), gap);
      }
    }
    for (const place of named) {
      const { tier, minZoom } = placeTier(place.population);
      if (zoom >= minZoom) offerPlace(tier, place.name, L.latLng(place.lat, shiftLon(place.lon)));
    }
    const keep = new Set(wanted);
    shown.eachLayer((l) => { if (!keep.has(l)) shown.removeLayer(l); });
    wanted.forEach((l) => { if (!shown.hasLayer(l)) shown.addLayer(l); });
  }
  const soon = () => {
    if (!pending) { pending = true; requestAnimationFrame(redraw); }
  };
  map.on('zoomend moveend resize', soon);
  const manager = {
    watch(group) {
      groups.push(group);
      group.on('layeradd layerremove cleared animationend spiderfied unspiderfied', soon);
    },
  };
  labelManagers.set(map, manager);
  return manager;
}

/**
 * The search area fieldset: none, a circle (centre and radius) or a box (two corners). Clicking
 * the map sets the centre, or the corners in turn; the number fields allow the same by keyboard.
 * Returns { element, value() } where value() is the API's `area` or undefined.
 */
export function areaPicker(map) {
  const num = (name, label, step, attrs = {}) => {
    const input = h('input', { type: 'number', name, step, inputmode: 'decimal', ...attrs });
    return { input, el: h('label.field.small', {}, h('span.label', {}, label), input) };
  };
  const lat = num('area_lat', 'Centre latitude', 'any', { min: -90, max: 90 });
  const lon = num('area_lon', 'Centre longitude', 'any', { min: -180, max: 180 });
  const radius = num('area_radius_km', 'Radius (km)', 'any', { min: 0.1, max: 2000, value: 5 });
  const minLat = num('area_min_lat', 'South latitude', 'any');
  const minLon = num('area_min_lon', 'West longitude', 'any');
  const maxLat = num('area_max_lat', 'North latitude', 'any');
  const maxLon = num('area_max_lon', 'East longitude', 'any');
  const modes = ['none', 'circle', 'box'];
  const labels = { none: 'Anywhere', circle: 'Circle', box: 'Box' };
  const radios = modes.map((m) => h('input', { type: 'radio', name: 'area_mode', value: m, checked: m === 'none' }));
  const circleFields = h('div.row', { hidden: true }, lat.el, lon.el, radius.el);
  const boxFields = h('div.row', { hidden: true }, minLat.el, minLon.el, maxLat.el, maxLon.el);
  const hint = h('p.hint', {}, 'Choose a shape, then click the map (a box takes two clicks: opposite corners).');
  const element = h('fieldset.area', {},
    h('legend', {}, 'Area'),
    h('div.row.radios', {}, radios.map((r, i) => h('label.inline', {}, r, ` ${labels[modes[i]]}`))),
    hint, circleFields, boxFields);
  let shape = null;
  let nextCorner = 0;
  const mode = () => radios.find((r) => r.checked).value;
  const f = (i) => parseFloat(i.input.value);
  function draw() {
    if (shape) { shape.remove(); shape = null; }
    const m = mode();
    circleFields.hidden = m !== 'circle';
    boxFields.hidden = m !== 'box';
    if (m === 'circle' && [f(lat), f(lon), f(radius)].every(Number.isFinite)) {
      shape = L.circle([f(lat), shiftLon(f(lon))], { radius: f(radius) * 1000, color: '#1d4ed8', weight: 2, fillOpacity: 0.08 }).addTo(map);
    } else if (m === 'box' && [f(minLat), f(minLon), f(maxLat), f(maxLon)].every(Number.isFinite)) {
      let east = shiftLon(f(maxLon));
      const west = shiftLon(f(minLon));
      if (east < west) east += 360;
      shape = L.rectangle([[f(minLat), west], [f(maxLat), east]], { color: '#1d4ed8', weight: 2, fillOpacity: 0.08 }).addTo(map);
    }
  }
  radios.forEach((r) => r.addEventListener('change', () => { nextCorner = 0; draw(); }));
  [lat, lon, radius, minLat, minLon, maxLat, maxLon].forEach((x) => x.input.addEventListener('input', draw));
  map.on('click', (e) => {
    const pLat = Math.round(e.latlng.lat * 1e5) / 1e5;
    const pLon = unshiftLon(Math.round(e.latlng.lng * 1e5) / 1e5);
    if (mode() === 'circle') {
      lat.input.value = pLat; lon.input.value = pLon;
    } else if (mode() === 'box') {
      if (nextCorner === 0) {
        minLat.input.value = pLat; minLon.input.value = pLon; maxLat.input.value = ''; maxLon.input.value = '';
      } else {
        const a = [f(minLat), f(minLon)];
        minLat.input.value = Math.min(a[0], pLat); maxLat.input.value = Math.max(a[0], pLat);
        // West and east in the shifted frame, so a box over the Chathams crosses the antimeridian.
        const [w, e2] = [shiftLon(a[1]), shiftLon(pLon)].sort((x, y) => x - y);
        minLon.input.value = unshiftLon(w); maxLon.input.value = unshiftLon(e2);
      }
      nextCorner = 1 - nextCorner;
    } else {
      return;
    }
    draw();
  });
  function value() {
    const m = mode();
    if (m === 'circle') return { type: 'circle', lat: f(lat), lon: f(lon), radius_km: f(radius) };
    if (m === 'box') return { type: 'box', min_lat: f(minLat), min_lon: f(minLon), max_lat: f(maxLat), max_lon: f(maxLon) };
    return undefined;
  }
  return { element, value };
}
