// End-to-end flows of the administration screens, the usage charts and the network operator's
// alert (issue 27, item 4), run by run.mjs with its helpers: `flow` (names and times a flow),
// `signedIn` (a signed-in page of its own browser context), `check`, `shot`, the server's
// `BASE` URL, and the demo's camera key and hot-list plate.

export async function adminFlows({ flow, signedIn, check, shot, BASE, cameraKey, hotListPlate }) {
  await flow('admin forms: districts from the deployment\u2019s list, cleared and confirmed', async () => {
    const page = await signedIn('S1006');
    await page.goto(`${BASE}/ui/#/admin`);
    await page.locator('table tbody tr').filter({ hasText: 'S1001' }).waitFor();
    // The district is chosen from the deployment's list, not typed.
    const district = page.locator('#new-district');
    check(await district.evaluate((el) => el.tagName) === 'SELECT', 'the district is a list');
    await district.locator('option[value="Waitematā"]').waitFor({ state: 'attached' });
    check(await district.locator('option').count() === 13, 'twelve districts and the prompt');
    const fillUser = async (staffId) => {
      await page.locator('#new-staff-id').fill(staffId);
      await page.locator('#new-name').fill('Robin Analyst');
      await page.getByLabel('searcher', { exact: true }).last().check();
      await page.locator('#new-password').fill('a-long-initial-password');
    };
    // A district the deployment does not have (a page out of date, a hand-made request) is
    // refused by the server in words, naming those it has.
    await fillUser('S1998');
    await district.evaluate((el) => el.append(new Option('Narnia', 'Narnia', true, true)));
    await page.getByRole('button', { name: 'Add user' }).click();
    const refused = page.locator('.msg-error').filter({ hasText: 'Please check the district: Narnia is not a police district of this deployment; choose one of: Northland, Waitematā' });
    await refused.waitFor();
    check(!/[`_]/.test(await refused.textContent()), `plain words: ${await refused.textContent()}`);
    await district.evaluate((el) => el.querySelector('option[value="Narnia"]').remove());
    await district.selectOption('Waikato');
    await page.getByRole('button', { name: 'Add user' }).click();
    const created = page.getByRole('status').filter({ hasText: 'User S1998 created with roles searcher (Robin Analyst, Waikato)' });
    await created.waitFor();
    // Cleared for the next user.
    for (const id of ['#new-staff-id', '#new-name', '#new-password', '#new-district']) {
      check(await page.locator(id).inputValue() === '', `${id} cleared`);
    }
    check(!(await page.getByLabel('searcher', { exact: true }).last().isChecked()), 'roles cleared');
    // Saving roles says so, beside them.
    const row = page.locator('table tbody tr').filter({ hasText: 'S1998' });
    await row.waitFor();
    await row.getByLabel('tracker for S1998').check();
    await row.getByRole('button', { name: 'Save roles' }).click();
    await row.getByRole('status').filter({ hasText: 'Roles of S1998 saved: searcher, tracker.' }).waitFor();

    // Sites: the district from the list; a typed position moves the pin.
    await page.getByRole('tab', { name: 'Sites' }).click();
    await page.locator('#sites-map path.leaflet-interactive').first().waitFor();
    await page.locator('#site-district option[value="Southern"]').waitFor({ state: 'attached' });
    const pin = page.locator('#sites-map path[fill="#1d4ed8"]');
    await page.locator('#site-lat').fill('-36.85');
    await page.locator('#site-lon').fill('174.76');
    await pin.waitFor();
    const auckland = await pin.boundingBox();
    await page.locator('#site-lat').fill('-45.03');
    await page.locator('#site-lon').fill('168.66');
    await page.waitForFunction((before) => {
      const p = document.querySelector('#sites-map path[fill="#1d4ed8"]');
      if (!p) return false;
      const now = p.getBoundingClientRect();
      return Math.abs(now.x - before.x) > 1 || Math.abs(now.y - before.y) > 1;
    }, auckland);
    check(await pin.count() === 1, 'one pin for the new site');
    await page.locator('#site-name').fill('Fuel stop Frankton');
    await page.locator('#site-address').fill('1 Frankton Rd, Queenstown');
    await page.locator('#site-district').selectOption('Southern');
    await page.getByRole('button', { name: 'Add site' }).click();
    await page.getByRole('status').filter({ hasText: 'Site Fuel stop Frankton added in Southern' }).waitFor();
    check(await page.locator('#site-name').inputValue() === '' && await page.locator('#site-lat').inputValue() === '', 'site form cleared');
    check(await pin.count() === 0, 'the new site\u2019s pin is gone with the form');

    // A register file without its columns: the line, and the columns a file needs.
    await page.getByRole('tab', { name: 'Registers' }).click();
    await page.locator('#register-kind').selectOption('incidents');
    await page.locator('#register-source').fill('e2e bad file');
    await page.locator('#register-file').setInputFiles({
      name: 'incidents.csv', mimeType: 'text/csv',
      buffer: Buffer.from('number,incident_type,district,opened_at\n261129/0002,burglary,Waikato,2026-11-28T10:00:00Z\n'),
    });
    await page.getByRole('button', { name: 'Import' }).click();
    const bad = page.locator('.msg-error').filter({ hasText: 'Line 1 lacks the column file_number' });
    await bad.waitFor();
    const said = await bad.textContent();
    check(said.includes('needs the columns file_number, incident_type, district, opened_at') && !said.includes('deserialize') && !said.includes('`'), `register error: ${said}`);
    await page.context().close();
  });

  await flow('usage charts: labels of 12 px or more, purposes by name, every month', async () => {
    const page = await signedIn('S1005');
    await page.goto(`${BASE}/ui/#/reports`);
    await page.locator('.chart-box[data-by="purpose"] text.chart-label').first().waitFor();
    // The size each text is drawn at on the screen: its font size times its SVG's scale.
    const sizes = await page.locator('svg.chart text').evaluateAll((texts) => texts.map((t) => {
      const m = t.getScreenCTM();
      return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
    }));
    check(sizes.length > 0 && Math.min(...sizes) >= 12, `chart text drawn at ${Math.min(...sizes).toFixed(1)} px`);
    const purposes = await page.locator('.chart-box[data-by="purpose"] text.chart-label').allTextContents();
    check(purposes.includes('Stolen vehicle') && purposes.every((p) => !p.includes('_')), `purposes by name: ${purposes.join(' | ')}`);
    // The default period is the last twelve months: each has its row, used or not.
    const months = await page.locator('.chart-box[data-by="month"] text.chart-label').allTextContents();
    check(months.length === 12 && new Set(months).size === 12, `every month: ${months.join(' | ')}`);
    check(/^[A-Z][a-z]{2} \d{4}$/.test(months[0]), `months by name: ${months[0]}`);
    await page.context().close();
  });

  await flow('the network operator\u2019s alert names the site\u2019s address and whom to call', async () => {
    const admin = await signedIn('S1006');
    await admin.goto(`${BASE}/ui/#/admin`);
    await admin.getByRole('tab', { name: 'Networks' }).click();
    // The camera the demo gives a key to, its site and its network.
    const cameraId = Number(/^anpr_cam_(\d+)_/.exec(cameraKey)[1]);
    const { site, network } = await admin.evaluate(async (id) => {
      const json = async (path) => (await fetch(path, { credentials: 'same-origin' })).json();
      const cameras = await json('/api/v1/cameras');
      const sites = await json('/api/v1/sites');
      const s = sites.find((x) => x.id === cameras.find((c) => c.id === id).site_id);
      return { site: s, network: s.network_id };
    }, cameraId);
    const contact = 'Hamilton Police, 07 555 0100';
    const row = admin.locator('table tbody tr').filter({ has: admin.locator('td', { hasText: new RegExp(`^${network}$`) }) });
    await row.getByLabel(/Police contact for/).fill(contact);
    await row.getByRole('button', { name: 'Save' }).click();
    await row.getByRole('status').filter({ hasText: `Saved. Its staff are told to call ${contact}.` }).waitFor();
    await admin.context().close();

    const page = await signedIn('S1009');
    await page.goto(`${BASE}/ui/#/hotlist`);
    await page.locator('#hot-stream-state').filter({ hasText: 'live' }).waitFor();
    const ingest = await fetch(`${BASE}/api/v1/reads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cameraKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ plate: hotListPlate, captured_at: new Date().toISOString(), confidence: 0.95 }),
    });
    check(ingest.status === 201, `ingest answered ${ingest.status}`);
    const item = page.locator('#hot-alerts li.fresh').first();
    await item.waitFor();
    const text = await item.textContent();
    check(site.address && text.includes(`${site.name}, ${site.address}`), `the site and its address: ${text}`);
    check(text.includes(`Call ${contact}.`), `whom to call: ${text}`);
    const cue = await page.locator('#hot-cue').textContent();
    check(cue.includes(site.address) && cue.includes(`Call ${contact}.`), `the cue: ${cue}`);
    await page.context().close();
  });
}
