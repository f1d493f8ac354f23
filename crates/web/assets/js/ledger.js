// Screen 6: the audit ledger, for auditors. The current signed tree head; its verification in
// the browser (consistency with the previous signed head, every shown entry's leaf hash
// recomputed from its body); an entry browser; and the inclusion proof of any entry, checked
// against the signed root. The Ed25519 signature needs the deployment's public key, handed over
// out of band: `anpr ledger verify-remote` checks it.

import { h, fill, field, message, timeEl, plural } from './dom.js';
import { get, qs } from './api.js';
import { fromHex, leafHash, toHex, verifyConsistency, verifyInclusion } from './merkle.js';

const PAGE = 25;

export function ledgerScreen(main, user, arg) {
  const wanted = arg !== undefined && /^\d+$/.test(arg) ? Number(arg) : null; // #/ledger/123: entry 123
  const headBox = h('section.card', { 'aria-labelledby': 'head-title' }, h('h2#head-title', {}, 'Signed tree head'), h('div.slot', {}, 'Loading…'));
  const verifyBox = h('section.card#verification', { 'aria-labelledby': 'verify-title' }, h('h2#verify-title', {}, 'Verification'), h('div.slot', {}, 'Checking…'));
  const entriesBox = h('section.card', { 'aria-labelledby': 'entries-title' }, h('h2#entries-title', {}, 'Entries'), h('div.slot'));
  const proofBox = h('section.card#proof', { 'aria-labelledby': 'proof-title', 'aria-live': 'polite' }, h('h2#proof-title', {}, 'Inclusion proof'), h('div.slot', {}, h('p.hint', {}, 'Choose “Prove” on an entry.')));
  fill(main, h('h1', {}, 'Audit ledger'), h('div.grid2', {}, headBox, verifyBox), entriesBox, proofBox);
  let head = null;
  let start = 0;

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
    if (wanted !== null && wanted < head.size) start = Math.max(0, Math.min(wanted, head.size - PAGE));
    await Promise.all([verify(), showEntries()]);
  }

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

  async function showEntries() {
    const slot = entriesBox.querySelector('.slot');
    const end = Math.min(head.size, start + PAGE);
    try {
      const entries = await get(`/api/v1/ledger/entries${qs({ from: start, to: end })}`);
      const checks = await Promise.all(entries.map(async (e) => toHex(await leafHash(e.body)) === e.leaf_hash));
      const bad = checks.filter((c) => !c).length;
      const jump = h('input', { type: 'number', id: 'jump-index', min: 0, max: head.size - 1, name: 'index' });
      const rows = entries.slice().reverse().map((e) => {
        let body = {};
        try { body = JSON.parse(e.body); } catch { /* shown raw below */ }
        const action = typeof body.action === 'string' ? body.action : JSON.stringify(body.action);
        const outcome = body.outcome ? `${body.outcome.result}${body.outcome.reason ? `: ${body.outcome.reason}` : ''}` : '';
        const path = body.query && body.query.path ? `${body.query.method || ''} ${body.query.path}` : '';
        return h('tr', {},
          h('td.num', {}, String(e.index)), h('td', {}, timeEl(body.time)),
          h('td', {}, body.actor ? `${body.actor.id} (${body.actor.role})` : ''),
          h('td', {}, action || ''), h('td', {}, body.purpose || ''), h('td', {}, outcome), h('td.path', {}, path),
          h('td', {}, checks[entries.indexOf(e)] ? '✓' : '✗ body does not match its hash'),
          h('td', {}, h('button', { type: 'button', onclick: () => prove(e), 'aria-label': `Prove entry ${e.index}` }, 'Prove')));
      });
      fill(slot,
        bad ? message('error', `${bad} of these entries ${bad === 1 ? 'does' : 'do'} not match ${bad === 1 ? 'its' : 'their'} stored leaf hash: the log may have been altered. Tell the integrity unit and the overseers.`)
          : message('ok', `Entries ${start} to ${end - 1}: every body matches its leaf hash.`),
        h('div.table-wrap', {}, h('table.entries', {},
          h('thead', {}, h('tr', {}, ['#', 'Time (NZ)', 'Actor', 'Action', 'Purpose', 'Outcome', 'Request', 'Hash', ''].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, rows))),
        h('div.actions', {},
          h('button', { type: 'button', disabled: end >= head.size, onclick: () => { start = Math.min(head.size - PAGE, start + PAGE); showEntries(); } }, 'Newer'),
          h('button', { type: 'button', disabled: start === 0, onclick: () => { start = Math.max(0, start - PAGE); showEntries(); } }, 'Older'),
          field('Go to entry', jump),
          h('button', { type: 'button', onclick: () => { const i = Number(jump.value); if (Number.isInteger(i) && i >= 0 && i < head.size) { start = Math.max(0, Math.min(i, head.size - PAGE)); showEntries(); } } }, 'Go')));
    } catch (err) {
      fill(slot, message('error', err.message));
    }
  }

  async function prove(entry) {
    const slot = proofBox.querySelector('.slot');
    fill(slot, 'Checking…');
    try {
      const proof = await get(`/api/v1/ledger/proof/inclusion${qs({ index: entry.index, size: head.size })}`);
      const leaf = await leafHash(entry.body);
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
