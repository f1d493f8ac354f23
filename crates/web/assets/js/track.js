// Screen 3: tracking. Request tracking with its basis; the supervisor's approval queue; the
// caller's authorisations; and the live view of an active watch: alerts arriving by
// Server-Sent Events (the session cookie authenticates the EventSource), a visual cue and an
// optional sound, the car's path on the map, the time left (and an emergency's time left to be
// approved), stop and renew (the request form filled in as the watch was asked for). When the
// watch ends — stopped here, revoked, expired — the view says so and stops: no countdown, no
// stream.

import { h, fill, field, message, timeEl, nzTime, nzTimesIn, timeLeft, plural } from './dom.js';
import { get, post } from './api.js';
import { nzMap, pointMarker, clusterLayer, toLatLng, fitTo } from './map.js';
import { purposeFieldset, keepPurpose, MIN_JUSTIFICATION, incidentWords } from './purpose.js';
import { tidy } from './messages.js';

const L = window.L;
const MIN_REASON = 10;
/** How often the live view asks whether its watch still runs (an end made elsewhere). */
const RECHECK_MS = 60000;

export function trackScreen(main, user) {
  const isTracker = user.roles.includes('tracker');
  const isSupervisor = user.roles.includes('supervisor');
  const sections = [];
  // A supervisor sees their district's authorisations (their own among them), not only their own.
  const mine = h('section.card', { 'aria-labelledby': 'mine-title' }, h('h2#mine-title', {}, isSupervisor ? 'Authorisations in your district' : 'Your authorisations'), h('div.slot'));
  const queue = h('section.card#approval-queue', { 'aria-labelledby': 'queue-title' }, h('h2#queue-title', {}, 'Waiting for your decision'), h('div.slot'));
  if (isTracker) sections.push(requestForm(() => refresh()));
  if (isSupervisor) sections.push(queue);
  sections.push(mine);
  const again = h('button', { type: 'button', onclick: () => refresh() }, 'Refresh lists');
  fill(main, h('div.live-head', {}, h('h1', {}, 'Tracking'), again), h('div.stack', {}, sections));

  async function refresh() {
    const loads = [get('/api/v1/tracking').then((list) => fill(mine.querySelector('.slot'), authorisationTable(list, refresh)))];
    if (isSupervisor) {
      loads.push(get('/api/v1/tracking?queue=true').then((list) => {
        fill(queue.querySelector('.slot'), queueTable(list, refresh));
        announceQueue(list.length);
      }));
    }
    await Promise.all(loads.map((p) => p.catch((err) => main.append(message('error', err.message)))));
  }
  refresh();
}

/** The request form; `renews`, an authorisation of the user's, fills it in as that was asked. */
function requestForm(onDone, renews) {
  const plate = h('input', { name: 'track_plate', id: 'track-plate', required: true, autocomplete: 'off', autocapitalize: 'characters', maxlength: 12, value: renews ? renews.plate : '' });
  const purpose = purposeFieldset('track', { tracking: true });
  const emergency = h('input', { type: 'checkbox', name: 'emergency', id: 'track-emergency', disabled: !!renews });
  const fuzzy = h('input', { type: 'checkbox', name: 'fuzzy', id: 'track-fuzzy', checked: !!(renews && renews.fuzzy) });
  const hours = h('input', {
    type: 'number', name: 'hours', id: 'track-hours', min: 1, max: 168, step: 1, placeholder: 'maximum',
    value: renews && renews.duration_minutes ? Math.round(renews.duration_minutes / 60) : undefined,
  });
  if (renews) {
    // The same file, purpose and justification as the watch it renews (a renewal rests on the
    // same basis); the officer may still change any of it.
    purpose.ready.then(() => purpose.set({
      code: renews.purpose_code, file_number: renews.file_number, justification: renews.justification,
    }));
  }
  const status = h('div.status-slot');
  const submit = h('button.primary', { type: 'submit' }, renews ? 'Request renewal' : 'Request tracking');
  const form = h('form.card', { 'aria-labelledby': 'request-title', novalidate: true },
    h('h2#request-title', {}, renews ? `Renew tracking of ${renews.plate}` : 'Request tracking'),
    h('p.hint', {}, 'The basis must be in the registers: an active stolen report under this file, or a supervisor\u2019s approval. Threat to life may start at once and stops unless approved within the hour.'),
    h('div.row', {}, field('Plate', plate), field('Duration (hours)', hours, '48 h at most on a stolen report, 7 days otherwise')),
    purpose.element,
    h('div.row.radios', {},
      h('label.inline', {}, emergency, renews ? ' Emergency (not for a renewal)' : ' Emergency (threat to life)'),
      h('label.inline', {}, fuzzy, ' Also OCR look-alike plates')),
    h('div.actions', {}, submit), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const p = purpose.value();
    const problem = !plate.value.trim() ? [plate, 'Enter a plate.']
      : !p.file_number ? [purpose.control('file_number'), 'Choose the incident file this request is for.']
        : !p.code ? [purpose.control('code'), 'Choose the purpose.']
          : p.justification.length < MIN_JUSTIFICATION ? [purpose.control('justification'), `Write a justification of at least ${MIN_JUSTIFICATION} characters.`] : null;
    if (problem) { fill(status, message('error', problem[1])); problem[0].focus(); return; }
    keepPurpose(p);
    submit.disabled = true;
    try {
      const a = await post('/api/v1/tracking', {
        plate: plate.value.trim(), purpose: p, emergency: emergency.checked, fuzzy: fuzzy.checked,
        duration_minutes: hours.value ? Number(hours.value) * 60 : undefined,
        renews: renews ? renews.id : undefined,
      });
      fill(status, a.status === 'active'
        ? message('ok', `Tracking of ${a.plate} is active (authorisation ${a.id}) until ${nzTime(a.expires_at)}. `,
          awaitsApproval(a) ? `It stops unless a supervisor approves it by ${nzTime(a.approval_deadline)}. ` : '',
          h('a', { href: `#/track/${a.id}` }, 'Open the live view'))
        : message('info', `Request ${a.id} for ${a.plate} waits for a supervisor: ${a.approval_reasons.map((r) => nzTimesIn(tidy(r))).join('; ')}.`));
      onDone();
    } catch (err) {
      fill(status, message('error', err.message));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function statusBadge(a) {
  return h(`span.badge.badge-${a.status}`, {}, a.status);
}

/** Whether an emergency watch still waits for a supervisor's approval. */
const awaitsApproval = (a) => a.status === 'active' && a.basis === 'emergency' && !a.decided_at && a.approval_deadline;

function authorisationTable(list, refresh) {
  const tracking = list.filter((a) => a.kind === 'tracking' || !a.kind);
  if (!tracking.length) return message('info', 'None yet.');
  return h('div.table-wrap', {}, h('table', {},
    h('thead', {}, h('tr', {}, ['#', 'Plate', 'Status', 'Basis', 'File', 'Requested by', 'Requested', 'Ends', ''].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, tracking.map((a) => h('tr', {},
      h('td', {}, String(a.id)), h('td.plate', {}, a.plate), h('td', {}, statusBadge(a)),
      h('td', {}, a.basis.replaceAll('_', ' ')), h('td', {}, a.file_number), h('td', {}, requester(a)),
      h('td', {}, timeEl(a.requested_at)), h('td', {}, a.expires_at ? timeEl(a.expires_at) : '—'),
      h('td', {}, a.status === 'active' ? h('a.button', { href: `#/track/${a.id}` }, 'Live view') : ''))))));
}

/** Who asked: "Ann Smith (S1234)", or the staff id alone when the name is not known. */
const requester = (a) => (a.requester_name ? `${a.requester_name} (${a.requester_staff_id})` : a.requester_staff_id);

/** Tells the navigation how many requests wait for this supervisor (app.js shows the count). */
function announceQueue(count) {
  window.dispatchEvent(new CustomEvent('approval-queue', { detail: { count } }));
}

/**
 * The approval queue, in the order the server gives it: emergencies that already run first,
 * the nearest approval deadline first, then the longest waiting. Each says who asked, for
 * which file and incident, and why it waits, worded for the supervisor.
 */
function queueTable(list, refresh) {
  if (!list.length) return message('info', 'Nothing waits for your decision.');
  const emergencies = list.filter(awaitsApproval).length;
  return [
    h('p#queue-summary', {}, `${plural(list.length, 'request')} ${list.length === 1 ? 'waits' : 'wait'} for your decision`,
      emergencies ? h('span.urgent', {}, `, ${plural(emergencies, 'emergency', 'emergencies')} among them: already running, ${emergencies === 1 ? 'it stops' : 'each stops'} unless approved in time`) : '', '.'),
    h('ul.queue', {}, list.map((a) => queueItem(a, refresh))),
  ];
}

function queueItem(a, refresh) {
  const reason = h('input', { name: `reason-${a.id}`, id: `reason-${a.id}`, minlength: MIN_REASON, placeholder: 'Reason for your decision' });
  const status = h('div.status-slot');
  const decide = async (action) => {
    if (reason.value.trim().length < MIN_REASON) { fill(status, message('error', `State the reason (at least ${MIN_REASON} characters).`)); reason.focus(); return; }
    try {
      await post(`/api/v1/tracking/${a.id}/${action}`, { reason: reason.value.trim() });
      refresh();
    } catch (err) { fill(status, message('error', err.message)); }
  };
  const urgent = awaitsApproval(a);
  const reasons = (a.reasons_for_reviewer || a.approval_reasons).map((r) => nzTimesIn(tidy(r)));
  return h(`li.card.queue-item${urgent ? '.emergency' : ''}`, { 'aria-label': `${urgent ? 'Emergency: ' : ''}request ${a.id} for ${a.plate}`, 'data-request-id': a.id },
    h('h3', {}, urgent ? h('span.urgent', {}, 'Emergency, running now: ') : '', `#${a.id} `, h('span.plate', {}, a.plate),
      ` — ${tidy(a.purpose_code)}, file ${a.file_number}`, a.incident_type ? ` (${incidentWords(a.incident_type)})` : ''),
    h('dl.facts', {},
      urgent ? [h('dt', {}, 'Stops unless approved by'), h('dd.urgent.deadline', {}, timeEl(a.approval_deadline), ` (${timeLeft(a.approval_deadline)} left)`)] : null,
      h('dt', {}, 'Requested by'), h('dd.requester', {}, `${requester(a)}, ${a.district}, at `, timeEl(a.requested_at)),
      h('dt', {}, 'Incident'), h('dd', {}, `file ${a.file_number}${a.incident_type ? `, ${incidentWords(a.incident_type)}` : ', not in the incident register'}`),
      h('dt', {}, 'Justification'), h('dd', {}, a.justification),
      h('dt', {}, 'Needs your approval because'), h('dd.waits-because', {}, reasons.length ? reasons.join('; ') : '—')),
    field('Reason', reason),
    h('div.actions', {},
      h('button.primary', { type: 'button', onclick: () => decide('approve') }, 'Approve'),
      h('button.danger', { type: 'button', onclick: () => decide('refuse') }, 'Refuse')),
    status);
}

/** A short tone made in the browser (no sound file): the optional audible cue of an alert. */
function beep() {
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.1;
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.25);
    osc.onended = () => ctx.close();
  } catch { /* no audio device */ }
}

/** The live view of tracking authorisation `id`. Returns the clean-up for leaving the screen. */
export function liveScreen(main, user, id) {
  const title = h('h1#live-title', {}, `Live tracking #${id}`);
  const facts = h('dl.facts.live-facts', {});
  const left = h('output#time-left.time-left', { 'aria-live': 'off' }, '—');
  const approvalLeft = h('output#approval-left.time-left', { 'aria-live': 'off' }, '');
  const approval = h('span.approval', { hidden: true }, ' · ', h('span', {}, 'Stops unless approved within: '), approvalLeft);
  const connection = h('span#stream-state.stream-state', { role: 'status' }, 'connecting…');
  const soundToggle = h('input', { type: 'checkbox', id: 'sound' });
  const cue = h('div#alert-cue.alert-cue', { role: 'status', 'aria-live': 'assertive' }, 'No alert yet.');
  const list = h('ol#alerts.alerts', { 'aria-label': 'Alerts, newest first' });
  const mapEl = h('div#live-map');
  const controls = h('div.actions');
  const status = h('div.status-slot');
  fill(main,
    h('div.live-head', {}, title, h('div.live-meta', {}, h('span', {}, 'Time left: '), left, approval, ' · ', connection, ' · ',
      h('label.inline', {}, soundToggle, ' Sound'))),
    facts, controls, status,
    h('div.split.live', {}, h('div.map-col', {}, mapEl), h('div', {}, cue, list)));

  const seen = new Map(); // alert id -> alert
  let auth = null;
  let map = null;
  let path = null;
  let marks = null;
  let stream = null;
  let closed = false;
  let checking = false;
  let lastCheck = Date.now();

  /** Whether the watch runs: only then do the countdowns tick and the stream stay open. */
  const running = () => auth && auth.status === 'active';

  /** Asks the server how the watch stands (an end made elsewhere, an approval given). */
  async function recheck() {
    if (checking || closed) return;
    checking = true;
    lastCheck = Date.now();
    try {
      auth = await get(`/api/v1/tracking/${id}`);
      renderAuth();
    } catch { /* asked again at the next tick */ } finally {
      checking = false;
    }
  }

  function tickOnce() {
    if (!running()) return;
    const now = Date.now();
    left.value = timeLeft(auth.expires_at, now);
    if (awaitsApproval(auth)) approvalLeft.value = timeLeft(auth.approval_deadline, now);
    const due = new Date(auth.expires_at).getTime() <= now
      || (awaitsApproval(auth) && new Date(auth.approval_deadline).getTime() <= now);
    if (due || now - lastCheck >= RECHECK_MS) recheck();
  }
  const tick = setInterval(tickOnce, 1000);

  /** The watch has ended: say so, and stop counting and listening. */
  function stopLive() {
    clearInterval(tick);
    if (stream) { stream.close(); stream = null; }
    left.value = auth ? auth.status : 'ended';
    approval.hidden = true;
    connection.textContent = `not live: tracking ${auth ? auth.status : 'ended'}`;
    connection.className = 'stream-state off';
  }

  function renderAuth() {
    title.textContent = `Live tracking of ${auth.plate} (#${auth.id})`;
    fill(facts,
      h('dt', {}, 'Status'), h('dd#live-status', {}, statusBadge(auth), auth.end_reason ? ` — ${nzTimesIn(tidy(auth.end_reason))}` : ''),
      h('dt', {}, 'Basis'), h('dd', {}, `${tidy(auth.basis)} — ${tidy(auth.purpose_code)}, file ${auth.file_number}`),
      h('dt', {}, 'Started'), h('dd', {}, timeEl(auth.starts_at)),
      h('dt', {}, 'Ends'), h('dd', {}, timeEl(auth.expires_at)),
      awaitsApproval(auth) ? [h('dt', {}, 'Approval due by'), h('dd', {}, timeEl(auth.approval_deadline))] : null);
    approval.hidden = !awaitsApproval(auth);
    if (running()) {
      tickOnce();
    } else {
      stopLive();
    }
    const reason = h('input', { id: 'stop-reason', name: 'stop_reason', placeholder: 'Reason (at least 10 characters)', minlength: MIN_REASON });
    const stop = async () => {
      if (reason.value.trim().length < MIN_REASON) { fill(status, message('error', `State why you stop it (at least ${MIN_REASON} characters).`)); reason.focus(); return; }
      try {
        auth = await post(`/api/v1/tracking/${auth.id}/revoke`, { reason: reason.value.trim() });
        fill(status, message('ok', 'Tracking stopped. No more alerts arrive for this watch.'));
        renderAuth();
      } catch (err) { fill(status, message('error', err.message)); }
    };
    const renew = () => { fill(status, requestForm(() => {}, auth)); };
    fill(controls,
      running() ? [field('Stop reason', reason), h('button.danger', { type: 'button', onclick: stop }, 'Stop tracking')] : null,
      auth.requester_staff_id === user.staff_id ? h('button', { type: 'button', onclick: renew }, 'Renew…') : null);
  }

  function addAlert(a, live) {
    // Hot-list alerts (authorisation 0) are the network operators', never a watch's.
    if (a.kind === 'hot_list' || a.authorisation_id !== id || seen.has(a.id)) return;
    seen.set(a.id, a);
    const ll = toLatLng(a.location);
    pointMarker(ll, { color: '#b3261e', label: `${a.read_plate} at ${a.site_name}, ${nzTime(a.captured_at)}`, site: a.site_name }).addTo(marks);
    const sorted = [...seen.values()].sort((x, y) => new Date(x.captured_at) - new Date(y.captured_at) || x.id - y.id);
    path.setLatLngs(sorted.map((s) => toLatLng(s.location)));
    const ack = h('button', { type: 'button' }, 'Acknowledge');
    ack.addEventListener('click', async () => {
      try { const done = await post(`/api/v1/alerts/${a.id}/ack`); ack.replaceWith(h('span.hint', {}, `acknowledged by ${done.acked_by_staff_id}`)); } catch (err) { ack.replaceWith(message('error', err.message)); }
    });
    const item = h(`li.alert${live ? '.fresh' : ''}`, { 'data-alert-id': a.id },
      h('strong.plate', {}, a.read_plate), ' at ', h('strong', {}, a.site_name), ' — ', timeEl(a.captured_at),
      a.read_plate !== a.plate ? h('span.hint', {}, ` (look-alike of ${a.plate})`) : null,
      ' ', a.acked_at ? h('span.hint', {}, `acknowledged by ${a.acked_by_staff_id}`) : ack);
    list.prepend(item);
    if (live) {
      cue.textContent = `New sighting: ${a.read_plate} at ${a.site_name}, ${nzTime(a.captured_at)}`;
      cue.classList.remove('flash');
      void cue.offsetWidth; // restart the animation
      cue.classList.add('flash');
      if (soundToggle.checked) beep();
      map.panTo(ll);
    }
  }

  async function loadSightings(live) {
    const s = await get(`/api/v1/tracking/${id}/sightings`);
    s.sightings.forEach((a) => addAlert(a, live));
    return s;
  }

  function connect() {
    if (closed || !running()) return;
    const after = seen.size ? Math.max(...seen.keys()) : null;
    stream = new EventSource(after ? `/api/v1/alerts/stream?after=${after}` : '/api/v1/alerts/stream');
    stream.addEventListener('open', () => {
      if (!running()) return;
      connection.textContent = 'live';
      connection.className = 'stream-state ok';
      // Anything raised between the first load and this connection.
      loadSightings(true).catch(() => {});
    });
    stream.addEventListener('alert', (e) => {
      try { addAlert(JSON.parse(e.data), true); } catch { /* malformed event: ignore */ }
    });
    stream.addEventListener('error', () => {
      if (!stream) return;
      // The browser reconnects by itself (resuming with Last-Event-ID) unless the server
      // refused the stream outright, e.g. because the session has ended.
      const gone = stream.readyState === EventSource.CLOSED;
      connection.textContent = gone ? 'disconnected: reload the page' : 'reconnecting…';
      connection.className = 'stream-state warn';
      recheck();
    });
  }

  (async () => {
    try {
      map = await nzMap(mapEl, { label: 'Path of the tracked vehicle' });
      marks = clusterLayer(map, { noun: 'sighting' });
      path = L.polyline([], { color: '#1d4ed8', weight: 3 }).addTo(map);
      auth = await get(`/api/v1/tracking/${id}`);
      renderAuth();
      await loadSightings(false);
      fitTo(map, [...seen.values()].map((a) => toLatLng(a.location)));
      if (!seen.size) cue.textContent = 'No sighting yet. Alerts appear here as they arrive.';
      connect();
    } catch (err) {
      fill(status, message('error', err.message));
    }
  })();

  return () => {
    closed = true;
    clearInterval(tick);
    if (stream) stream.close();
  };
}
