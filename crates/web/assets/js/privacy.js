// Subject access, for privacy officers (and administrators): a member of the public asks what
// is held about their plate. The server answers with every sighting still held and how many
// police queries touched the plate; queries tied to an open incident are counted but not
// described, and no officer or file number is ever named. The request is itself an access the
// server decides and records.

import { h, fill, field, message, timeEl } from './dom.js';
import { post } from './api.js';

const words = (s) => String(s || '').replaceAll('_', ' ');

export function privacyScreen(main) {
  const plate = h('input#sar-plate', { name: 'plate', required: true, autocomplete: 'off', maxlength: 12 });
  const reference = h('input#sar-reference', { name: 'reference', maxlength: 64 });
  const status = h('div.status-slot', { 'aria-live': 'polite' });
  const out = h('div#sar-result');
  const form = h('form.card', { 'aria-labelledby': 'sar-title' },
    h('h1#sar-title', {}, 'Subject access'),
    h('p.hint', {}, 'What is held about a plate, for the person who asked: its sightings and how many police queries touched it. Queries linked to an open incident are counted, not described.'),
    h('div.row', {},
      field('Plate', plate),
      field('Request reference', reference, 'Your reference for this request (recorded with it)')),
    h('div.actions', {}, h('button.primary', { type: 'submit' }, 'Prepare the answer')), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const p = plate.value.trim();
    if (!p) { fill(status, message('error', 'Please enter the plate the person asked about.')); plate.focus(); return; }
    fill(status, h('p.hint', {}, 'Preparing…'));
    fill(out);
    try {
      const r = await post('/api/v1/reports/subject-access', { plate: p, reference: reference.value.trim() || undefined });
      fill(status);
      show(r);
    } catch (err) {
      fill(status, message('error', err.message));
    }
  });
  fill(main, form, out);

  function show(r) {
    fill(out, h('section.card', { 'aria-labelledby': 'sar-answer' },
      h('h2#sar-answer', {}, `Plate ${r.plate}`, r.reference ? ` — reference ${r.reference}` : ''),
      h('dl.facts', {},
        h('dt', {}, 'Prepared'), h('dd', {}, timeEl(r.generated_at)),
        h('dt', {}, 'Sightings held'), h('dd#sar-reads-held', {}, String(r.reads_held)),
        h('dt', {}, 'Police queries'), h('dd#sar-queries', {}, String(r.queries_total)),
        h('dt', {}, 'Of which withheld'), h('dd', {}, `${r.queries_withheld} (linked to an open incident)`)),
      h('h3', {}, r.reads.length < r.reads_held ? `Sightings (the newest ${r.reads.length})` : 'Sightings'),
      r.reads.length ? h('div.table-wrap.short', {}, h('table#sar-reads', {},
        h('thead', {}, h('tr', {}, ['Seen', 'Site', 'Network', 'District'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, r.reads.map((x) => h('tr', {},
          h('td', {}, timeEl(x.captured_at)), h('td', {}, x.site), h('td', {}, x.network), h('td', {}, x.district))))))
        : message('info', 'No sighting of this plate is held.'),
      h('h3', {}, 'Queries described'),
      r.queries.length ? h('div.table-wrap.short', {}, h('table#sar-query-list', {},
        h('thead', {}, h('tr', {}, ['When', 'Action', 'Outcome', 'Purpose'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, r.queries.map((q) => h('tr', {},
          h('td', {}, timeEl(q.at)), h('td', {}, words(q.action)), h('td', {}, words(q.outcome)), h('td', {}, words(q.purpose_code) || '—'))))))
        : message('info', 'No query can be described.'),
      (r.notes || []).length ? h('ul.notes', {}, r.notes.map((n) => h('li', {}, n))) : null));
  }
}
