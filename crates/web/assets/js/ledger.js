// Screen 6: the audit ledger, for auditors. The current signed tree head; its verification in
// the browser (consistency with the previous signed head, every shown entry's leaf hash
// recomputed from its body); an entry browser, page by page or filtered by who acted, what
// they did and when (the server finds the entries: the browser never pages through the whole
// log); and the inclusion proof of any entry, checked against the signed root. #/ledger/123
// (an integrity case's evidence) opens the page holding entry 123, scrolled to it and marked.
// The Ed25519 signature needs the deployment's public key, handed over out of band:
// `anpr ledger verify-remote` checks it.

import { h, fill, field, message, timeEl, plural, nzLocalToUtc } from './dom.js';
import { get, qs } from './api.js';
import { ACTION_NAMES, actionName } from './actions.js';
import { entryLeafHash, fromHex, toHex, verifyConsistency, verifyInclusion } from './merkle.js';

const PAGE = 25;

/** An outcome in words: granted, refused (with the policy's reason), failed, waiting. */
const OUTCOME_WORDS = { granted: 'granted', refused: 'refused', error: 'failed', pending: 'waiting for a decision' };

/** The start of NZ day `date` (an <input type=date> value) as an RFC 3339 instant. */
const nzDayStart = (date) => (date ? nzLocalToUtc(`${date}T00:00`) : undefined);

/** The day after `date` (yyyy-mm-dd), for an end of range that includes the whole day. */
function nextDay(date) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

export function ledgerScreen(main, user, arg) {
  const wanted = arg !== undefined && /^\d+$/.test(arg) ? Number(arg) : null; // #/ledger/123: entry 123
  const headBox = h('section.card', { 'aria-labelledby': 'head-title' }, h('h2#head-title', {}, 'Signed tree head'), h('div.slot', {}, 'Loading…'));
  const verifyBox = h('section.card#verification', { 'aria-labelledby': 'verify-title' }, h('h2#verify-title', {}, 'Verification'), h('div.slot', {}, 'Checking…'));
  const actor = h('input', { id: 'filter-actor', name: 'actor', autocomplete: 'off', maxlength: 64, placeholder: 'S1003' });
  const action = h('select', { id: 'filter-action', name: 'action' }, h('option', { value: '' }, 'Any action'),
    Object.entries(ACTION_NAMES).sort(([, a], [, b]) => a.localeCompare(b)).map(([code, words]) => h('option', { value: code }, words)));
  const fromDay = h('input', { type: 'date', id: 'filter-from', name: 'from' });
  const toDay = h('input', { type: 'date', id: 'filter-to', name: 'to' });
  const filterStatus = h('div.status-slot', { 'aria-live': 'polite' });
  const clear = h('button', { type: 'button', onclick: () => { filterForm.reset(); filter = null; fill(filterStatus); showEntries(); } }, 'Show all entries');
  const filterForm = h('form#ledger-filters', { novalidate: true, 'aria-labelledby': 'filters-title' },
    h('h3#filters-title', {}, 'Find entries'),
    h('div.row', {},
      field('Who acted (staff id)', actor, 'a staff id, a camera, or system'),
      field('Action', action),
      field('From (NZ date)', fromDay),
      field('To (NZ date, inclusive)', toDay)),
    h('div.actions', {}, h('button.primary', { type: 'submit' }, 'Find'), clear),
    filterStatus);
  filterForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (fromDay.value && toDay.value && fromDay.value > toDay.value) {
      fill(filterStatus, message('error', 'The From date is after the To date. Swap them or change one, then find again.'));
      fromDay.focus();
      return;
    }
    fill(filterStatus);
    const f = {
      actor: actor.value.trim(), action: action.value,
      since: nzDayStart(fromDay.value), until: toDay.value ? nzDayStart(nextDay(toDay.value)) : undefined,
    };
    filter = Object.values(f).some((v) => v) ? f : null;
    showEntries();
  });
  const entriesBox = h('section.card', { 'aria-labelledby': 'entries-title' }, h('h2#entries-title', {}, 'Entries'), filterForm, h('div.slot'));
  const proofBox = h('section.card#proof', { 'aria-labelledby': 'proof-title', 'aria-live': 'polite' }, h('h2#proof-title', {}, 'Inclusion proof'), h('div.slot', {}, h('p.hint', {}, 'Choose “Prove” on an entry.')));
  fill(main, h('h1', {}, 'Audit ledger'), h('div.grid2', {}, headBox, verifyBox), entriesBox, proofBox);
  let head = null;
  let start = 0;
  let filter = null; // the filters found with, or null: every entry, page by page
  let marked = wanted; // the entry opened by its link, marked on its page

  async function load() {
    try {
      head = await get('/api/v1/ledger/tree-head');
    } catch (err) {
      fill(headBox.querySelector('.slot'), message('error', err.message));
      fill(verifyBox.querySelector('.slot'));
      return;
    }
    fill(headBox.querySelector('.slot'), h('dl.facts', {},
      h('dt', {}, 'Entries'), h('dd#head-size', {}, String(head.size)),
      h('dt', {}, 'Root hash'), h('dd.hash', {}, head.root_hash),
      h('dt', {}, 'Signed'), h('dd', {}, timeEl(head.timestamp)),
      h('dt', {}, 'Key id'), h('dd.hash', {}, head.key_id),
      h('dt', {}, 'Signature'), h('dd.hash', {}, head.signature)));
    start = Math.max(0, head.size - PAGE);
    // The page holding the wanted entry, with the entry in its middle.
    if (wanted !== null && wanted < head.size) start = pageAround(wanted);
    await Promise.all([verify(), showEntries()]);
    // The verification above may have changed height meanwhile: bring the entry back into view.
    showMarked(entriesBox.querySelector('.slot'));
  }

  const pageAround = (i) => Math.max(0, Math.min(i - Math.floor(PAGE / 2), head.size - PAGE));

  async function verify() {
    const slot = verifyBox.querySelector('.slot');
    try {
      const heads = await get('/api/v1/ledger/tree-heads');
      const earlier = heads.filter((x) => x.size > 0 && x.size < head.size).pop();
      if (!earlier) {
        fill(slot, message('info', 'This is the first signed head: nothing earlier to check it against yet.'));
        return;
      }
      const proof = await get(`/api/v1/ledger/proof/consistency${qs({ from: earlier.size, to: head.size })}`);
      const ok = await verifyConsistency(earlier.size, head.size, fromHex(earlier.root_hash), fromHex(head.root_hash), proof.hashes);
      fill(slot, ok
        ? message('ok', `Verified: the log of ${plural(head.size, 'entry', 'entries')} extends the earlier signed head of ${plural(earlier.size, 'entry', 'entries')} (consistency proof of ${plural(proof.hashes.length, 'hash', 'hashes')} checked in this browser). ${plural(heads.length, 'signed head')} ${heads.length === 1 ? 'is' : 'are'} kept.`)
        : message('error', `Verification failed: the log does not extend the earlier signed head of ${plural(earlier.size, 'entry', 'entries')}. The log may have been altered: tell the integrity unit and the overseers, and keep this page as it is.`),
      h('p.hint', {}, 'The signatures are checked with the deployment\u2019s public key by anpr ledger verify-remote.'));
    } catch (err) {
      fill(slot, message('error', err.message));
    }
  }

  /** The table of `entries` (newest first), each body checked against its leaf hash. */
  async function entryTable(entries) {
    const checks = await Promise.all(entries.map(async (e) => toHex(await entryLeafHash(e.body)) === e.leaf_hash));
    const bad = checks.filter((c) => !c).length;
    const rows = entries.map((e, k) => {
      let body = {};
      try { body = JSON.parse(e.body); } catch { /* shown raw in the proof */ }
      const code = typeof body.action === 'string' ? body.action : '';
      const outcome = body.outcome ? `${OUTCOME_WORDS[body.outcome.result] || body.outcome.result}${body.outcome.reason ? `: ${body.outcome.reason}` : ''}` : '';
      const current = e.index === marked;
      return h(`tr${current ? '.current' : ''}`, { 'data-index': e.index, 'data-action': code, 'aria-current': current ? 'true' : null },
        h('td.num', {}, String(e.index)), h('td', {}, timeEl(body.time)),
        h('td', {}, body.actor ? `${body.actor.id} (${String(body.actor.role || '').replaceAll('_', ' ').replaceAll(',', ', ')})` : ''),
        h('td', {}, actionName(code)), h('td', {}, body.purpose ? body.purpose.replaceAll('_', ' ') : ''), h('td', {}, outcome),
        h('td', {}, checks[k] ? '✓' : '✗ body does not match its hash'),
        h('td', {}, h('button', { type: 'button', onclick: () => prove(e), 'aria-label': `Prove entry ${e.index}` }, 'Prove')));
    });
    return [
      bad ? message('error', `${bad} of these entries ${bad === 1 ? 'does' : 'do'} not match ${bad === 1 ? 'its' : 'their'} stored leaf hash: the log may have been altered. Tell the integrity unit and the overseers.`) : null,
      h('div.table-wrap', {}, h('table.entries', {},
        h('thead', {}, h('tr', {}, ['#', 'Time (NZ)', 'Who', 'Action', 'Purpose', 'Outcome', 'Hash', ''].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, rows))),
    ];
  }

  /** Brings the marked entry into view, once its page is shown. */
  function showMarked(slot) {
    const row = slot.querySelector('tr.current');
    if (row) row.scrollIntoView({ block: 'center' });
  }

  async function showEntries(before) {
    const slot = entriesBox.querySelector('.slot');
    if (filter) { await showFound(slot, before); return; }
    const end = Math.min(head.size, start + PAGE);
    try {
      const entries = await get(`/api/v1/ledger/entries${qs({ from: start, to: end })}`);
      const jump = h('input', { type: 'number', id: 'jump-index', min: 0, max: head.size - 1, name: 'index' });
      const table = await entryTable(entries.slice().reverse());
      fill(slot,
        table[0] || message('ok', `Entries ${start} to ${end - 1}: every body matches its leaf hash.`),
        table[1],
        h('div.actions', {},
          h('button', { type: 'button', disabled: end >= head.size, onclick: () => { start = Math.min(head.size - PAGE, start + PAGE); showEntries(); } }, 'Newer'),
          h('button', { type: 'button', disabled: start === 0, onclick: () => { start = Math.max(0, start - PAGE); showEntries(); } }, 'Older'),
          field('Go to entry', jump),
          h('button', { type: 'button', onclick: () => { const i = Number(jump.value); if (Number.isInteger(i) && i >= 0 && i < head.size) { marked = i; start = pageAround(i); showEntries(); } } }, 'Go')));
      showMarked(slot);
    } catch (err) {
      fill(slot, message('error', err.message));
    }
  }

  /** The entries matching the filters, newest first, 25 at a time. */
  async function showFound(slot, before) {
    try {
      const found = await get(`/api/v1/ledger/search${qs({ ...filter, before, limit: PAGE })}`);
      const table = await entryTable(found.entries);
      const more = found.next_before !== null && found.next_before !== undefined;
      const count = found.entries.length;
      fill(slot,
        table[0] || message(count ? 'ok' : 'info', count
          ? `${plural(count, 'entry', 'entries')} found${before !== undefined ? ' further back' : ''}, newest first: every body matches its leaf hash.`
          : `No entry found${more ? ` among the ${plural(found.scanned, 'entry', 'entries')} looked at` : ''}.`),
        count ? table[1] : null,
        h('div.actions', {},
          more ? h('button#older-matches', { type: 'button', onclick: () => showEntries(found.next_before) }, count ? 'Older matches' : 'Look further back') : null));
    } catch (err) {
      fill(slot, message('error', err.message));
    }
  }

  async function prove(entry) {
    const slot = proofBox.querySelector('.slot');
    fill(slot, 'Checking…');
    try {
      const proof = await get(`/api/v1/ledger/proof/inclusion${qs({ index: entry.index, size: head.size })}`);
      const leaf = await entryLeafHash(entry.body);
      const ok = toHex(leaf) === proof.leaf_hash
        && await verifyInclusion(entry.index, head.size, leaf, proof.hashes, fromHex(head.root_hash));
      fill(slot,
        ok ? message('ok', `Verified: entry ${entry.index} is in the signed tree of ${plural(head.size, 'entry', 'entries')} (root ${head.root_hash.slice(0, 16)}…), by ${plural(proof.hashes.length, 'hash', 'hashes')} checked in this browser.`)
          : message('error', `Not verified: entry ${entry.index} is not proven to be in the signed tree. The log may have been altered: tell the integrity unit and the overseers.`),
        h('details', {}, h('summary', {}, 'Audit path'), h('ol.hashes', {}, proof.hashes.map((x) => h('li.hash', {}, x)))),
        h('details', {}, h('summary', {}, 'Entry body (canonical JSON)'), h('pre.body', {}, entry.body)));
      proofBox.scrollIntoView({ block: 'nearest' });
    } catch (err) {
      fill(slot, message('error', err.message));
    }
  }

  load();
}
