// The network auditor's screen (role network_auditor, bound to one network): the police uses
// that touched the network's data, as the audit ledger records them (GET
// /api/v1/networks/{id}/uses: time, kind, purpose code, district, outcome, reads disclosed, a
// pseudonymous officer; never a plate, file number or justification; uses under files still
// open counted, not described), charts of them by month and purpose, the network's own sharing
// controls (GET|PUT /api/v1/networks/{id}/controls) and its monthly statement, where the
// deployment offers one. Every request is an access the server records.

import { h, fill, field, message, timeEl, plural } from './dom.js';
import { get, put, getBlob, qs } from './api.js';
import { barChart, monthName } from './reports.js';

const KINDS = {
  search: 'Search',
  read_view: 'Sighting view',
  image_view: 'Image view',
  export: 'Export',
  tracking_watch: 'Tracking watch',
  alert: 'Alert',
  lookback: 'Look-back',
};

const thisMonth = () => new Date().toISOString().slice(0, 7);

export function networkScreen(main, user) {
  const network = user.network_id;
  if (!network) {
    fill(main, message('error', 'Your account is not bound to a camera network: ask an administrator to set its network.'));
    return null;
  }
  const month = h('input#uses-month', { type: 'month', value: thisMonth(), max: thisMonth() });
  const status = h('div.status-slot');
  const summary = h('p#uses-summary', { role: 'status' });
  const charts = h('div.chart-row#uses-charts');
  const table = h('div#uses-table');
  const statement = h('div#statement');
  const controls = h('div#controls');
  fill(main,
    h('h1', {}, `Police use of network ${network}\u2019s data`),
    h('p.hint', {}, 'Every police use that touched your network\u2019s data, read from the signed audit ledger. Officers appear as pseudonyms that change every month. Uses under files still open are counted, not described.'),
    h('form.inline', { onsubmit: (e) => { e.preventDefault(); load(); } },
      field('Month', month), h('button', { type: 'submit' }, 'Show')),
    status, summary, charts, table,
    h('h2', {}, 'Monthly statement'), statement,
    h('h2', {}, 'Sharing controls'), controls);

  async function load() {
    fill(status);
    const m = month.value || thisMonth();
    try {
      const [view, all] = await Promise.all([
        get(`/api/v1/networks/${network}/uses${qs({ month: m })}`),
        get(`/api/v1/networks/${network}/uses`),
      ]);
      showUses(view, all, m);
      showStatement(m);
    } catch (err) {
      fill(status, message('error', err.message));
    }
  }

  function showUses(view, all, m) {
    fill(summary, `${monthName(m)}: ${plural(view.total_uses, 'use')} of your network\u2019s data, ${plural(view.total_reads_disclosed, 'read')} disclosed; ${view.open_file_uses} under files still open (counted, not described). Ledger entries read: ${view.ledger_size}.`);
    const byMonth = all.by_month.map((t) => [monthName(t.key), t.uses]);
    const byPurpose = view.by_purpose.map((t) => [t.key.replace(/_/g, ' '), t.uses]);
    fill(charts,
      h('div.chart-box', { 'data-by': 'month' }, h('h3', {}, 'Uses by month'), barChart('Uses by month', byMonth)),
      h('div.chart-box', { 'data-by': 'purpose' }, h('h3', {}, `Uses by purpose, ${monthName(m)}`), barChart('Uses by purpose', byPurpose)));
    if (!view.uses.length) {
      fill(table, h('p.hint', {}, 'No use to describe in this month.'));
      return;
    }
    fill(table, h('table#uses', {},
      h('thead', {}, h('tr', {}, ['Time', 'Use', 'Purpose', 'District', 'Outcome', 'Reads disclosed', 'Officer', 'Ledger entry'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, view.uses.slice().reverse().map((u) => h('tr', {},
        h('td', {}, timeEl(u.at)),
        h('td', {}, KINDS[u.kind] || u.kind),
        h('td', {}, u.purpose_code ? u.purpose_code.replace(/_/g, ' ') : '\u2014'),
        h('td', {}, u.district || '\u2014'),
        h('td', {}, u.outcome),
        h('td.num', {}, String(u.reads_disclosed)),
        h('td', {}, h('code', {}, u.officer)),
        h('td.num', {}, String(u.entry)))))));
  }

  async function showStatement(m) {
    const path = `/api/v1/networks/${network}/statement${qs({ month: m })}`;
    try {
      await getBlob(path);
      fill(statement, h('p', {}, h('a#statement-link', { href: path, target: '_blank', rel: 'noopener' }, `The signed statement for ${monthName(m)}`), ' (its counts and the tree head they were computed from).'));
    } catch (err) {
      fill(statement, h('p.hint#statement-missing', {}, err.status === 404
        ? 'This deployment does not offer monthly statements yet.'
        : `The statement could not be fetched: ${err.message}`));
    }
  }

  async function showControls() {
    try {
      const c = await get(`/api/v1/networks/${network}/controls`);
      const suspended = h('input#ctl-suspended', { type: 'checkbox', checked: c.suspended });
      const withheld = h('input#ctl-withheld', { type: 'text', value: c.withheld_purposes.join(', '), placeholder: 'e.g. road_policing' });
      const lookback = h('input#ctl-lookback', { type: 'number', min: 1, max: 3650, value: c.max_lookback_days ?? '' });
      const saved = h('div.status-slot');
      fill(controls,
        h('form', {
          onsubmit: async (e) => {
            e.preventDefault();
            const days = lookback.value.trim();
            try {
              const now = await put(`/api/v1/networks/${network}/controls`, {
                suspended: suspended.checked,
                withheld_purposes: withheld.value.split(',').map((p) => p.trim()).filter(Boolean),
                max_lookback_days: days ? Number(days) : null,
              });
              fill(saved, h('p', { role: 'status' }, `Saved. Sharing is ${now.suspended ? 'suspended' : 'on'}; ${now.max_lookback_days ? `reads older than ${now.max_lookback_days} days are not served` : 'no look-back limit of your own'}.`));
            } catch (err) { fill(saved, message('error', err.message)); }
          },
        },
        h('label.check', {}, suspended, ' Suspend sharing (no new search or watch reaches your data)'),
        field('Purposes you do not share for (codes, comma separated)', withheld),
        field('Maximum look-back, days (empty: none of your own)', lookback),
        h('button', { type: 'submit' }, 'Save controls')), saved);
    } catch (err) {
      fill(controls, message('error', err.message));
    }
  }

  load();
  showControls();
  return null;
}
