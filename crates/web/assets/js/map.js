// Maps of New Zealand drawn from the outline bundled with the build (Natural Earth via
// world-atlas), with Leaflet. A tile server is used only when the deployment configures one.
//
// New Zealand crosses the antimeridian (the Chatham Islands lie at about -176.5°): every
// longitude west of it is shifted by +360 before it is drawn, so the country is one piece and
// fitting the bounds does not span the globe. Positions picked on the map are shifted back.

import { h } from './dom.js';

const L = window.L;
let outline = null;
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
  const map = L.map(container, { zoomSnap: 0.25, worldCopyJump: false, attributionControl: true });
  map.attributionControl.setPrefix(false);
  const [geo, config] = await Promise.all([loadOutline(), loadConfig()]);
  if (config.tile_url) {
    L.tileLayer(config.tile_url, { maxZoom: 18 }).addTo(map);
  }
  L.geoJSON(geo, {
    interactive: false,
    style: { color: '#4a6572', weight: 1, fillColor: '#e6efe9', fillOpacity: config.tile_url ? 0.1 : 1 },
  }).addTo(map);
  map.attributionControl.addAttribution('Outline: Natural Earth');
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

/** A point marker (vector, so no image is fetched). */
export function pointMarker(latlng, { color = '#b3261e', radius = 6, label } = {}) {
  const m = L.circleMarker(latlng, { radius, color: '#fff', weight: 1.5, fillColor: color, fillOpacity: 0.9 });
  if (label) m.bindTooltip(label);
  return m;
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
