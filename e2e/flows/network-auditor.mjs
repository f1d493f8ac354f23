// End-to-end flow of the network auditor's screen (issue 28, item 6), run by run.mjs with its
// helpers: `flow`, `signedIn`, `check`, `shot`, the server's `BASE` URL, and what must never
// show on it (the plates searched and the file searched under).

export async function networkAuditorFlows({ flow, signedIn, check, shot, BASE, never }) {
  await flow('network auditor: its network\u2019s uses from the ledger, charts, controls and statement', async () => {
    const page = await signedIn('S1010');
    await page.goto(`${BASE}/ui/#/network`);
    // The earlier flows searched network 1's reads: those uses are counted.
    const summary = page.locator('#uses-summary');
    await summary.filter({ hasText: 'of your network\u2019s data' }).waitFor();
    const text = await summary.textContent();
    const uses = Number((/: ([\d,]+) uses? of/.exec(text)?.[1] ?? '0').replace(/,/g, ''));
    check(uses >= 1, `uses counted: ${text}`);
    check(text.includes('under files still open'), `open files counted, not described: ${text}`);
    // Charts by month and by purpose, drawn as SVG.
    await page.locator('.chart-box[data-by="month"] svg.chart, .chart-box[data-by="month"] p.hint').first().waitFor();
    await page.locator('.chart-box[data-by="purpose"] svg.chart, .chart-box[data-by="purpose"] p.hint').first().waitFor();
    check(await page.locator('.chart-box[data-by="month"] svg.chart').count() === 1, 'a chart of uses by month');
    // Described uses name an officer by pseudonym only.
    const officers = await page.locator('#uses tbody td code').allTextContents();
    check(officers.every((o) => /^officer-[0-9a-f]{16}$/.test(o)), `pseudonyms: ${officers.join(' ')}`);
    const body = await page.locator('main').textContent();
    for (const secret of never) check(!body.includes(secret), `${secret} shown to the network auditor`);
    check(!/S10\d\d/.test(body.replace('S1010', '')), 'no staff id shown');
    // The monthly statement: a link, or a plain word that there is none yet.
    await page.locator('#statement-link, #statement-missing').first().waitFor();
    // Its own controls: a look-back of its own, saved and cleared again.
    await page.locator('#ctl-lookback').fill('400');
    await page.getByRole('button', { name: 'Save controls' }).click();
    await page.getByRole('status').filter({ hasText: 'reads older than 400 days are not served' }).waitFor();
    await shot(page, '20-network-auditor');
    await page.locator('#ctl-lookback').fill('');
    await page.getByRole('button', { name: 'Save controls' }).click();
    await page.getByRole('status').filter({ hasText: 'no look-back limit of your own' }).waitFor();
    await page.context().close();
  });
}
