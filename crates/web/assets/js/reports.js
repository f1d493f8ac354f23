// Screen 5: reports, for overseers (auditor, supervisor, integrity, admin: permission
// view_reports). Usage counts by month, district, purpose and network drawn as SVG bar charts;
// the month's transparency report as the public will see it (its small counts already
// suppressed by the server); the usage rows as CSV and the report as its HTML page, downloaded
// through the session cookie. Every report fetched is an access the server records.

import { h, fill, field, message, svg, timeEl } from './dom.js';
import { get, getBlob, qs } from './api.js';

// The usage report's measures, in its column order, with the words the README uses for them.
const MEASURES = [
  ['searches', 'Searches'],
  ['read_views', 'Sighting views'],
  ['image_views', 'Image views'],
  ['tracking_requests', 'Tracking requests'],
  ['tracking_approvals', 'Tracking approvals'],
  ['tracking_refusals', 'Tracking refusals'],
  ['alerts', 'Alerts'],
  ['denied_attempts', 'Refused attempts'],
  ['own_vehicle_blocks', 'Own-vehicle blocks'],
  ['findings_opened', 'Findings opened'],
  ['findings_closed', 'Findings closed'],
];
const GROUPINGS = [['month', 'By month'], ['district', 'By district'], ['purpose', 'By purpose'], ['network', 'By network']];

/** "YYYY-MM" of the UTC month `delta` months from now (reports count calendar months in UTC). */
function monthOf(delta = 0) {
  const now = new Date();
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + delta, 1));
  return d.toISOString().slice(0, 7);
}

/** Fetches `path` with the session cookie and hands it to the browser as a file download. */
async function download(path, filename) {
  const url = URL.createObjectURL(await getBlob(path));
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** A horizontal bar chart of [label, value, text?] items as inline SVG, each figure written beside
 *  its bar (`text` when the figure is not a plain count, e.g. "<5"). Drawn at its own size in
 *  CSS pixels (its box scrolls rather than shrinking it), so its 13 px text stays 13 px. */
export function barChart(title, items) {
  if (!items.length) return h('p.hint', {}, `${title}: nothing counted in this period.`);
  const labelW = 220, barW = 230, rowH = 26, valueW = 60;
  const max = Math.max(1, ...items.map(([, v]) => v));
  const width = labelW + barW + valueW, height = items.length * rowH + 4;
  const chart = svg('svg.chart', {
    viewBox: `0 0 ${width} ${height}`, width, height,
    role: 'img', 'aria-label': `${title}: ${items.map(([l, v, t]) => `${l} ${t ?? v}`).join(', ')}`,
  }, svg('title', {}, title));
  items.forEach(([label, value, text], i) => {
    const y = i * rowH + 2;
    const w = value > 0 ? Math.max(2, (value / max) * barW) : 0;
    chart.append(
      svg('text.chart-label', { x: labelW - 8, y: y + rowH / 2 + 5, 'text-anchor': 'end' }, label.length > 30 ? `${label.slice(0, 29)}…` : label),
      svg('rect.chart-bar', { x: labelW, y: y + 3, width: w.toFixed(1), height: rowH - 6, rx: 2 }, svg('title', {}, `${label}: ${text ?? value}`)),
      svg('text.chart-value', { x: labelW + w + 6, y: y + rowH / 2 + 5 }, text ?? String(value)));
  });
  return chart;
}

/** Every month "YYYY-MM" from `from` to `to`, both included. */
export function monthsBetween(from, to) {
  const out = [];
  let [y, m] = from.split('-').map(Number);
  const [ty, tm] = to.split('-').map(Number);
  while (y < ty || (y === ty && m <= tm)) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    m += 1;
    if (m > 12) { m = 1; y += 1; }
  }
  return out;
}

/** "Nov 2026" for "2026-11". */
export const monthName = (ym) => new Date(`${ym}-01T00:00:00Z`).toLocaleDateString('en-NZ', { month: 'short', year: 'numeric', timeZone: 'UTC' });

/** Sums `measure` over a report's rows per period (by month: every month of `months`, a month
 *  without use at zero) or per group (otherwise, named by the report's labels: purposes by
 *  name, not code). */
function series(report, measure, months) {
  const sums = new Map();
  if (report.by === 'month') for (const m of months) sums.set(m, 0);
  for (const row of report.rows) {
    const key = report.by === 'month' ? row.period : (row.group || '(none)');
    sums.set(key, (sums.get(key) || 0) + (row[measure] || 0));
  }
  const items = [...sums.entries()];
  if (report.by === 'month') {
    items.sort((a, b) => a[0].localeCompare(b[0]));
    return items.map(([m, v]) => [monthName(m), v]);
  }
  items.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const labels = report.labels || {};
  return items.map(([k, v]) => [labels[k] || (k === '(none)' ? 'None stated' : k), v]);
}

export function reportsScreen(main) {
  const from = h('input#usage-from', { type: 'month', value: monthOf(-11), required: true });
  const to = h('input#usage-to', { type: 'month', value: monthOf(0), required: true });
  const measure = h('select#usage-measure', {}, MEASURES.map(([v, l]) => h('option', { value: v }, l)));
  const csvBy = h('select#usage-csv-by', {}, GROUPINGS.map(([v, l]) => h('option', { value: v }, l)));
  const usageStatus = h('div.status-slot', { 'aria-live': 'polite' });
  const totals = h('div#usage-totals');
  const charts = h('div.charts#usage-charts');
  const month = h('input#transparency-month', { type: 'month', value: monthOf(0), required: true });
  const transparencyStatus = h('div.status-slot', { 'aria-live': 'polite' });
  const preview = h('div#transparency-preview');
  let reports = null; // the four usage reports last fetched, by grouping
  let months = []; // every month of the period they cover

  const usageForm = h('form', { onsubmit: (e) => { e.preventDefault(); loadUsage(); } },
    h('div.row', {},
      field('From (month)', from),
      field('To (month, included)', to),
      field('Measure charted', measure)),
    h('div.actions', {},
      h('button.primary', { type: 'submit' }, 'Show usage'),
      field('CSV rows', csvBy),
      h('button', { type: 'button', onclick: downloadCsv }, 'Download CSV')));
  measure.addEventListener('change', draw);

  const transparencyForm = h('form', { onsubmit: (e) => { e.preventDefault(); loadTransparency(); } },
    h('div.row', {}, field('Month', month)),
    h('div.actions', {},
      h('button.primary', { type: 'submit' }, 'Preview report'),
      h('button', { type: 'button', onclick: downloadHtml }, 'Download HTML page')));

  fill(main,
    h('h1', {}, 'Reports'),
    h('section.card', { 'aria-labelledby': 'usage-title' },
      h('h2#usage-title', {}, 'Usage'),
      h('p.hint', {}, 'Counts of use per calendar month (UTC). By network, a search counts once for each network it reached. Training plates never count.'),
      usageForm, usageStatus, totals, charts),
    h('section.card', { 'aria-labelledby': 'transparency-title' },
      h('h2#transparency-title', {}, 'Transparency report'),
      h('p.hint', {}, 'The public report of one month: national figures, districts where safe, 24 months of trend. Counts from 1 to 4 show as “<5”; figures that would let one be worked out are withheld.'),
      transparencyForm, transparencyStatus, preview));

  function range() {
    if (!from.value || !to.value) throw new Error('Please choose both months of the period.');
    if (from.value > to.value) throw new Error('The period ends before it starts: choose a “To” month on or after the “From” month.');
    return { from: from.value, to: to.value };
  }

  async function loadUsage() {
    fill(usageStatus, h('p.hint', {}, 'Counting…'));
    try {
      const period = range();
      const fetched = await Promise.all(GROUPINGS.map(([by]) => get(`/api/v1/reports/usage${qs({ ...period, by })}`)));
      reports = Object.fromEntries(GROUPINGS.map(([by], i) => [by, fetched[i]]));
      months = monthsBetween(period.from, period.to);
      fill(usageStatus, ...(reports.month.notes || []).map((n) => h('p.hint', {}, n)));
      draw();
    } catch (err) {
      reports = null;
      fill(usageStatus, message('error', err.message));
      fill(totals);
      fill(charts);
    }
  }

  function draw() {
    if (!reports) return;
    const t = reports.month.totals;
    fill(totals, h('div.table-wrap', {}, h('table.usage-totals', {},
      h('caption.sr-only', {}, 'Totals over the period'),
      h('thead', {}, h('tr', {}, h('th', {}, 'Measure'), h('th', {}, 'Total'))),
      h('tbody', {}, MEASURES.map(([name, label]) => h('tr', { 'data-measure': name },
        h('th', { scope: 'row' }, label), h('td.num', {}, String(t[name] ?? 0))))))));
    const label = MEASURES.find(([name]) => name === measure.value)[1];
    fill(charts, GROUPINGS.map(([by, title]) => h('figure.chart-box', { 'data-by': by },
      h('figcaption', {}, `${label} — ${title.toLowerCase()}`),
      barChart(`${label} ${title.toLowerCase()}`, series(reports[by], measure.value, months)))));
  }

  async function downloadCsv() {
    fill(usageStatus, h('p.hint', {}, 'Preparing the CSV…'));
    try {
      const period = range();
      await download(`/api/v1/reports/usage${qs({ ...period, by: csvBy.value, format: 'csv' })}`,
        `usage-${period.from}-to-${period.to}-by-${csvBy.value}.csv`);
      fill(usageStatus, message('ok', 'CSV downloaded.'));
    } catch (err) {
      fill(usageStatus, message('error', err.message));
    }
  }

  async function loadTransparency() {
    fill(transparencyStatus, h('p.hint', {}, 'Loading…'));
    try {
      if (!month.value) throw new Error('Please choose the month.');
      const report = await get(`/api/v1/reports/transparency${qs({ month: month.value })}`);
      fill(transparencyStatus);
      showTransparency(report);
    } catch (err) {
      fill(transparencyStatus, message('error', err.message));
      fill(preview);
    }
  }

  async function downloadHtml() {
    try {
      if (!month.value) throw new Error('Please choose the month.');
      await download(`/api/v1/reports/transparency${qs({ month: month.value, format: 'html' })}`, `transparency-${month.value}.html`);
      fill(transparencyStatus, message('ok', 'HTML page downloaded.'));
    } catch (err) {
      fill(transparencyStatus, message('error', err.message));
    }
  }

  function showTransparency(r) {
    const measures = r.measures || [];
    const withheld = new Set(r.district_breakdown_withheld || []);
    const trendMeasure = measures.find((m) => m.name === measure.value) || measures[0];
    const trendItems = trendMeasure
      ? (r.trend || []).map((p) => [monthName(p.month), p.figures[trendMeasure.name]]) : [];
    fill(preview,
      h('h3#transparency-heading', {}, r.title || `Transparency report, ${r.month_name}`),
      h('p.hint', {}, 'Generated ', timeEl(r.generated_at), `. Counts below ${r.suppression_threshold} are suppressed.`),
      h('div.table-wrap', {}, h('table.national', {},
        h('caption', {}, `National figures, ${r.month_name}`),
        h('thead', {}, h('tr', {}, h('th', {}, 'Measure'), h('th', {}, 'Count'), h('th', {}, 'What it counts'))),
        h('tbody', {}, measures.map((m) => h('tr', { 'data-measure': m.name },
          h('th', { scope: 'row' }, m.label), h('td.num', {}, String(r.national[m.name])), h('td', {}, m.description)))))),
      h('div.table-wrap', {}, h('table.districts', {},
        h('caption', {}, 'By police district'),
        h('thead', {}, h('tr', {}, h('th', {}, 'District'), measures.map((m) => h('th', {}, m.label)))),
        h('tbody', {}, (r.districts || []).map((d) => h('tr', {},
          h('th', { scope: 'row' }, d.district),
          measures.map((m) => h('td.num', {}, withheld.has(m.name) ? 'withheld' : String(d.figures[m.name])))))))),
      trendMeasure ? h('figure.chart-box', {},
        h('figcaption', {}, `Trend: ${trendMeasure.label.toLowerCase()} per month (months with “<5” have no bar)`),
        barChart(`Trend of ${trendMeasure.label.toLowerCase()}`, trendItems.map(([m, v]) => (typeof v === 'number' ? [m, v] : [m, 0, String(v)])))) : null,
      (r.notes || []).length ? h('ul.notes', {}, r.notes.map((n) => h('li', {}, n))) : null);
  }

  loadUsage();
  loadTransparency();
}
