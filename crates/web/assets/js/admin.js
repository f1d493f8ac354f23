// Screen 7: administration. Users and roles; networks and their sharing agreements; sites on
// the map; cameras and their keys (shown once, at creation); register imports with progress.

import { h, fill, field, message } from './dom.js';
import { api, get, post, put, qs } from './api.js';
import { nzMap, pointMarker, toLatLng, unshiftLon } from './map.js';

/** The deployment's police districts (the only ones the server accepts), as select options. */
async function districtOptions(select) {
  const { districts } = await get('/api/v1/districts');
  select.append(...districts.map((d) => h('option', { value: d }, d)));
}
const districtSelect = (attrs) => h('select', { ...attrs, required: true }, h('option', { value: '' }, 'Choose the district'));

const L = window.L;
const ROLES = ['searcher', 'tracker', 'supervisor', 'integrity', 'auditor', 'admin', 'privacy_officer', 'network_operator', 'network_auditor'];
// A camera network's own staff: works for one network, and holds no other role.
const OPERATOR = 'network_operator';
const NETWORK_AUDITOR = 'network_auditor';
const SITE_KINDS = ['fuel_station', 'supermarket', 'mall', 'retail', 'car_park', 'other'];
const REGISTERS = ['vehicles', 'staff', 'associates', 'stolen', 'incidents'];
const TABS = [['users', 'Users'], ['networks', 'Networks'], ['sites', 'Sites'], ['cameras', 'Cameras'], ['registers', 'Registers']];

export function adminScreen(main, user) {
  const panel = h('div.tab-panel', { role: 'tabpanel', tabindex: 0 });
  const tabs = TABS.map(([id, label]) => h('button.tab', { type: 'button', role: 'tab', id: `tab-${id}`, 'aria-selected': 'false' }, label));
  const tablist = h('div.tabs', { role: 'tablist', 'aria-label': 'Administration' }, tabs);
  fill(main, h('h1', {}, 'Administration'), tablist, panel);
  const show = (i) => {
    tabs.forEach((t, j) => { t.setAttribute('aria-selected', String(i === j)); t.tabIndex = i === j ? 0 : -1; });
    panel.setAttribute('aria-labelledby', tabs[i].id);
    fill(panel);
    ({ users, networks, sites, cameras, registers })[TABS[i][0]](panel, user);
  };
  tabs.forEach((t, i) => {
    t.addEventListener('click', () => show(i));
    t.addEventListener('keydown', (e) => {
      const d = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
      if (d) { const j = (i + d + tabs.length) % tabs.length; tabs[j].focus(); show(j); }
    });
  });
  show(0);
}

const say = (slot, kind, text) => fill(slot, message(kind, text));

// --- users ---------------------------------------------------------------------------------

async function users(panel, me) {
  const list = h('div.slot');
  const status = h('div.status-slot');
  const f = {
    staff_id: h('input', { name: 'new_staff_id', id: 'new-staff-id', required: true }),
    name: h('input', { name: 'new_name', id: 'new-name', required: true }),
    district: districtSelect({ name: 'new_district', id: 'new-district' }),
    badge: h('input', { name: 'new_badge', id: 'new-badge' }),
    password: h('input', { name: 'new_password', id: 'new-password', type: 'password', minlength: 12, required: true, autocomplete: 'new-password' }),
  };
  const roleBoxes = ROLES.map((r) => h('input', { type: 'checkbox', name: 'new_roles', value: r }));
  const network = h('select#new-network', { name: 'new_network', disabled: true }, h('option', { value: '' }, 'Choose the network'));
  const operatorBox = roleBoxes.find((b) => b.value === OPERATOR);
  const auditorBox = roleBoxes.find((b) => b.value === NETWORK_AUDITOR);
  // A network operator or network auditor holds no other role and must name their network;
  // the server checks both.
  const bound = () => operatorBox.checked || auditorBox.checked;
  const operatorChosen = () => {
    const chosen = operatorBox.checked ? operatorBox : auditorBox.checked ? auditorBox : null;
    for (const b of roleBoxes) if (b !== chosen) { b.disabled = Boolean(chosen); if (chosen) b.checked = false; }
    network.disabled = !chosen;
    network.required = Boolean(chosen);
  };
  operatorBox.addEventListener('change', operatorChosen);
  auditorBox.addEventListener('change', operatorChosen);
  get('/api/v1/networks').then((nets) => network.append(...nets.map((n) => h('option', { value: n.id }, `${n.name} (id ${n.id})`)))).catch(() => {});
  districtOptions(f.district).catch((err) => say(status, 'error', err.message));
  const form = h('form.card', { 'aria-labelledby': 'new-user-title' }, h('h2#new-user-title', {}, 'Add a user'),
    h('div.row', {}, field('Staff id', f.staff_id), field('Name', f.name), field('District', f.district), field('Badge number', f.badge)),
    h('fieldset', {}, h('legend', {}, 'Roles'), h('div.row.radios', {}, roleBoxes.map((b) => h('label.inline', {}, b, ` ${b.value}`)))),
    field('Network (network operators and auditors only)', network, 'A network_operator works for this camera network and receives its vehicle-of-interest alerts; a network_auditor sets its sharing controls. Either holds no other role.'),
    field('Initial password', f.password, 'At least 12 characters'),
    h('div.actions', {}, h('button.primary', { type: 'submit' }, 'Add user')), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const u = await post('/api/v1/users', {
        staff_id: f.staff_id.value, name: f.name.value, district: f.district.value,
        badge_number: f.badge.value || undefined, password: f.password.value,
        roles: roleBoxes.filter((b) => b.checked).map((b) => b.value),
        network_id: bound() && network.value ? Number(network.value) : undefined,
      });
      // Cleared for the next user, so nobody is created twice by a second click.
      form.reset();
      operatorChosen();
      say(status, 'ok', `User ${u.staff_id} created with roles ${u.roles.join(', ')} (${u.name}, ${u.district}). The form is cleared for the next user.`);
      // Ready for the next user by keyboard, with the confirmation in view.
      f.staff_id.focus({ preventScroll: true });
      status.scrollIntoView({ block: 'nearest' });
      load();
    } catch (err) { say(status, 'error', err.message); }
  });
  fill(panel, h('section.card', { 'aria-labelledby': 'users-title' }, h('h2#users-title', {}, 'Users and roles'), list), form);

  async function load() {
    try {
      const all = await get('/api/v1/users');
      fill(list, h('div.table-wrap', {}, h('table', {},
        h('thead', {}, h('tr', {}, ['Staff id', 'Name', 'District', 'Roles', 'Account', ''].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, all.map((u) => userRow(u, me, load))))));
    } catch (err) { say(list, 'error', err.message); }
  }
  load();
}

function userRow(u, me, reload) {
  const rowStatus = h('div.status-slot');
  const boxes = ROLES.map((r) => h('input', { type: 'checkbox', value: r, checked: u.roles.includes(r), 'aria-label': `${r} for ${u.staff_id}`, disabled: u.staff_id === me.staff_id }));
  // Saved in place (no reload), so the confirmation stays beside the roles it confirms.
  const save = async () => {
    try {
      const saved = await put(`/api/v1/users/${encodeURIComponent(u.staff_id)}/roles`, { roles: boxes.filter((b) => b.checked).map((b) => b.value) });
      u.roles = saved.roles;
      boxes.forEach((b) => { b.checked = saved.roles.includes(b.value); });
      say(rowStatus, 'ok', `Roles of ${saved.staff_id} saved: ${saved.roles.join(', ')}.`);
    } catch (err) { say(rowStatus, 'error', err.message); }
  };
  const toggle = async () => {
    try { await put(`/api/v1/users/${encodeURIComponent(u.staff_id)}/active`, { active: !u.active }); reload(); } catch (err) { say(rowStatus, 'error', err.message); }
  };
  const self = u.staff_id === me.staff_id;
  return h('tr', {},
    h('td', {}, u.staff_id), h('td', {}, u.name), h('td', {}, u.district),
    h('td', {}, h('div.role-boxes', {}, boxes.map((b) => h('label.inline', {}, b, ` ${b.value}`))), rowStatus),
    h('td', {}, u.active ? 'active' : 'disabled'),
    h('td', {}, self ? h('span.hint', {}, 'you') : [
      h('button', { type: 'button', onclick: save }, 'Save roles'), ' ',
      h('button', { type: 'button', class: u.active ? 'danger' : '', onclick: toggle }, u.active ? 'Disable' : 'Enable')]));
}

// --- networks and agreements ---------------------------------------------------------------

async function networks(panel) {
  const list = h('div.slot');
  const status = h('div.status-slot');
  const name = h('input', { name: 'network_name', id: 'network-name', required: true });
  const days = h('input', { type: 'number', name: 'retention_days', id: 'retention-days', min: 1, max: 3650, value: 60 });
  const form = h('form.card', { 'aria-labelledby': 'new-network-title' }, h('h2#new-network-title', {}, 'Add a network'),
    h('div.row', {}, field('Name', name), field('Retention (days)', days)), h('div.actions', {}, h('button.primary', { type: 'submit' }, 'Add network')), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try { const n = await post('/api/v1/networks', { name: name.value, retention_days: Number(days.value) }); form.reset(); say(status, 'ok', `Network ${n.name} added (id ${n.id}). Set its sharing agreement and police contact in the table above.`); load(); } catch (err) { say(status, 'error', err.message); }
  });
  fill(panel, h('section.card', { 'aria-labelledby': 'networks-title' }, h('h2#networks-title', {}, 'Networks and sharing agreements'),
    h('p.hint', {}, 'Each network states which districts may search its reads and which may track on them (* for all), and whether its own staff (network operators) are alerted when a plate on the stolen-vehicle hot list passes its cameras.'), list), form);

  async function load() {
    try {
      const [nets, agreements] = await Promise.all([get('/api/v1/networks'), get('/api/v1/agreements')]);
      fill(list, h('div.table-wrap', {}, h('table', {},
        h('thead', {}, h('tr', {}, ['Id', 'Network', 'Retention', 'Search by', 'Tracking by', 'Hot-list alerts', 'Police contact for its staff', ''].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, nets.map((n) => {
          const a = agreements.find((x) => x.network_id === n.id) || { search: [], tracking: [] };
          const search = h('input', { value: a.search.join(', '), 'aria-label': `Districts that may search ${n.name}` });
          const tracking = h('input', { value: a.tracking.join(', '), 'aria-label': `Districts that may track on ${n.name}` });
          // Sent back with every save: leaving it out would switch the network's alerts off.
          const hotList = h('input', { type: 'checkbox', checked: !!a.hot_list_alerts, 'aria-label': `Vehicle-of-interest alerts for ${n.name}\u2019s own staff` });
          // Whom the network's operators call at the police: shown in each of their alerts.
          const contact = h('input', { value: n.police_contact || '', maxlength: 300, placeholder: 'e.g. Hamilton Police, 07 555 0100', 'aria-label': `Police contact for ${n.name}\u2019s staff` });
          const rowStatus = h('div.status-slot');
          const split = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
          const save = async () => {
            try {
              await put(`/api/v1/networks/${n.id}/agreement`, { search: split(search.value), tracking: split(tracking.value), hot_list_alerts: hotList.checked });
              const saved = await put(`/api/v1/networks/${n.id}/police-contact`, { police_contact: contact.value });
              say(rowStatus, 'ok', `Saved. ${saved.police_contact ? `Its staff are told to call ${saved.police_contact}.` : 'No police contact: its staff are told to ask you whom to call.'}`);
            } catch (err) { say(rowStatus, 'error', err.message); }
          };
          return h('tr', {}, h('td', {}, String(n.id)), h('td', {}, n.name), h('td', {}, `${n.retention_days} days`),
            h('td', {}, search), h('td', {}, tracking), h('td', {}, hotList), h('td', {}, contact), h('td', {}, h('button', { type: 'button', onclick: save }, 'Save'), rowStatus));
        })))));
    } catch (err) { say(list, 'error', err.message); }
  }
  load();
}

// --- sites on the map ----------------------------------------------------------------------

async function sites(panel) {
  const mapEl = h('div#sites-map');
  const list = h('div.slot');
  const status = h('div.status-slot');
  const netSelect = h('select', { name: 'site_network', id: 'site-network', required: true });
  const f = {
    name: h('input', { name: 'site_name', id: 'site-name', required: true }),
    kind: h('select', { name: 'site_kind', id: 'site-kind' }, SITE_KINDS.map((k) => h('option', { value: k }, k.replace('_', ' ')))),
    address: h('input', { name: 'site_address', id: 'site-address', required: true }),
    district: districtSelect({ name: 'site_district', id: 'site-district' }),
    lat: h('input', { type: 'number', step: 'any', name: 'site_lat', id: 'site-lat', required: true }),
    lon: h('input', { type: 'number', step: 'any', name: 'site_lon', id: 'site-lon', required: true }),
  };
  const form = h('form.card', { 'aria-labelledby': 'new-site-title' }, h('h2#new-site-title', {}, 'Add a site'),
    h('p.hint', {}, 'Click the map to place it, or type its position.'),
    h('div.row', {}, field('Network', netSelect), field('Name', f.name), field('Kind', f.kind)),
    h('div.row', {}, field('Address', f.address), field('Police district', f.district)),
    h('div.row', {}, field('Latitude', f.lat), field('Longitude', f.lon)),
    h('div.actions', {}, h('button.primary', { type: 'submit' }, 'Add site')), status);
  fill(panel, h('div.split', {}, h('div', {}, form, h('section.card', { 'aria-labelledby': 'sites-title' }, h('h2#sites-title', {}, 'Sites'), list)), h('div.map-col', {}, mapEl)));
  districtOptions(f.district).catch((err) => say(status, 'error', err.message));
  const map = await nzMap(mapEl, { label: 'Camera sites' });
  const layer = L.layerGroup().addTo(map);
  let pin = null;
  const placePin = (latlng) => {
    if (pin) pin.remove();
    pin = pointMarker(latlng, { color: '#1d4ed8', label: 'New site' }).addTo(map);
  };
  map.on('click', (e) => {
    f.lat.value = Math.round(e.latlng.lat * 1e5) / 1e5;
    f.lon.value = unshiftLon(Math.round(e.latlng.lng * 1e5) / 1e5);
    placePin(e.latlng);
  });
  // A typed position moves the pin too, once both numbers are on the globe.
  const typed = () => {
    const lat = Number(f.lat.value), lon = Number(f.lon.value);
    if (f.lat.value === '' || f.lon.value === '' || !(Math.abs(lat) <= 90) || !(Math.abs(lon) <= 180)) return;
    const latlng = toLatLng({ lat, lon });
    placePin(latlng);
    map.panTo(latlng);
  };
  f.lat.addEventListener('input', typed);
  f.lon.addEventListener('input', typed);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const s = await post('/api/v1/sites', {
        network_id: Number(netSelect.value), name: f.name.value, kind: f.kind.value, address: f.address.value,
        district: f.district.value, location: { lat: Number(f.lat.value), lon: Number(f.lon.value) },
      });
      form.reset();
      if (pin) { pin.remove(); pin = null; }
      say(status, 'ok', `Site ${s.name} added in ${s.district} (id ${s.id}). The form is cleared for the next site.`);
      load();
    } catch (err) { say(status, 'error', err.message); }
  });
  async function load() {
    try {
      const [nets, all] = await Promise.all([get('/api/v1/networks'), get('/api/v1/sites')]);
      fill(netSelect, nets.map((n) => h('option', { value: n.id }, n.name)));
      layer.clearLayers();
      all.forEach((s) => pointMarker(toLatLng(s.location), { color: '#2e7d32', radius: 5, label: `${s.name} (${s.district})` }).addTo(layer));
      const netName = (id) => (nets.find((n) => n.id === id) || {}).name || id;
      fill(list, h('p', {}, `${all.length} sites.`), h('div.table-wrap.short', {}, h('table', {},
        h('thead', {}, h('tr', {}, ['Id', 'Site', 'Kind', 'District', 'Network'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, all.map((s) => h('tr', {}, h('td', {}, String(s.id)), h('td', {}, s.name), h('td', {}, s.kind.replace('_', ' ')), h('td', {}, s.district), h('td', {}, String(netName(s.network_id)))))))));
    } catch (err) { say(list, 'error', err.message); }
  }
  load();
}

// --- cameras and their keys ----------------------------------------------------------------

async function cameras(panel) {
  const list = h('div.slot');
  const status = h('div.status-slot');
  const site = h('select', { name: 'camera_site', id: 'camera-site', required: true });
  const name = h('input', { name: 'camera_name', id: 'camera-name', required: true });
  const heading = h('input', { type: 'number', name: 'camera_heading', id: 'camera-heading', min: 0, max: 359 });
  const form = h('form.card', { 'aria-labelledby': 'new-camera-title' }, h('h2#new-camera-title', {}, 'Add a camera'),
    h('div.row', {}, field('Site', site), field('Name', name), field('Heading (degrees)', heading)),
    h('div.actions', {}, h('button.primary', { type: 'submit' }, 'Add camera')), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const made = await post('/api/v1/cameras', { site_id: Number(site.value), name: name.value, heading_deg: heading.value ? Number(heading.value) : null });
      const key = h('code#new-camera-key.key', {}, made.api_key);
      fill(status, h('div.msg.msg-warn.key-once', { role: 'status' },
        h('p', {}, `Camera ${made.camera.id} (${made.camera.name}) added. Its API key is shown this once — only its hash is kept. Copy it into the camera now:`),
        key,
        h('button', { type: 'button', onclick: () => navigator.clipboard && navigator.clipboard.writeText(made.api_key) }, 'Copy key')));
      name.value = '';
      heading.value = '';
      load();
    } catch (err) { say(status, 'error', err.message); }
  });
  fill(panel, form, h('section.card', { 'aria-labelledby': 'cameras-title' }, h('h2#cameras-title', {}, 'Cameras'), list));
  async function load() {
    try {
      const [sitesAll, cams] = await Promise.all([get('/api/v1/sites'), get('/api/v1/cameras')]);
      fill(site, sitesAll.map((s) => h('option', { value: s.id }, `${s.name} (${s.district})`)));
      const siteName = (id) => (sitesAll.find((s) => s.id === id) || {}).name || id;
      fill(list, h('div.table-wrap.short', {}, h('table', {},
        h('thead', {}, h('tr', {}, ['Id', 'Camera', 'Site', 'Heading', 'Status'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, cams.map((c) => h('tr', {}, h('td', {}, String(c.id)), h('td', {}, c.name), h('td', {}, String(siteName(c.site_id))),
          h('td', {}, c.heading_deg === null || c.heading_deg === undefined ? '—' : `${c.heading_deg}°`), h('td', {}, c.active ? 'active' : 'inactive')))))));
    } catch (err) { say(list, 'error', err.message); }
  }
  load();
}

// --- registers -----------------------------------------------------------------------------

/** Rows per upload: each upload is one all-or-nothing batch on the server. */
const CHUNK_ROWS = 5000;

/** Splits a CSV (header kept on every chunk), a JSON array or JSON lines into upload chunks. */
function chunksOf(text, isCsv) {
  if (isCsv) {
    const lines = text.split(/\r?\n/).filter((l) => l.trim());
    const [header, ...rows] = lines;
    const out = [];
    for (let i = 0; i < rows.length; i += CHUNK_ROWS) out.push([header, ...rows.slice(i, i + CHUNK_ROWS)].join('\n'));
    return out;
  }
  const trimmed = text.trim();
  const rows = trimmed.startsWith('[') ? JSON.parse(trimmed) : trimmed.split(/\r?\n/).filter((l) => l.trim()).map((l) => JSON.parse(l));
  const out = [];
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) out.push(JSON.stringify(rows.slice(i, i + CHUNK_ROWS)));
  return out;
}

async function registers(panel) {
  const counts = h('div.slot');
  const status = h('div.status-slot');
  const kind = h('select', { name: 'register', id: 'register-kind' }, REGISTERS.map((r) => h('option', { value: r }, r)));
  const source = h('input', { name: 'source', id: 'register-source', required: true, placeholder: 'NZTA MVR 2026-11-01' });
  const file = h('input', { type: 'file', name: 'file', id: 'register-file', accept: '.csv,.json,.jsonl,text/csv,application/json', required: true });
  const progress = h('progress#import-progress', { max: 1, value: 0, 'aria-label': 'Import progress' });
  const form = h('form.card', { 'aria-labelledby': 'import-title' }, h('h2#import-title', {}, 'Import a register'),
    h('p.hint', {}, 'CSV with a header row, a JSON array or JSON lines. Rows are upserted by key and every change is recorded with its source. Large files go in batches of 5,000 rows.'),
    h('div.row', {}, field('Register', kind), field('Source', source), field('File', file)),
    h('div.actions', {}, h('button.primary', { type: 'submit' }, 'Import'), progress), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = file.files[0];
    if (!f || !source.value.trim()) { say(status, 'error', 'Choose a file and name its source.'); return; }
    const isCsv = f.name.toLowerCase().endsWith('.csv') || f.type === 'text/csv';
    let chunks;
    try { chunks = chunksOf(await f.text(), isCsv); } catch (err) { say(status, 'error', `The file could not be read: ${err.message}`); return; }
    if (!chunks.length) { say(status, 'error', 'The file holds no rows.'); return; }
    const total = { inserted: 0, updated: 0, unchanged: 0, stopped: 0 };
    progress.max = chunks.length;
    progress.value = 0;
    for (let i = 0; i < chunks.length; i += 1) {
      try {
        const r = await api('POST', `/api/v1/registers/${kind.value}${qs({ source: source.value.trim() })}`, chunks[i], { contentType: isCsv ? 'text/csv' : 'application/json' });
        total.inserted += r.inserted; total.updated += r.updated; total.unchanged += r.unchanged; total.stopped += r.stopped.length;
        progress.value = i + 1;
        say(status, 'info', `Batch ${i + 1} of ${chunks.length} loaded…`);
      } catch (err) {
        // A file the server cannot read is explained by the server in words that name its
        // columns exactly as the file must spell them: shown as they are.
        const why = err.field === 'file' && err.reason ? `${err.reason} Correct the file and import it again.` : err.message;
        say(status, 'error', `Batch ${i + 1} of ${chunks.length} was refused (earlier batches are stored; importing the file again is safe). ${why}`);
        return;
      }
    }
    say(status, 'ok', `Imported into ${kind.value}: ${total.inserted} new, ${total.updated} updated, ${total.unchanged} unchanged${total.stopped ? `; ${total.stopped} tracking authorisations stopped` : ''}.`);
    load();
  });
  fill(panel, h('section.card', { 'aria-labelledby': 'counts-title' }, h('h2#counts-title', {}, 'Registers'), counts), form);
  async function load() {
    try {
      const c = await get('/api/v1/registers');
      fill(counts, h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Register'), h('th', { scope: 'col' }, 'Rows'))),
        h('tbody', {}, c.map((x) => h('tr', {}, h('td', {}, x.register), h('td.num', { 'data-register': x.register }, x.rows.toLocaleString('en-NZ')))))));
    } catch (err) { say(counts, 'error', err.message); }
  }
  load();
}
