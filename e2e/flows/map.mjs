// The map's flows (issue 27: places, site names and clusters, offline). Called by run.mjs with
// what it shares: the browser-driving helpers and the demo's camera key.
//
// Every request the page makes to anywhere but the server itself is refused and recorded, so
// the flow fails if the map needed the network for any of what it shows.

import { join } from 'node:path';

const MAP_PLATE = 'MAP271';
const MAP_READS = 25; // more than a page (20): the page's reads at one site make one circle of 20

/** What a map shows: its vector points (circle markers and shapes) and the points its clusters hold. */
export async function pointsOnMap(page, mapSelector) {
  const paths = await page.locator(`${mapSelector} path.leaflet-interactive`).count();
  const counts = await page.locator(`${mapSelector} .map-cluster`).allTextContents();
  return { paths, clustered: counts.reduce((sum, t) => sum + Number(t), 0) };
}

/** The names a map shows, of places and of sites, as drawn on screen (inside the map). */
async function namesShown(page, mapSelector, kind) {
  return page.locator(`${mapSelector} .map-label-${kind}`).evaluateAll((els, sel) => {
    const box = document.querySelector(sel).getBoundingClientRect();
    return els.filter((el) => {
      const r = el.firstChild.getBoundingClientRect();
      return r.width > 0 && r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom;
    }).map((el) => el.textContent);
  }, mapSelector);
}

export async function mapFlows({ BASE, SHOTS, cameraKey, flow, check, signedIn, fillPurpose, purposeFile }) {
  await flow('the map names towns and sites and counts reads at one site, with no network', async () => {
    // The places as bundled, to tell a city from a suburb.
    const bundled = await (await fetch(`${BASE}/ui/vendor/nz-places.json`)).json();
    const population = new Map(bundled.places.map(([name, , , p]) => [name, p]));
    const reads = Array.from({ length: MAP_READS }, (_, i) => ({
      plate: MAP_PLATE, confidence: 0.92, captured_at: new Date(Date.now() - (30 + 7 * i) * 60000).toISOString(),
    }));
    const ingest = await fetch(`${BASE}/api/v1/reads:batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cameraKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reads }),
    });
    check(ingest.status === 201, `ingest answered ${ingest.status}`);

    const page = await signedIn('S1001');
    const origin = new URL(BASE).origin;
    const outside = [];
    await page.context().route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      outside.push(url);
      return route.abort('blockedbyclient');
    });
    await page.goto(`${BASE}/ui/#/search`);
    await page.reload(); // every asset again, under the block
    const map = '#search-map';
    // The whole country: the cities are named, no suburb is.
    await page.locator(`${map} .map-label-place`).first().waitFor();
    const country = await namesShown(page, map, 'place');
    for (const city of ['Auckland', 'Wellington', 'Christchurch']) check(country.includes(city), `${city} is named at country zoom: ${country}`);
    check(country.every((n) => population.get(n) >= 30000), `only cities at country zoom: ${country}`);
    const attribution = await page.locator(`${map} .leaflet-control-attribution`).textContent();
    check(attribution.includes('Places: GeoNames (CC BY 4.0)'), `attribution: ${attribution}`);

    // A search whose reads all come from one site: the map fits it at city zoom.
    await page.getByLabel('Plate', { exact: true }).fill(MAP_PLATE);
    await page.getByLabel('Anywhere').check();
    await fillPurpose(page, 'search', 'stolen_vehicle', purposeFile, 'Sightings of the vehicle stolen under this theft file');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('#results-range').filter({ hasText: `Reads 1–20 of ${MAP_READS}` }).waitFor();
    const site = (await page.locator('table.hits tbody tr').first().locator('td').nth(3).textContent()).trim();
    // One circle counting 20, once the zoom's animation has ended (it draws the old and new ones).
    await page.waitForFunction((sel) => {
      const circles = document.querySelectorAll(`${sel} .map-cluster`);
      return circles.length === 1 && circles[0].textContent === '20';
    }, map);
    const shown = await pointsOnMap(page, map);
    check(shown.clustered === 20 && shown.paths === 0, `one circle of the page's 20 reads: ${JSON.stringify(shown)}`);
    await page.locator(`${map} .map-label-site`).filter({ hasText: site }).waitFor();
    const sites = await namesShown(page, map, 'site');
    check(sites.length === 1 && sites[0] === site, `the site is named: ${sites}`);
    const city = await namesShown(page, map, 'place');
    check(city.length >= 3, `places named at city zoom: ${city}`);
    check(city.some((n) => !(population.get(n) >= 1000)), `suburbs named at city zoom: ${city}`);
    // The labels never cover one another.
    const boxes = await page.locator(`${map} .map-label span`).evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON()));
    const overlap = boxes.some((a, i) => boxes.slice(i + 1).some((b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1));
    check(!overlap, 'no two names overlap');
    await page.locator(map).screenshot({ path: join(SHOTS, '04c-map-city-zoom.png') });
    check(outside.length === 0, `the map asked for nothing outside the server: ${outside.join(', ')}`);
    await page.context().close();
  });
}
