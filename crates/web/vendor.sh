#!/usr/bin/env bash
# Regenerates the vendored third-party assets under assets/vendor from the npm registry.
# Needs node and npm, but only when run by hand: building or running the server needs neither.
#   leaflet 1.9.4 (BSD-2-Clause): the map.
#   world-atlas 2.0.2 countries-10m (Natural Earth, public domain), converted to GeoJSON with
#   topojson-client 3.1.0 (ISC): the outline of New Zealand, Chatham Islands included.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/assets/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent leaflet@1.9.4 world-atlas@2.0.2 topojson-client@3.1.0 >/dev/null
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
echo "vendored into $out:"
ls -l "$out" "$out/leaflet"
