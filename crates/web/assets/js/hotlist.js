// The network operator's screen: "vehicle of interest" alerts. When a plate on the
// stolen-vehicle hot list is read by one of the operator's cameras, the server raises a
// `hot_list` alert saying where (the site and its street address) and when, and whom to call at
// the police (the contact an administrator set for the network), and nothing more (no images,
// file number or owner).
// The list loads once, then new alerts arrive over Server-Sent Events (the session cookie
// authenticates the EventSource); each can be acknowledged.

import { h, fill, message, nzTime, timeEl, plural } from './dom.js';
import { get, post } from './api.js';

export function hotListScreen(main) {
  const connection = h('span#hot-stream-state.stream-state', { role: 'status' }, 'connecting…');
  const cue = h('div#hot-cue.alert-cue', { role: 'status', 'aria-live': 'assertive' }, 'No vehicle of interest seen yet.');
  const list = h('ol#hot-alerts.alerts', { 'aria-label': 'Vehicle of interest alerts, newest first' });
  const status = h('div.status-slot');
  fill(main,
    h('div.live-head', {}, h('h1', {}, 'Vehicle of interest'), h('div.live-meta', {}, connection)),
    h('p.hint', {}, 'A plate on the stolen-vehicle hot list was read by one of your network\u2019s cameras. Call the police contact each alert names; do not approach the vehicle. The alert holds no personal data.'),
    status, cue, list);

  const seen = new Set();
  let stream = null;
  let closed = false;

  function add(a, live) {
    if (a.kind !== 'hot_list' || seen.has(a.id)) return;
    seen.add(a.id);
    const ack = h('button', { type: 'button' }, 'Acknowledge');
    ack.addEventListener('click', async () => {
      try {
        const done = await post(`/api/v1/alerts/${a.id}/ack`);
        ack.replaceWith(h('span.hint', {}, `acknowledged by ${done.acked_by_staff_id}`));
      } catch (err) { ack.replaceWith(message('error', err.message)); }
    });
    const where = a.site_address ? `${a.site_name}, ${a.site_address}` : a.site_name;
    const call = a.police_contact ? `Call ${a.police_contact}.` : 'No police contact is set for your network: ask your administrator whom to call.';
    list.prepend(h(`li.alert${live ? '.fresh' : ''}`, { 'data-alert-id': a.id },
      h('strong.plate', {}, a.read_plate || a.plate), ' at ', h('strong.site', {}, a.site_name),
      a.site_address ? [', ', h('span.address', {}, a.site_address)] : null, ' — ', timeEl(a.captured_at),
      h('div.call', {}, a.police_contact ? ['Call ', h('strong.contact', {}, a.police_contact), '.'] : call),
      a.acked_at ? h('span.hint', {}, `acknowledged by ${a.acked_by_staff_id}`) : ack));
    if (live) {
      cue.textContent = `Vehicle of interest: ${a.read_plate || a.plate} at ${where}, ${nzTime(a.captured_at)}. ${call}`;
      cue.classList.remove('flash');
      void cue.offsetWidth; // restart the animation
      cue.classList.add('flash');
    }
  }

  function connect() {
    if (closed) return;
    const after = seen.size ? Math.max(...seen) : null;
    stream = new EventSource(after ? `/api/v1/alerts/stream?after=${after}` : '/api/v1/alerts/stream');
    stream.addEventListener('open', () => {
      connection.textContent = 'live';
      connection.className = 'stream-state ok';
    });
    stream.addEventListener('alert', (e) => {
      try { add(JSON.parse(e.data), true); } catch { /* malformed event: ignore */ }
    });
    stream.addEventListener('error', () => {
      const gone = stream.readyState === EventSource.CLOSED;
      connection.textContent = gone ? 'disconnected: reload the page' : 'reconnecting…';
      connection.className = 'stream-state warn';
    });
  }

  (async () => {
    try {
      const { alerts } = await get('/api/v1/alerts');
      alerts.forEach((a) => add(a, false));
      if (seen.size) cue.textContent = `${plural(seen.size, 'earlier alert')} below. New ones appear here as they arrive.`;
      connect();
    } catch (err) {
      fill(status, message('error', err.message));
    }
  })();

  return () => {
    closed = true;
    if (stream) stream.close();
  };
}
