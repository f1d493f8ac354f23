// End-to-end flows of the oversight screens (issue 27, item 4): the supervisor's approval queue
// (worded for the supervisor, incident type shown, emergencies first, the count of waiting
// requests in the navigation), the integrity queue grouped by member of staff and rule with
// names beside ids, an evidence link opening the ledger at its entry, marked, and the ledger's
// filters by who acted, what they did and when, with actions in words.
//
// Called by run.mjs after the integrity flow (which opens cases), with its helpers.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const THEFT_FILE = '260101/1234';
const THREAT_FILE = '260101/3000';
/** A plate nobody else in the run uses: the emergency that waits in the queue. */
const QUEUE_EMERGENCY_PLATE = 'EMQ301';

/** Today's date in New Zealand, as an <input type=date> value. */
function nzToday() {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-NZ', {
    timeZone: 'Pacific/Auckland', year: 'numeric', month: '2-digit', day: '2-digit',
  }).formatToParts(new Date()).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

export async function oversightFlows({ BASE, DATA, flow, check, signedIn, fillPurpose, setCurrent }) {
  const credentials = readFileSync(join(DATA, 'DEMO-CREDENTIALS.txt'), 'utf8');
  const recordedByTracker = /; (\S+) needs approval \(S1002\s+recorded the report\)/.exec(credentials);
  if (!recordedByTracker) throw new Error('DEMO-CREDENTIALS.txt names no plate whose stolen report S1002 recorded');
  const stolenPlate = recordedByTracker[1];

  await flow('the supervisor\u2019s queue: emergencies first, worded for the supervisor, counted in the navigation', async () => {
    // S1002 asks twice: on a stolen report they recorded themselves (waits), and an emergency
    // (runs at once, waits for approval within the hour).
    const tracker = await signedIn('S1002');
    await tracker.goto(`${BASE}/ui/#/track`);
    await tracker.locator('#track-plate').fill(stolenPlate);
    await fillPurpose(tracker, 'track', 'stolen_vehicle', THEFT_FILE, 'Stolen car reported by the owner this morning');
    await tracker.getByRole('button', { name: 'Request tracking' }).click();
    const waits = tracker.locator('.msg-info').filter({ hasText: 'waits for a supervisor' });
    await waits.waitFor();
    check((await waits.textContent()).includes('recorded by you'), `the requester reads their own wording: ${await waits.textContent()}`);
    await tracker.locator('#track-plate').fill(QUEUE_EMERGENCY_PLATE);
    await fillPurpose(tracker, 'track', 'threat_to_life', THREAT_FILE, 'Caller reports the driver threatened to kill a neighbour');
    await tracker.locator('#track-emergency').check();
    await tracker.getByRole('button', { name: 'Request tracking' }).click();
    await tracker.locator('.msg-ok').filter({ hasText: 'stops unless a supervisor approves it by' }).waitFor();
    await tracker.context().close();

    const supervisor = await signedIn('S1003');
    // The count is in the navigation on every screen, for the screen reader too.
    const count = supervisor.locator('#queue-count');
    await count.waitFor();
    const waiting = Number(await count.textContent());
    check(waiting >= 2, `requests waiting, in the navigation: ${waiting}`);
    const link = supervisor.locator('#nav a[href="#/track"]');
    const label = await link.getAttribute('aria-label');
    check(label === `Track, ${waiting} requests wait for your decision`, `the Track link's label: ${label}`);

    await link.click();
    const items = supervisor.locator('#approval-queue .queue-item');
    await items.first().waitFor();
    check(await items.count() === waiting, `the count (${waiting}) is the queue's length (${await items.count()})`);
    check(await supervisor.locator('#mine-title').textContent() === 'Authorisations in your district', 'a supervisor\u2019s list is headed as their district\u2019s');
    // Emergencies first, each with its approval deadline.
    const order = await items.evaluateAll((els) => els.map((e) => e.classList.contains('emergency')));
    const firstRoutine = order.indexOf(false);
    check(order[0] && (firstRoutine === -1 || order.slice(firstRoutine).every((e) => !e)), `emergencies first: ${order}`);
    const emergency = items.filter({ hasText: QUEUE_EMERGENCY_PLATE });
    check(await emergency.evaluate((e) => e.classList.contains('emergency')), 'the emergency is marked as one');
    check(/\d+ min/.test(await emergency.locator('.deadline').textContent()), 'the emergency shows its approval deadline and the time left');
    // Worded for the supervisor: who recorded the report, by name; the incident type in words.
    const stolen = items.filter({ hasText: stolenPlate });
    const because = await stolen.locator('.waits-because').textContent();
    check(because.includes('recorded by the requester, S1002 (Ben Tracker)') && !/\byou(r)?\b/.test(because), `why it waits: ${because}`);
    check((await stolen.locator('h3').textContent()).includes('(vehicle theft)'), `incident type in the heading: ${await stolen.locator('h3').textContent()}`);
    check((await stolen.locator('.requester').textContent()).startsWith('Ben Tracker (S1002)'), 'the requester named');
    check(!/_/.test(await supervisor.locator('#approval-queue').textContent()), 'no code words in the queue');

    // Deciding updates the count in the navigation.
    await emergency.getByLabel('Reason').fill('Threat confirmed by the call taker; tracking is necessary');
    await emergency.getByRole('button', { name: 'Approve' }).click();
    await count.filter({ hasText: new RegExp(`^${waiting - 1}$`) }).waitFor();
    await stolen.getByLabel('Reason').fill('The owner should be asked first; refused for now');
    await stolen.getByRole('button', { name: 'Refuse' }).click();
    await stolen.waitFor({ state: 'detached' });
    const left = waiting - 2;
    if (left) await count.filter({ hasText: new RegExp(`^${left}$`) }).waitFor();
    else await count.waitFor({ state: 'detached' });
    await supervisor.context().close();
  });

  await flow('integrity cases are grouped by member of staff and rule, with names beside ids', async () => {
    const page = await signedIn('S1004');
    await page.goto(`${BASE}/ui/#/integrity`);
    await page.locator('#cases-status').selectOption(''); // closed cases too: the run closed one
    const groups = page.locator('table.cases tbody.case-group');
    // The list drawn before the filter changed may still be showing: wait for the closed case.
    await page.locator('table.cases tr.group-head[data-group-staff="S1001"][data-group-rule="own_vehicle"]').waitFor();
    const heads = await page.locator('table.cases tr.group-head').evaluateAll((rows) => rows.map((r) => [r.dataset.groupStaff, r.dataset.groupRule, Number(r.dataset.count), r.textContent]));
    const keys = heads.map(([staff, rule]) => `${staff}/${rule}`);
    check(new Set(keys).size === keys.length, `one group per member of staff and rule: ${keys}`);
    const own = heads.find(([staff, rule]) => staff === 'S1001' && rule === 'own_vehicle');
    check(own && own[3].startsWith('Aroha Searcher (S1001) — Own or connected vehicle:'), `a group names the member of staff: ${own && own[3]}`);
    check(!/\(s\)/.test(await page.locator('table.cases').textContent()), 'no "(s)" plurals');
    const many = groups.filter({ has: page.locator('tr.group-head button') }).first();
    if (await many.count()) {
      const rows = many.locator('tr[data-case-id]');
      check(await rows.nth(1).isHidden(), 'a group shows its newest case, the others on request');
      await many.locator('tr.group-head button').click();
      await rows.nth(1).waitFor();
      check(await many.locator('tr.group-head button').getAttribute('aria-expanded') === 'true', 'the toggle says it is open');
    }
    await page.context().close();
  });

  await flow('an evidence link opens the ledger at its entry, marked', async () => {
    const page = await signedIn('S1004');
    setCurrent(page);
    await page.goto(`${BASE}/ui/#/integrity`);
    await page.locator('#cases-status').selectOption('');
    const open = page.locator('table.cases tr[data-staff-id="S1001"][data-rule="own_vehicle"] a').first();
    await open.click();
    await page.locator('#case-finding').waitFor();
    check(!/UTC/.test(await page.locator('#case-finding').textContent()), 'the finding\u2019s times are in NZ time');
    check((await page.locator('#case-staff').textContent()).startsWith('Aroha Searcher (S1001)'), 'the case names who it is about');
    const evidence = page.locator('#case-evidence a').first();
    const index = (await evidence.getAttribute('href')).split('/').pop();
    await evidence.click();
    const row = page.locator(`table.entries tr.current[data-index="${index}"]`);
    await row.waitFor();
    check(await row.getAttribute('aria-current') === 'true', 'the entry is marked for assistive technology too');
    check(await page.locator('table.entries tr.current').count() === 1, 'one entry marked');
    const inView = await row.evaluate((r) => {
      const box = r.getBoundingClientRect();
      return box.top >= 0 && box.bottom <= window.innerHeight;
    });
    check(inView, 'the marked entry is scrolled into view');
    const rows = await page.locator('table.entries tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.index));
    const at = rows.indexOf(index);
    check(at > 0 && at < rows.length - 1 || rows.length < 3, `the entry is within its page, not at its edge (${at} of ${rows.length})`);
    await page.context().close();
  });

  await flow('the ledger is filtered by who acted, what they did and when', async () => {
    const page = await signedIn('S1005');
    setCurrent(page);
    await page.goto(`${BASE}/ui/#/ledger`);
    await page.locator('table.entries tbody tr').first().waitFor();
    // Actions in words, never codes.
    const actions = await page.locator('table.entries tbody tr td:nth-child(4)').allTextContents();
    check(actions.length && actions.every((a) => a && !a.includes('_')), `actions in words: ${actions.slice(0, 5)}`);
    // The supervisor's approvals above.
    await page.getByLabel('Who acted (staff id)').fill('s1003');
    await page.locator('#filter-action').selectOption({ label: 'Tracking approved' });
    await page.getByRole('button', { name: 'Find' }).click();
    const found = page.locator('table.entries tbody tr');
    await page.locator('#entries-title ~ .slot .msg').filter({ hasText: 'found' }).waitFor();
    const rows = await found.evaluateAll((rs) => rs.map((r) => [r.dataset.action, r.children[2].textContent, r.children[3].textContent]));
    check(rows.length >= 1 && rows.every(([code, who, what]) => code === 'tracking_approval' && who.startsWith('S1003') && what === 'Tracking approved'), `found: ${JSON.stringify(rows)}`);
    // Today (NZ) holds them; a day long ago holds nothing.
    const today = nzToday();
    await page.getByLabel('From (NZ date)').fill(today);
    await page.getByLabel('To (NZ date, inclusive)').fill(today);
    await page.getByRole('button', { name: 'Find' }).click();
    await page.locator('#entries-title ~ .slot .msg').filter({ hasText: 'found' }).waitFor();
    check(await found.count() === rows.length, 'today\u2019s entries are the same ones');
    await page.getByLabel('From (NZ date)').fill('2001-01-01');
    await page.getByLabel('To (NZ date, inclusive)').fill('2001-01-02');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.locator('#entries-title ~ .slot .msg').filter({ hasText: 'No entry found' }).waitFor();
    // A range the wrong way round is explained, not sent.
    await page.getByLabel('From (NZ date)').fill('2001-01-03');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.locator('#ledger-filters .msg-error').filter({ hasText: 'The From date is after the To date' }).waitFor();
    await page.getByRole('button', { name: 'Show all entries' }).click();
    await page.locator('#entries-title ~ .slot .msg').filter({ hasText: /^Entries \d+ to \d+/ }).waitFor();
    await page.context().close();
  });
}
