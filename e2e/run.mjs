// End-to-end flows of the web UI in a real browser (Debian's chromium, driven by
// playwright-core) against a real `anpr serve` over a demo data directory. Started by
// scripts/e2e.sh, which builds and seeds everything and passes:
//   ANPR_URL       base URL of the running server
//   ANPR_DATA      its data directory (DEMO-CREDENTIALS.txt: plates and the camera key)
//   SCREENSHOTS    where each screen's screenshot is written
//   CHROMIUM       the browser binary (default /usr/bin/chromium)
// Prints one line per flow and a closing "e2e: N passed, M failed"; exits 1 on any failure.

import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { mapFlows, pointsOnMap } from './flows/map.mjs';
import { phoneFlows } from './flows/phone.mjs';
import { oversightFlows } from './flows/oversight.mjs';
import { adminFlows } from './flows/admin.mjs';
import { networkAuditorFlows } from './flows/network-auditor.mjs';

const BASE = process.env.ANPR_URL;
const DATA = process.env.ANPR_DATA;
const SHOTS = process.env.SCREENSHOTS || 'screenshots';
const PASSWORD = 'demo-password-2026';
const PURPOSE_FILE = '260101/1234';
const HOMICIDE_FILE = '260101/2000';
const THREAT_FILE = '260101/3000';
const MISSING_FILE = '260101/4000';
const CRASH_FILE = '260103/6000';
const TRACKED_PLATE = 'ZXQ987';
const EMERGENCY_PLATE = 'EMG417';
// More reads of one plate than the purpose's hourly limit (120): paging through them with
// their thumbnails must not run into it.
const PAGED_PLATE = 'PGD512';
const PAGED_READS = 130;
if (!BASE || !DATA) throw new Error('ANPR_URL and ANPR_DATA must be set (run scripts/e2e.sh)');
mkdirSync(SHOTS, { recursive: true });

const credentials = readFileSync(join(DATA, 'DEMO-CREDENTIALS.txt'), 'utf8');
const grab = (re, what) => {
  const m = re.exec(credentials);
  if (!m) throw new Error(`DEMO-CREDENTIALS.txt has no ${what}`);
  return m[1];
};
const cameraKey = grab(/camera \d+ API key: (\S+)/, 'camera key');
const examplePlate = grab(/example plate to search: (\S+)/, 'example plate');
const ownCar = grab(/S1001 searching (\S+) \(their own car\)/, 'own car');
const hotListPlate = grab(/hot list \(e\.g\. (\S+)\)/, 'hot-list plate');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});

const results = [];
let current = null; // the page a flow works on, for a screenshot when it fails
const problems = []; // CSP violations and page errors seen anywhere
async function flow(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push([name, true]);
    console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (err) {
    results.push([name, false]);
    if (current && !current.isClosed()) {
      await current.screenshot({ path: join(process.env.FAILURES || '/tmp', `e2e-failed-${results.length}.png`) }).catch(() => {});
    }
    console.log(`FAIL ${name}: ${err && err.stack ? err.stack.split('\n').slice(0, 3).join(' | ') : err}`);
  }
}
function check(cond, what) { if (!cond) throw new Error(what); }

/** A signed-in page of its own browser context (its own cookie jar). */
async function signedIn(staffId, viewport = { width: 1280, height: 860 }) {
  const context = await browser.newContext({ viewport, timezoneId: 'Europe/London', locale: 'en-NZ' });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  current = page;
  page.on('pageerror', (e) => problems.push(`${staffId}: page error ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) problems.push(`${staffId}: ${m.text()}`);
  });
  await page.goto(`${BASE}/`);
  await page.getByLabel('Staff id').fill(staffId);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#who .roles').waitFor();
  return page;
}
const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`) });

/** Picks `file` from the officer's open files (typed when not listed), then purpose `code`. */
async function fillPurpose(page, prefix, code, file, justification) {
  const pick = page.locator(`#${prefix}-file`);
  await pick.locator('option[value="__other__"]').waitFor({ state: 'attached' });
  if (await pick.locator(`option[value="${file}"]`).count()) {
    await pick.selectOption(file);
  } else {
    await pick.selectOption('__other__');
    await page.locator(`#${prefix}-file-other`).fill(file);
  }
  await page.locator(`#${prefix}-purpose`).selectOption(code);
  await page.locator(`#${prefix}-justification`).fill(justification);
}

/** The purpose codes a purpose select offers (without the empty first choice). */
const offered = (page, prefix) => page.locator(`#${prefix}-purpose option`)
  .evaluateAll((os) => os.map((o) => o.value).filter(Boolean));

/** A grey PNG of `w`×`h` pixels, made here (the camera sends it as the read's plate crop). */
function png(w, h) {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    data.copy(out, 8);
    out.writeUInt32BE(crc(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(w, 0);
  header.writeUInt32BE(h, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  const rows = Buffer.alloc((w + 1) * h);
  for (let y = 0; y < h; y += 1) for (let x = 0; x < w; x += 1) rows[y * (w + 1) + 1 + x] = (x * 5 + y * 3) % 256;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/** Whether `locator`'s element is on screen (its top within the viewport). */
const inView = (locator) => locator.evaluate((el) => {
  const r = el.getBoundingClientRect();
  return r.top >= 0 && r.top < window.innerHeight;
});

// 1. Sign in, with the roles shown after; a wrong password is refused in plain words.
let searcher;
await flow('sign in shows the user and their roles', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await page.goto(`${BASE}/`);
  check(page.url().endsWith('/ui/'), `/ redirects to the UI, got ${page.url()}`);
  await page.getByLabel('Staff id').fill('S1001');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const refused = page.locator('.msg-error').filter({ hasText: 'wrong staff id or password' });
  await refused.waitFor();
  const said = await refused.textContent();
  check(/^Sign-in refused: /.test(said) && !/session/.test(said), `sign-in refusal: ${said}`);
  await shot(page, '01-sign-in');
  await context.close();
  searcher = await signedIn('S1001');
  const roles = await searcher.locator('#home-roles').textContent();
  check(roles.includes('searcher'), `roles shown: ${roles}`);
  const cookies = await searcher.context().cookies();
  const session = cookies.find((c) => c.name === 'anpr_session');
  check(session && session.httpOnly && session.sameSite === 'Strict', 'session cookie HttpOnly, SameSite=Strict');
  check(await searcher.evaluate(() => !document.cookie.includes('anpr_session')), 'the page cannot read the session cookie');
  await shot(searcher, '02-home');
});

// 2. A search refused by the policy (the searcher's own car), the reason in plain words.
await flow('a search of the officer\u2019s own vehicle is refused with the reason', async () => {
  const page = searcher;
  await page.goto(`${BASE}/ui/#/search`);
  await page.getByLabel('Plate', { exact: true }).fill(ownCar);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('.msg-error').filter({ hasText: 'Choose the incident file' }).waitFor(); // checked before sending
  await fillPurpose(page, 'search', 'stolen_vehicle', PURPOSE_FILE, 'Checking sightings for the theft file');
  await page.getByRole('button', { name: 'Search' }).click();
  const refusal = page.locator('.refusal .msg-error');
  await refusal.waitFor();
  const text = await refusal.textContent();
  check(/^Refused: /.test(text) && text.includes('connected to you') && text.includes('ask another officer'), `refusal: ${text}`);
  await page.screenshot({ path: join(SHOTS, '03-search-refused.png'), fullPage: true });
});

// 3. A search with an area picked on the map: results in the table and as points on the map;
//    a row opens the read with its images (fetched through the API, so each view is recorded).
await flow('a search with results on the map opens a read with its images', async () => {
  const page = searcher;
  await page.getByLabel('Plate', { exact: true }).fill(examplePlate);
  await page.getByLabel('Circle').check();
  const map = page.locator('#search-map');
  const box = await map.boundingBox();
  await map.click({ position: { x: box.width / 2, y: box.height / 2 } });
  await page.getByLabel('Radius (km)').fill('900');
  await page.getByRole('button', { name: 'Search' }).click();
  const rows = page.locator('table.hits tbody tr');
  await rows.first().waitFor();
  check(await inView(page.locator('#results-title')), 'the results are scrolled into view');
  const n = await rows.count();
  const { paths, clustered } = await pointsOnMap(page, '#search-map');
  check(n > 0 && paths + clustered >= n + 1, `rows ${n}, map shapes ${paths} and points in clusters ${clustered} (points and the circle)`);
  const when = await rows.first().locator('time').textContent();
  check(/NZ[DS]T/.test(when), `dates in NZ time: ${when}`);
  await page.locator('img.thumb').first().evaluate((img) => img.decode());
  await page.screenshot({ path: join(SHOTS, '04-search-results.png'), fullPage: true });
  await rows.first().getByRole('button', { name: /Open read/ }).click();
  const dialog = page.locator('dialog.read');
  await dialog.waitFor();
  const img = dialog.locator('img').first();
  await img.waitFor();
  await img.evaluate((i) => i.decode());
  check(await img.evaluate((i) => i.naturalWidth > 0), 'the read\u2019s image loaded through the API');
  await shot(page, '05-read-with-images');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await page.setViewportSize({ width: 820, height: 1180 });
  await shot(page, '04b-search-tablet');
  await page.setViewportSize({ width: 1280, height: 860 });
});

// 3b. Paging: a camera sends more reads of one plate (each with its plate crop) than the
//     purpose's hourly limit; the officer pages through them all with their thumbnails and is
//     never refused (the page's thumbnails are seen under its one search decision), the total
//     stays the same on every page, and Previous goes back. The form is kept across screens.
await flow('paging through more reads than the hourly limit: thumbnails, one total, Previous and Next', async () => {
  const page = searcher;
  current = page;
  const crop = png(96, 32).toString('base64');
  const reads = Array.from({ length: PAGED_READS }, (_, i) => ({
    plate: PAGED_PLATE, confidence: 0.9, plate_image: crop,
    captured_at: new Date(Date.now() - (60 + 10 * i) * 60000).toISOString(),
  }));
  const ingest = await fetch(`${BASE}/api/v1/reads:batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cameraKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ reads }),
  });
  check(ingest.status === 201, `ingest answered ${ingest.status}`);
  await page.goto(`${BASE}/ui/#/search`);
  await page.getByLabel('Plate', { exact: true }).fill(PAGED_PLATE);
  await page.getByLabel('Anywhere').check();
  await fillPurpose(page, 'search', 'stolen_vehicle', PURPOSE_FILE, 'Sightings of the vehicle stolen under this theft file');
  await page.getByRole('button', { name: 'Search' }).click();
  const title = page.locator('#results-title');
  const range = page.locator('#results-range');
  await range.filter({ hasText: `Reads 1–20 of ${PAGED_READS}` }).waitFor();
  check(await inView(title), 'the results are scrolled into view');
  const pages = Math.ceil(PAGED_READS / 20);
  for (let n = 1; n <= pages; n += 1) {
    const first = (n - 1) * 20 + 1;
    await range.filter({ hasText: `Reads ${first}–` }).waitFor();
    check((await title.textContent()).startsWith(`${PAGED_READS} reads`), `page ${n}: ${await title.textContent()}`);
    check(await page.locator('.refusal').count() === 0, `page ${n} refused: ${await page.locator('.status-slot').first().textContent()}`);
    const thumbs = page.locator('table.hits img.thumb');
    const shown = await thumbs.count();
    check(shown === Math.min(20, PAGED_READS - first + 1), `page ${n}: ${shown} thumbnails`);
    await thumbs.evaluateAll((imgs) => Promise.all(imgs.map((i) => i.decode())));
    check(await thumbs.evaluateAll((imgs) => imgs.every((i) => i.naturalWidth === 96)), `page ${n}: every thumbnail shows`);
    if (n < pages) await page.getByRole('button', { name: 'Next page' }).click();
  }
  check(await page.getByRole('button', { name: 'Next page' }).isDisabled(), 'no next page after the last');
  await page.getByRole('button', { name: 'Previous page' }).click();
  await range.filter({ hasText: `Reads ${(pages - 2) * 20 + 1}–${(pages - 1) * 20} of ${PAGED_READS}` }).waitFor();
  check(await inView(title), 'the previous page is in view');
  // The form is kept for the tab: away to the home screen and back.
  await page.goto(`${BASE}/ui/#/`);
  await page.goto(`${BASE}/ui/#/search`);
  await page.locator('#search-file option[value="__other__"]').waitFor({ state: 'attached' });
  check(await page.getByLabel('Plate', { exact: true }).inputValue() === PAGED_PLATE, 'the plate is kept');
  check(await page.locator('#search-file').inputValue() === PURPOSE_FILE, 'the file is kept');
  check(await page.locator('#search-purpose').inputValue() === 'stolen_vehicle', 'the purpose is kept');
  check((await page.locator('#search-justification').inputValue()).startsWith('Sightings of the vehicle'), 'the justification is kept');
});

// 3c. The file picker lists the officer's open files with their incident types and offers
//     only the purposes that fit the chosen one; a file typed by hand that does not fit the
//     purpose is refused in words that name the incident type and the purposes that fit.
await flow('the file picker offers only the purposes that fit the chosen file', async () => {
  const page = searcher;
  current = page;
  await page.goto(`${BASE}/ui/#/search`);
  const pick = page.locator('#search-file');
  await pick.locator(`option[value="${HOMICIDE_FILE}"]`).waitFor({ state: 'attached' });
  const listed = await pick.locator('option').evaluateAll((os) => os.map((o) => o.value));
  check(!listed.includes('250901/0001') && !listed.includes('260102/5000'), `closed and other districts' files are not listed: ${listed}`);
  check((await pick.locator(`option[value="${HOMICIDE_FILE}"]`).textContent()).includes('homicide'), 'the incident type is shown');
  await pick.selectOption(HOMICIDE_FILE);
  check(JSON.stringify(await offered(page, 'search')) === '["serious_crime"]', `homicide: ${await offered(page, 'search')}`);
  check(await page.locator('#search-purpose').inputValue() === 'serious_crime', 'the one fitting purpose is chosen');
  await page.locator('#search-purpose-fits').filter({ hasText: 'A homicide incident' }).waitFor();
  await pick.selectOption(MISSING_FILE);
  check(JSON.stringify(await offered(page, 'search')) === '["missing_person","threat_to_life"]', `missing person: ${await offered(page, 'search')}`);
  await pick.selectOption(CRASH_FILE);
  check(JSON.stringify(await offered(page, 'search')) === '["road_policing"]', `crash: ${await offered(page, 'search')}`);
  // A file typed by hand: every purpose is offered, and the policy explains a mismatch.
  await page.getByLabel('Plate', { exact: true }).fill(examplePlate);
  await pick.selectOption('__other__');
  await page.locator('#search-file-other').fill(HOMICIDE_FILE);
  check((await offered(page, 'search')).length === 5, 'every purpose for a file not listed');
  await page.locator('#search-purpose').selectOption('missing_person');
  await page.locator('#search-justification').fill('Checking sightings for the missing person report');
  await page.getByRole('button', { name: 'Search' }).click();
  const refusal = page.locator('.refusal .msg-error');
  await refusal.waitFor();
  const text = await refusal.textContent();
  check(text === `Please check the purpose: the purpose Missing person does not fit incident file ${HOMICIDE_FILE}, which is a homicide incident: for this file choose the purpose Serious crime investigation.`, `mismatch: ${text}`);
  check(await page.evaluate(() => document.activeElement && document.activeElement.id) === 'search-purpose', 'the purpose has the focus');
  // Leave the purpose as the later flows expect it.
  await fillPurpose(page, 'search', 'stolen_vehicle', PURPOSE_FILE, 'Checking sightings for the theft file');
});

// 4. Tracking: S1002 asks on a homicide file; another user, supervisor S1003, approves it.
let tracker;
await flow('a tracking request is approved by a supervisor', async () => {
  tracker = await signedIn('S1002');
  await tracker.goto(`${BASE}/ui/#/track`);
  await tracker.locator('#track-plate').fill(TRACKED_PLATE);
  await fillPurpose(tracker, 'track', 'serious_crime', HOMICIDE_FILE, 'Vehicle seen leaving the homicide scene');
  await tracker.getByRole('button', { name: 'Request tracking' }).click();
  await tracker.locator('.msg-info').filter({ hasText: 'waits for a supervisor' }).waitFor();
  await shot(tracker, '06-track-request');
  const supervisor = await signedIn('S1003');
  await supervisor.goto(`${BASE}/ui/#/track`);
  const item = supervisor.locator('.queue-item').filter({ hasText: TRACKED_PLATE });
  await item.waitFor();
  await item.getByLabel('Reason').fill('Homicide file reviewed; tracking is proportionate');
  await shot(supervisor, '07-approval-queue');
  await item.getByRole('button', { name: 'Approve' }).click();
  await item.waitFor({ state: 'detached' });
  await supervisor.context().close();
});

// 5. The live view: an alert arrives by SSE when a camera sends a read of the plate, with the
//    cue, the path on the map and no layout shift.
await flow('an alert arrives live on the track view after a read is ingested', async () => {
  const page = tracker;
  current = page;
  await page.reload(); // the list as it is now, after the approval
  const live = page.getByRole('link', { name: 'Live view' }).first();
  await live.click();
  await page.locator('#stream-state').filter({ hasText: 'live' }).waitFor();
  const before = await page.locator('#live-map').boundingBox();
  const cueBefore = await page.locator('#alert-cue').boundingBox();
  const left = await page.locator('#time-left').textContent();
  check(/h|min|d/.test(left), `time left shown: ${left}`);
  const ingest = await fetch(`${BASE}/api/v1/reads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cameraKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ plate: TRACKED_PLATE, captured_at: new Date().toISOString(), confidence: 0.93 }),
  });
  check(ingest.status === 201, `ingest answered ${ingest.status}`);
  await page.locator('#alerts li').first().waitFor();
  await page.locator('#alert-cue').filter({ hasText: 'New sighting' }).waitFor();
  const after = await page.locator('#live-map').boundingBox();
  const cueAfter = await page.locator('#alert-cue').boundingBox();
  check(JSON.stringify(before) === JSON.stringify(after) && JSON.stringify(cueBefore) === JSON.stringify(cueAfter), 'no layout shift when the alert arrives');
  const marks = await page.locator('#live-map path.leaflet-interactive').count();
  check(marks >= 2, `the sighting and path are on the map (${marks} shapes)`);
  await shot(page, '08-track-live');
});

// 5b. The live view stops with its watch: after "Stop tracking" the countdown and "live" stop
//     and the stream closes; Renew fills in the whole request as the watch was asked for.
await flow('the live view stops when the watch stops, and Renew fills in the request', async () => {
  const page = tracker;
  current = page;
  await page.locator('#stop-reason').fill('Suspect located and arrested');
  await page.getByRole('button', { name: 'Stop tracking' }).click();
  await page.locator('.msg-ok').filter({ hasText: 'Tracking stopped' }).waitFor();
  await page.locator('#stream-state').filter({ hasText: /^not live: tracking revoked$/ }).waitFor();
  const left = await page.locator('#time-left').textContent();
  check(left === 'revoked', `time left after the stop: ${left}`);
  await page.waitForTimeout(2500);
  check(await page.locator('#time-left').textContent() === left, 'the countdown has stopped');
  check(await page.locator('#stream-state').textContent() === 'not live: tracking revoked', 'still not live');
  check(await page.getByRole('button', { name: 'Stop tracking' }).count() === 0, 'nothing left to stop');
  await page.getByRole('button', { name: 'Renew…' }).click();
  await page.locator('#track-file option[value="__other__"]').waitFor({ state: 'attached' });
  await page.locator('#track-purpose option[value="serious_crime"]').waitFor({ state: 'attached' });
  const form = {
    plate: await page.locator('#track-plate').inputValue(),
    file: await page.locator('#track-file').inputValue(),
    purpose: await page.locator('#track-purpose').inputValue(),
    justification: await page.locator('#track-justification').inputValue(),
    emergency: await page.locator('#track-emergency').isDisabled(),
  };
  check(form.plate === TRACKED_PLATE && form.file === HOMICIDE_FILE && form.purpose === 'serious_crime'
    && form.justification === 'Vehicle seen leaving the homicide scene' && form.emergency, `renewal form: ${JSON.stringify(form)}`);
});

// 5c. An emergency (threat to life) starts at once and stops unless approved within the hour:
//     the live view counts down to that deadline.
await flow('an emergency watch shows its approval deadline as a countdown', async () => {
  const page = await signedIn('S1002');
  await page.goto(`${BASE}/ui/#/track`);
  await page.locator('#track-plate').fill(EMERGENCY_PLATE);
  await fillPurpose(page, 'track', 'threat_to_life', THREAT_FILE, 'Driver threatened to harm a family member tonight');
  await page.locator('#track-emergency').check();
  await page.getByRole('button', { name: 'Request tracking' }).click();
  const started = page.locator('.msg-ok').filter({ hasText: 'stops unless a supervisor approves it by' });
  await started.waitFor();
  await started.getByRole('link', { name: 'Open the live view' }).click();
  await page.locator('#stream-state').filter({ hasText: /^live$/ }).waitFor();
  const deadline = page.locator('#approval-left');
  await deadline.filter({ hasText: /^(59|60) min \d+ s$/ }).waitFor();
  const before = await deadline.textContent();
  await page.waitForTimeout(2200);
  const after = await deadline.textContent();
  check(before !== after, `the approval countdown runs: ${before} then ${after}`);
  await shot(page, '08b-track-emergency');
  await page.locator('#stop-reason').fill('Person found safe, no longer needed');
  await page.getByRole('button', { name: 'Stop tracking' }).click();
  await page.locator('#stream-state').filter({ hasText: /^not live/ }).waitFor();
  check(!(await page.locator('#approval-left').isVisible()), 'no approval countdown once stopped');
  await page.context().close();
});

// 6. The ledger: signed head, verification in the browser, entries, an inclusion proof.
await flow('the ledger screen verifies the log and proves an entry', async () => {
  const page = await signedIn('S1005');
  await page.goto(`${BASE}/ui/#/ledger`);
  await page.locator('#head-size').waitFor();
  await page.locator('#verification .msg-ok, #verification .msg-info').first().waitFor();
  const verdict = await page.locator('#verification').textContent();
  // The server signs a head every few seconds while entries arrive: by now there are earlier ones.
  check(verdict.includes('Verified: the log of') && !/failed/.test(verdict), `verification: ${verdict}`);
  await page.getByRole('button', { name: /Prove entry/ }).first().click();
  await page.locator('#proof .msg-ok').filter({ hasText: 'Verified: entry' }).waitFor();
  await shot(page, '09-ledger');
  await page.context().close();
});

// 7. Administration: users, a camera (key shown once), sites on the map, a register import.
await flow('admin screens: users, camera key shown once, sites, register import', async () => {
  const page = await signedIn('S1006');
  await page.goto(`${BASE}/ui/#/admin`);
  await page.locator('table tbody tr').filter({ hasText: 'S1001' }).waitFor();
  await page.locator('#new-staff-id').fill('S1999');
  await page.locator('#new-name').fill('Quinn Analyst');
  await page.locator('#new-district').selectOption('Waikato');
  await page.getByLabel('searcher', { exact: true }).last().check();
  await page.locator('#new-password').fill('a-long-initial-password');
  await page.getByRole('button', { name: 'Add user' }).click();
  await page.locator('.msg-ok').filter({ hasText: 'User S1999 created' }).waitFor();
  // A network operator: the network is required, and no other role can be chosen with it.
  await page.locator('#new-staff-id').fill('N2001');
  await page.locator('#new-name').fill('Pat Operator');
  await page.locator('#new-district').selectOption('Waikato'); // the form was cleared
  await page.getByLabel('network_operator', { exact: true }).last().check();
  check(await page.getByLabel('searcher', { exact: true }).last().isDisabled(), 'no police role beside network_operator');
  await page.locator('#new-network option').nth(1).waitFor({ state: 'attached' });
  await page.locator('#new-network').selectOption({ index: 1 });
  await page.locator('#new-password').fill('a-long-initial-password');
  await page.getByRole('button', { name: 'Add user' }).click();
  await page.locator('.msg-ok').filter({ hasText: 'User N2001 created with roles network_operator' }).waitFor();
  await shot(page, '10-admin-users');
  await page.getByRole('tab', { name: 'Cameras' }).click();
  await page.locator('#camera-site option').first().waitFor({ state: 'attached' });
  await page.locator('#camera-name').fill('Exit lane');
  await page.getByRole('button', { name: 'Add camera' }).click();
  const key = await page.locator('#new-camera-key').textContent();
  check(/^anpr_cam_\d+_/.test(key), `camera key shown once: ${key}`);
  await shot(page, '11-admin-camera-key');
  await page.getByRole('tab', { name: 'Sites' }).click();
  await page.locator('#sites-map path.leaflet-interactive').first().waitFor();
  await shot(page, '12-admin-sites');
  await page.getByRole('tab', { name: 'Registers' }).click();
  await page.locator('#register-kind').selectOption('incidents');
  await page.locator('#register-source').fill('e2e incident feed');
  await page.locator('#register-file').setInputFiles({
    name: 'incidents.csv', mimeType: 'text/csv',
    buffer: Buffer.from('file_number,incident_type,district,opened_at,closed_at,assigned_staff\n261129/0001,burglary,Waikato,2026-11-28T10:00:00Z,,\n'),
  });
  await page.getByRole('button', { name: 'Import' }).click();
  await page.locator('.msg-ok').filter({ hasText: 'Imported into incidents' }).waitFor();
  check(await page.locator('#import-progress').evaluate((p) => p.value === p.max), 'progress complete');
  await shot(page, '13-admin-registers');
  await page.context().close();
});

// 8. The integrity review: S1004 (integrity) runs the rules, finds the case the refused
//    own-vehicle search by S1001 (flow 2) opened, takes it and asks S1001 to explain; S1001
//    answers under My cases; S1004 closes it as training; the evidence links to the ledger.
await flow('an own-vehicle case is reviewed, explained under My cases and closed', async () => {
  const integrity = await signedIn('S1004');
  await integrity.goto(`${BASE}/ui/#/integrity`);
  await integrity.getByRole('button', { name: 'Run the rules now' }).click();
  await integrity.locator('#run-report .msg-ok').waitFor();
  const report = await integrity.locator('#run-report').textContent();
  check(/The rules read ledger entries|Nothing new/.test(report), `run report: ${report}`);
  const row = integrity.locator('table.cases tbody tr[data-rule="own_vehicle"][data-staff-id="S1001"]').first();
  await row.waitFor();
  await shot(integrity, '14-integrity');
  const caseId = await row.getAttribute('data-case-id');
  await row.getByRole('link', { name: `Open case ${caseId}` }).click();
  await integrity.locator('#case-finding').waitFor();
  const finding = await integrity.locator('#case-finding').textContent();
  check(finding.includes(ownCar) && /refused by the policy/.test(finding), `finding: ${finding}`);
  const evidence = integrity.locator('#case-evidence a');
  check(await evidence.count() >= 1, 'evidence entries listed and linked to the ledger');
  await integrity.locator('#assign-to').fill('S1004');
  await integrity.getByRole('button', { name: 'Assign' }).click();
  await integrity.locator('#case-assigned').filter({ hasText: 'S1004' }).waitFor();
  await integrity.getByLabel('Ask S1001 to explain').fill('Why did you search the plate of your own car?');
  await integrity.getByRole('button', { name: 'Request explanation' }).click();
  await integrity.locator('#case-status').filter({ hasText: 'explanation requested' }).waitFor();
  await integrity.screenshot({ path: join(SHOTS, '18-integrity-case.png'), fullPage: true });

  const page = searcher;
  current = page;
  const nav = await page.locator('#nav').textContent();
  check(nav.includes('My cases') && !nav.includes('Integrity'), `searcher navigation: ${nav}`);
  await page.goto(`${BASE}/ui/#/mycases`);
  const mine = page.locator(`.my-case[data-case-id="${caseId}"]`);
  await mine.waitFor();
  await mine.getByLabel('Your explanation').fill('I mistyped the plate of a vehicle in the theft file; it was not deliberate.');
  await mine.getByRole('button', { name: 'Send explanation' }).click();
  await page.locator(`.my-case[data-case-id="${caseId}"] .my-status`).filter({ hasText: 'explained' }).waitFor();
  await page.screenshot({ path: join(SHOTS, '19-my-cases.png'), fullPage: true });

  current = integrity;
  await integrity.reload();
  await integrity.locator('#case-explanation').filter({ hasText: 'mistyped' }).waitFor();
  await integrity.locator('#close-outcome').selectOption('training');
  await integrity.getByLabel('Reasons').fill('A careless search of a connected plate: refresher training on the own-vehicle rule.');
  await integrity.getByRole('button', { name: 'Close case' }).click();
  await integrity.locator('#case-outcome').filter({ hasText: 'Training' }).waitFor();
  check(await integrity.locator('#close-form').count() === 0, 'a closed case has no workflow');
  await integrity.screenshot({ path: join(SHOTS, '20-integrity-closed.png'), fullPage: true });
  const first = await integrity.locator('#case-evidence a').first();
  const index = (await first.getAttribute('href')).split('/').pop();
  await first.click();
  await integrity.locator('table.entries td.num').filter({ hasText: new RegExp(`^${index}$`) }).waitFor();
  await integrity.context().close();
  // A supervisor sees only the routine samples of their district: no run button, not this case.
  const supervisor = await signedIn('S1003');
  await supervisor.goto(`${BASE}/ui/#/integrity`);
  await supervisor.locator('table.cases, .card .msg-info').first().waitFor();
  check(await supervisor.getByRole('button', { name: 'Run the rules now' }).count() === 0, 'no run button for a supervisor');
  check(await supervisor.locator(`tr[data-case-id="${caseId}"]`).count() === 0, 'the integrity unit\u2019s case is not in a supervisor\u2019s queue');
  await supervisor.context().close();
});

// 8b. The oversight screens: the supervisor's queue, grouped integrity cases, evidence in the
//     ledger, the ledger's filters (e2e/flows/oversight.mjs).
await oversightFlows({ BASE, DATA, flow, check, signedIn, fillPurpose, setCurrent: (p) => { current = p; } });

// 9. The transparency report: auditor S1005 sees this run's activity counted (the searches and
//    the refused own-vehicle search above), charted four ways, the month's transparency report
//    and a CSV download of the rows.
await flow('the transparency report: usage charts, the month\u2019s report and a CSV download', async () => {
  const page = await signedIn('S1005');
  await page.goto(`${BASE}/ui/#/reports`);
  const searches = page.locator('table.usage-totals tr[data-measure="searches"] td');
  await searches.waitFor();
  check(Number(await searches.textContent()) >= 1, `searches counted: ${await searches.textContent()}`);
  const blocks = await page.locator('table.usage-totals tr[data-measure="own_vehicle_blocks"] td').textContent();
  check(Number(blocks) >= 1, `own-vehicle blocks counted: ${blocks}`);
  for (const by of ['month', 'district', 'purpose', 'network']) {
    const bars = await page.locator(`.chart-box[data-by="${by}"] rect.chart-bar`).count();
    check(bars >= 1, `a ${by} chart with bars (${bars})`);
  }
  await page.locator('#transparency-heading').waitFor();
  const national = await page.locator('table.national tr[data-measure="searches"] td.num').textContent();
  check(national === '<5' || Number(national) >= 5, `national searches published suppressed: ${national}`);
  await page.locator('table.districts tbody tr').first().waitFor();
  const [csv] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download CSV' }).click(),
  ]);
  check(/^usage-.*-by-month\.csv$/.test(csv.suggestedFilename()), `CSV name: ${csv.suggestedFilename()}`);
  const text = readFileSync(await csv.path(), 'utf8');
  check(/searches/.test(text.split('\n')[0]) && text.trim().split('\n').length >= 2, `CSV: ${text.slice(0, 200)}`);
  await page.screenshot({ path: join(SHOTS, '15-reports.png'), fullPage: true });
  await page.context().close();
});

// 10. A network operator's "vehicle of interest" screen: a read of a plate on the stolen-vehicle
//     hot list by the network's camera arrives live, without personal data, and is acknowledged.
await flow('a hot-list alert arrives live on the network operator\u2019s screen', async () => {
  const page = await signedIn('S1009');
  const nav = await page.locator('#nav').textContent();
  check(nav.includes('Vehicle of interest') && !nav.includes('Search') && !nav.includes('Track'), `operator navigation: ${nav}`);
  await page.goto(`${BASE}/ui/#/hotlist`);
  await page.locator('#hot-stream-state').filter({ hasText: 'live' }).waitFor();
  const ingest = await fetch(`${BASE}/api/v1/reads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cameraKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ plate: hotListPlate, captured_at: new Date().toISOString(), confidence: 0.95 }),
  });
  check(ingest.status === 201, `ingest answered ${ingest.status}`);
  const item = page.locator('#hot-alerts li').filter({ hasText: hotListPlate });
  await item.waitFor();
  await page.locator('#hot-cue').filter({ hasText: `Vehicle of interest: ${hotListPlate}` }).waitFor();
  check(await item.locator('img').count() === 0, 'no images in a hot-list alert');
  await shot(page, '16-vehicle-of-interest');
  await item.getByRole('button', { name: 'Acknowledge' }).click();
  await item.filter({ hasText: 'acknowledged by S1009' }).waitFor();
  await page.context().close();
  // The tracker's live view (still open) shows only its own watch's alerts.
  const trackerAlerts = await tracker.locator('#alerts li').filter({ hasText: hotListPlate }).count();
  check(trackerAlerts === 0, 'the track live view ignores hot-list alerts');
});

// 11. Subject access (privacy officer or admin): the plate searched above has sightings held
//     and that search among the queries counted, with no officer named.
await flow('subject access shows the sightings and queries of a plate', async () => {
  const page = await signedIn('S1006');
  await page.goto(`${BASE}/ui/#/privacy`);
  await page.locator('#sar-plate').fill(examplePlate);
  await page.locator('#sar-reference').fill('PA-2026-7');
  await page.locator('#sar-identity-method').selectOption('passport');
  await page.getByRole('button', { name: 'Prepare the answer' }).click();
  await page.locator('#sar-reads-held').waitFor();
  const held = Number(await page.locator('#sar-reads-held').textContent());
  const queries = Number(await page.locator('#sar-queries').textContent());
  check(held >= 1 && queries >= 1, `sightings held ${held}, queries ${queries}`);
  check(!(await page.locator('#sar-result').textContent()).includes('S1001'), 'no officer named');
  await page.screenshot({ path: join(SHOTS, '17-subject-access.png'), fullPage: true });
  await page.context().close();
});

// 12. Administration forms, the usage charts and the network operator's alert (flows/admin.mjs).
await adminFlows({ flow, signedIn, check, shot, BASE, cameraKey, hotListPlate });
await mapFlows({ BASE, SHOTS, cameraKey, flow, check, signedIn, fillPurpose, purposeFile: PURPOSE_FILE });
await phoneFlows({ flow, signedIn, check, shots: SHOTS });
await networkAuditorFlows({ flow, signedIn, check, shot, BASE, never: [examplePlate, ownCar, PURPOSE_FILE, HOMICIDE_FILE] });

await flow('no Content-Security-Policy violation or page error', async () => {
  check(problems.length === 0, problems.join('\n'));
});

await browser.close();
const passed = results.filter((r) => r[1]).length;
const failed = results.length - passed;
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
