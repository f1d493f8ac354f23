// Screen 2: historical search. The purpose (incident file, purpose, justification) is part of
// the form and checked before the search is sent; the server's policy decides and, when it
// refuses, says why. Results as a table with plate thumbnails and as points on the map, a page
// at a time (Previous and Next; the total is the whole search's); a row or point opens the read
// with its images. The thumbnails come inside the search's answer, seen under its one decision;
// an opened read and each of its images are fetched through the API with the search's purpose,
// so each view is decided and recorded like any other. The form is kept for the tab.

import { h, fill, field, message, timeEl, nzTime, nzLocalToUtc, utcToNzLocal, plural } from './dom.js';
import { api, get, getImageUrl, purposeHeader } from './api.js';
import { nzMap, areaPicker, pointMarker, clusterLayer, toLatLng, fitTo } from './map.js';
import { purposeFieldset, keepPurpose, MIN_JUSTIFICATION } from './purpose.js';
import { tidy } from './messages.js';

const PAGE_SIZE = 20;
const KEPT = 'anpr-search';

function keptForm() {
  try { return JSON.parse(sessionStorage.getItem(KEPT)) || {}; } catch { return {}; }
}

export function searchScreen(main) {
  const plate = h('input', { name: 'plate', id: 'plate', required: true, autocomplete: 'off', autocapitalize: 'characters', maxlength: 40 });
  const mode = h('select', { name: 'mode', id: 'mode' },
    h('option', { value: '' }, 'Automatic (exact, or wildcard with ? *)'),
    h('option', { value: 'exact' }, 'Exact'),
    h('option', { value: 'wildcard' }, 'Wildcard'),
    h('option', { value: 'fuzzy' }, 'Fuzzy (OCR confusions)'));
  const edits = h('select', { name: 'max_edits', id: 'max-edits' }, [0, 1, 2].map((n) => h('option', { value: n, selected: n === 1 }, String(n))));
  const from = h('input', { type: 'datetime-local', name: 'from', id: 'from', value: utcToNzLocal(Date.now() - 7 * 86400000) });
  const to = h('input', { type: 'datetime-local', name: 'to', id: 'to' });
  const networksBox = h('fieldset.networks', {}, h('legend', {}, 'Networks'), h('p.hint', {}, 'Loading…'));
  const purpose = purposeFieldset('search');
  const kept = keptForm();
  if (kept.plate) plate.value = kept.plate;
  if (kept.mode) mode.value = kept.mode;
  if (kept.max_edits !== undefined) edits.value = kept.max_edits;
  if (kept.from !== undefined) from.value = kept.from;
  if (kept.to !== undefined) to.value = kept.to;
  const mapEl = h('div#search-map');
  const status = h('div.status-slot');
  const submit = h('button.primary', { type: 'submit' }, 'Search');
  const results = h('section.results', { 'aria-labelledby': 'results-title', 'aria-live': 'polite' });
  const form = h('form.card.search-form', { 'aria-labelledby': 'search-title', novalidate: true },
    h('h1#search-title', {}, 'Search plate reads'),
    h('div.row', {},
      field('Plate', plate, 'ABC123 exact; AB?12* wildcard'),
      field('Match', mode),
      field('Fuzzy edits', edits, 'Beyond OCR confusions')),
    h('div.row', {}, field('From (NZ time)', from), field('To (NZ time)', to, 'Empty: until now')),
    networksBox,
    h('div.area-slot'),
    purpose.element,
    h('div.actions', {}, submit),
    status);
  fill(main, h('div.split', {}, form, h('div.map-col', {}, mapEl)), results);

  let map = null;
  let picker = null;
  let points = null;
  let networkBoxes = [];
  // The search shown: its body without a cursor, and the cursor of each page reached so far
  // (the first page has none), so that Previous asks for the page before again.
  let shown = null;
  const ready = nzMap(mapEl, { label: 'Search area and results map' }).then((m) => {
    map = m;
    picker = areaPicker(map);
    form.querySelector('.area-slot').replaceWith(picker.element);
    points = clusterLayer(map, { noun: 'read' });
  });
  get('/api/v1/networks').then((networks) => {
    networkBoxes = networks.map((n) => h('input', { type: 'checkbox', name: 'network', value: n.id, checked: true }));
    fill(networksBox, h('legend', {}, 'Networks'),
      h('div.row.radios', {}, networks.map((n, i) => h('label.inline', {}, networkBoxes[i], ` ${n.name}`))));
  }).catch((err) => fill(networksBox, h('legend', {}, 'Networks'), message('error', err.message)));

  /** Completeness checks before anything is sent; the policy decides the rest. */
  function check(p) {
    if (!plate.value.trim()) return [plate, 'Enter a plate.'];
    if (!p.file_number) return [purpose.control('file_number'), 'Choose the incident file this search is for.'];
    if (!p.code) return [purpose.control('code'), 'Choose the purpose of this search.'];
    if (p.justification.length < MIN_JUSTIFICATION) return [purpose.control('justification'), `Write a justification of at least ${MIN_JUSTIFICATION} characters.`];
    return null;
  }

  /** The control a refusal names, to put the cursor there. */
  function controlOf(fieldName) {
    if (!fieldName) return null;
    if (fieldName.startsWith('purpose.')) return purpose.control(fieldName.slice('purpose.'.length));
    return { plate, mode, max_edits: edits, from, to }[fieldName] || null;
  }

  /** A new search from the form. */
  async function search() {
    const p = purpose.value();
    const problem = check(p);
    if (problem) {
      fill(status, message('error', problem[1]));
      problem[0].focus();
      return;
    }
    keepPurpose(p);
    sessionStorage.setItem(KEPT, JSON.stringify({
      plate: plate.value, mode: mode.value, max_edits: edits.value, from: from.value, to: to.value,
    }));
    await ready;
    const chosen = networkBoxes.filter((b) => b.checked).map((b) => Number(b.value));
    const body = {
      plate: plate.value.trim(),
      mode: mode.value || undefined,
      max_edits: mode.value === 'fuzzy' ? Number(edits.value) : undefined,
      from: nzLocalToUtc(from.value),
      to: nzLocalToUtc(to.value),
      area: picker.value(),
      network_ids: chosen.length === networkBoxes.length ? [] : chosen,
      limit: PAGE_SIZE,
      thumbnails: true,
      purpose: p,
    };
    await fetchPage({ body, cursors: [undefined] }, 0);
  }

  /** Page `index` of search `s` (whose cursors reach at least that far). */
  async function fetchPage(s, index) {
    submit.disabled = true;
    fill(status, message('info', 'Searching…'));
    try {
      const page = await api('POST', '/api/v1/searches', { ...s.body, cursor: s.cursors[index] });
      s.cursors = s.cursors.slice(0, index + 1);
      if (page.next_cursor) s.cursors.push(page.next_cursor);
      shown = s;
      fill(status);
      show(page, s.body.purpose, index);
    } catch (err) {
      fill(status, h('div.refusal', {}, message('error', err.message)));
      fill(results);
      points.clearLayers();
      const control = controlOf(err.field);
      if (control) control.focus();
    } finally {
      submit.disabled = false;
    }
  }

  function show(page, p, index) {
    points.clearLayers();
    const latlngs = [];
    const rows = page.hits.map((hit) => {
      const ll = toLatLng(hit.location);
      latlngs.push(ll);
      const open = () => openRead(hit, p);
      pointMarker(ll, { label: `${hit.plate_raw} — ${hit.site_name}, ${nzTime(hit.captured_at)}`, site: hit.site_name }).on('click', open).addTo(points);
      // The thumbnail came with the page (no request, no view of its own); a crop too large
      // to come inline is seen by opening the read.
      const thumb = hit.plate_thumbnail
        ? h('img.thumb', { src: hit.plate_thumbnail, alt: `Plate crop of read ${hit.id}`, width: 96, height: 32 })
        : h('span.hint', {}, hit.plate_url ? 'open the read' : 'no image');
      return h('tr', {},
        h('td', {}, timeEl(hit.captured_at)),
        h('td.plate', {}, hit.plate_raw),
        h('td', {}, thumb),
        h('td', {}, hit.site_name),
        h('td', {}, hit.district),
        h('td', {}, hit.network_name),
        h('td.num', {}, `${Math.round(hit.confidence * 100)}%`),
        h('td', {}, h('button', { type: 'button', onclick: open, 'aria-label': `Open read ${hit.id} of ${hit.plate_raw}` }, 'Open')));
    });
    fitTo(map, latlngs);
    const notices = (page.policy.notices || []).map((n) => message(n.withheld ? 'warn' : 'info', tidyNotice(n.message)));
    const first = index * PAGE_SIZE + 1;
    const last = index * PAGE_SIZE + page.hits.length;
    const pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
    const title = h('h2#results-title', { tabindex: -1 }, plural(page.total, 'read'),
      page.plates_matched > 1 ? ` of ${plural(page.plates_matched, 'plate')}` : '',
      page.policy.training ? ' (training data)' : '');
    const pager = h('nav.pager', { 'aria-label': 'Result pages' },
      h('button', { type: 'button', disabled: index === 0, onclick: () => fetchPage(shown, index - 1) }, 'Previous page'),
      h('span.page-of', {}, `Page ${index + 1} of ${pages}`),
      h('button', { type: 'button', disabled: !page.next_cursor, onclick: () => fetchPage(shown, index + 1) }, 'Next page'));
    fill(results,
      title,
      page.hits.length ? h('p.hint#results-range', {}, `Reads ${first}\u2013${last} of ${page.total}, newest first`) : null,
      notices,
      page.hits.length
        ? h('div.table-wrap', {}, h('table.hits', {},
          h('caption.sr-only', {}, 'Search results, newest first'),
          h('thead', {}, h('tr', {}, ['Seen (NZ time)', 'Plate', 'Image', 'Site', 'District', 'Network', 'Confidence', ''].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, rows)))
        : message('info', 'No reads match. Widen the time range or the area, or check the plate.'),
      page.total > PAGE_SIZE || index > 0 ? pager : null);
    // The results start below the form: bring them into view, and the reader's focus to them.
    title.scrollIntoView({ block: 'start' });
    title.focus({ preventScroll: true });
  }

  form.addEventListener('submit', (e) => { e.preventDefault(); search(); });
  plate.focus();
}

/** A policy notice in plain words (the policy's own wording, without code marks). */
function tidyNotice(text) {
  const s = tidy(text);
  return s ? `${s[0].toUpperCase()}${s.slice(1)}.` : '';
}


/** The read and its images in a dialog; the read and each image are fetched through the API. */
async function openRead(hit, p) {
  const body = h('div.read-body', {}, message('info', 'Loading…'));
  const close = h('button', { type: 'button' }, 'Close');
  const dialog = h('dialog.read', { 'aria-labelledby': 'read-title' },
    h('h2#read-title', {}, `Read ${hit.id}: ${hit.plate_raw}`), body, h('div.actions', {}, close));
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
  try {
    // The purpose goes in a header, never in the URL (where access logs would keep the
    // justification); each image is fetched with it and shown from a data: URL.
    const headers = purposeHeader(p);
    const read = hit.id > 0 ? await api('GET', `/api/v1/reads/${hit.id}`, undefined, { headers }) : hit;
    const img = (kind, present) => {
      if (!present || hit.id <= 0) return null;
      const caption = h('figcaption', {}, kind === 'plate' ? 'Plate' : 'Scene');
      const figure = h('figure', { 'aria-busy': 'true' }, caption);
      // The image joins the figure once it has arrived, whole.
      getImageUrl(`/api/v1/reads/${hit.id}/image/${kind}`, { headers })
        .then((url) => figure.prepend(h('img', { src: url, alt: `${kind === 'plate' ? 'Plate' : 'Scene'} image of read ${hit.id}` })))
        .catch((err) => caption.append(' — ', err.message))
        .finally(() => figure.removeAttribute('aria-busy'));
      return figure;
    };
    fill(body,
      h('dl.facts', {},
        h('dt', {}, 'Seen'), h('dd', {}, timeEl(read.captured_at)),
        h('dt', {}, 'Plate as read'), h('dd.plate', {}, read.plate_raw),
        h('dt', {}, 'Site'), h('dd', {}, `${hit.site_name} (${hit.district})`),
        h('dt', {}, 'Network'), h('dd', {}, hit.network_name),
        h('dt', {}, 'Camera'), h('dd', {}, String(read.camera_id)),
        h('dt', {}, 'Confidence'), h('dd', {}, `${Math.round(read.confidence * 100)}%`),
        h('dt', {}, 'Legal hold'), h('dd', {}, read.legal_hold ? 'yes' : 'no')),
      h('div.images', {}, img('overview', read.overview_image), img('plate', read.plate_image)),
      h('p.hint', {}, 'This view and each image are recorded in the audit ledger with your purpose.'));
  } catch (err) {
    fill(body, message('error', err.message));
  }
}
