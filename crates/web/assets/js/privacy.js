// Subject access, for privacy officers (and administrators): a member of the public asks what
// is held about their plate. The request needs its reference and how the person's identity was
// checked (and by whom); a plate connected to the officer (theirs, their household's, a declared
// associate's) is refused — someone else handles it — and each officer answers a limited number
// a day. The server answers with every sighting still held up to the near-live window (newer
// ones are withheld, and it says so) and how many police queries touched the plate; queries tied
// to an open incident are counted but not described, and no officer or file number is ever
// named. The request is itself an access the server decides and records.

import { h, fill, field, message, timeEl } from './dom.js';
import { post } from './api.js';

const words = (s) => String(s || '').replaceAll('_', ' ');

// The identity checks the policy accepts by default (a deployment may configure others; the
// server names them when it refuses one).
const IDENTITY_METHODS = [
  ['passport', 'Passport'],
  ['driver_licence', 'Driver licence'],
  ['firearms_licence', 'Firearms licence'],
  ['kiwi_access_card', 'Kiwi Access card'],
  ['realme_verified_identity', 'RealMe verified identity'],
];

export function privacyScreen(main, user) {
  const plate = h('input#sar-plate', { name: 'plate', required: true, autocomplete: 'off', maxlength: 12 });
  const reference = h('input#sar-reference', { name: 'reference', required: true, maxlength: 64 });
  const method = h('select#sar-identity-method', { name: 'identity_method', required: true },
    h('option', { value: '' }, 'Choose how it was checked'),
    IDENTITY_METHODS.map(([value, label]) => h('option', { value }, label)));
  const checkedBy = h('input#sar-identity-by', { name: 'identity_checked_by', required: true, maxlength: 64, autocomplete: 'off', value: (user && user.staff_id) || '' });
  const status = h('div.status-slot', { 'aria-live': 'polite' });
  const out = h('div#sar-result');
  const form = h('form.card', { 'aria-labelledby': 'sar-title' },
    h('h1#sar-title', {}, 'Subject access'),
    h('p.hint', {}, 'What is held about a plate, for the person who asked: its sightings and how many police queries touched it. Queries linked to an open incident are counted, not described; sightings from the last half hour are withheld. A plate connected to you (yours, your household\u2019s, a declared associate\u2019s) must be handled by someone else.'),
    h('div.row', {},
      field('Plate', plate),
      field('Request reference', reference, 'Your reference for this request (required; recorded with it)')),
    h('div.row', {},
      field('Identity checked with', method, 'How you checked that the person asking is the vehicle\u2019s owner or acts for them'),
      field('Identity checked by', checkedBy, 'Staff id of whoever checked it')),
    h('div.actions', {}, h('button.primary', { type: 'submit' }, 'Prepare the answer')), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const p = plate.value.trim();
    if (!p) { fill(status, message('error', 'Please enter the plate the person asked about.')); plate.focus(); return; }
    const ref = reference.value.trim();
    if (!ref) { fill(status, message('error', 'Please enter the reference of this request.')); reference.focus(); return; }
    if (!method.value) { fill(status, message('error', 'Please say how the person\u2019s identity was checked.')); method.focus(); return; }
    const by = checkedBy.value.trim();
    if (!by) { fill(status, message('error', 'Please enter the staff id of whoever checked the identity.')); checkedBy.focus(); return; }
    fill(status, h('p.hint', {}, 'Preparing…'));
    fill(out);
    try {
      const r = await post('/api/v1/reports/subject-access', {
        plate: p,
        reference: ref,
        identity_checked: { method: method.value, by },
      });
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
        r.reads_until ? [h('dt', {}, 'Sightings up to'), h('dd#sar-reads-until', {}, timeEl(r.reads_until), ' (newer ones withheld)')] : null,
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
