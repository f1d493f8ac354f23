// Small DOM helpers. Elements are built with createElement and text nodes only (never
// innerHTML), so no data from the server is ever parsed as markup.

/** h('tag.class#id.class', {attr: value, onclick: fn}, ...children) */
export function h(spec, attrs = {}, ...children) {
  const tag = /^[a-z0-9]*/i.exec(spec)[0];
  const el = document.createElement(tag || 'div');
  const classes = [];
  for (const [, kind, name] of spec.slice(tag.length).matchAll(/([.#])([^.#]+)/g)) {
    if (kind === '#') el.id = name; else classes.push(name);
  }
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's content. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const nzFormat = new Intl.DateTimeFormat('en-NZ', {
  timeZone: 'Pacific/Auckland', year: 'numeric', month: 'short', day: 'numeric',
  hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, timeZoneName: 'short',
});

/** An instant (RFC 3339 string or Date) in New Zealand time, e.g. "29 Nov 2026, 14:03:11 NZDT". */
export function nzTime(t) {
  if (!t) return '—';
  const d = t instanceof Date ? t : new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : nzFormat.format(d);
}

const nzMinute = new Intl.DateTimeFormat('en-NZ', {
  timeZone: 'Pacific/Auckland', year: 'numeric', month: 'short', day: 'numeric',
  hour: '2-digit', minute: '2-digit', hour12: false, timeZoneName: 'short',
});

/**
 * Text from the server with its times in New Zealand time: the policy and the integrity rules
 * write instants as "2026-12-01 10:00 UTC" (unambiguous in the ledger and in logs); a person
 * reads "1 Dec 2026, 23:00 NZDT", like every other time on the pages.
 */
export function nzTimesIn(text) {
  return String(text ?? '').replace(/\b(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(:\d{2})? UTC\b/g, (all, day, hm, sec) => {
    const d = new Date(`${day}T${hm}${sec || ':00'}Z`);
    return Number.isNaN(d.getTime()) ? all : (sec ? nzFormat : nzMinute).format(d);
  });
}

const nzDay = new Intl.DateTimeFormat('en-NZ', {
  timeZone: 'Pacific/Auckland', year: 'numeric', month: 'short', day: 'numeric',
});

/** The New Zealand date of an instant, e.g. "29 Nov 2026". */
export function nzDate(t) {
  if (!t) return '—';
  const d = t instanceof Date ? t : new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : nzDay.format(d);
}

/** "1 read", "2 reads": a count with its noun, singular or plural. */
export function plural(n, one, many = `${one}s`) {
  return `${n.toLocaleString('en-NZ')} ${n === 1 ? one : many}`;
}

/** A <time> element showing an instant in NZ time, with the exact instant in `datetime`. */
export function timeEl(t) {
  return h('time', { datetime: t || '' }, nzTime(t));
}

/** Offset of Pacific/Auckland from UTC at instant `ms`, in minutes. */
function nzOffsetMinutes(ms) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-NZ', {
    timeZone: 'Pacific/Auckland', hourCycle: 'h23', year: 'numeric', month: '2-digit',
    day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return Math.round((asUtc - ms) / 60000);
}

/** The value of an <input type=datetime-local>, read as New Zealand wall time, as RFC 3339 UTC. */
export function nzLocalToUtc(value) {
  if (!value) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!m) return undefined;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  let t = wall - nzOffsetMinutes(wall) * 60000;
  t = wall - nzOffsetMinutes(t) * 60000; // second pass settles daylight-saving edges
  return new Date(t).toISOString();
}

/** An instant as the value of an <input type=datetime-local> in New Zealand wall time. */
export function utcToNzLocal(ms) {
  const d = new Date(ms + nzOffsetMinutes(ms) * 60000);
  return d.toISOString().slice(0, 16);
}

/** "3 h 12 min" / "45 s" until `t`; "ended" when past. */
export function timeLeft(t, now = Date.now()) {
  const s = Math.floor((new Date(t).getTime() - now) / 1000);
  if (!(s > 0)) return 'ended';
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60), ss = s % 60;
  if (d) return `${d} d ${hh} h ${mm} min`;
  if (hh) return `${hh} h ${mm} min`;
  if (mm) return `${mm} min ${ss} s`;
  return `${ss} s`;
}

let fieldCount = 0;

/** A labelled form field: a <label for> names the control; the hint describes it. */
export function field(label, control, hint) {
  if (!control.id) { fieldCount += 1; control.id = `field-${fieldCount}`; }
  const hintEl = hint ? h('span.hint', { id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div.field', {}, h('label.label', { for: control.id }, label), control, hintEl);
}

/** A message box: kind is 'error', 'ok', 'info' or 'warn'. Errors are announced at once. */
export function message(kind, ...text) {
  return h(`div.msg.msg-${kind}`, { role: kind === 'error' ? 'alert' : 'status' }, ...text);
}

export function roleList(user) {
  return (user.roles || []).join(', ');
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element, like h() but in the SVG namespace: svg('rect.bar', {x: 0, width: 10}). */
export function svg(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElementNS(SVG_NS, tag);
  if (classes.length) el.setAttribute('class', classes.join(' '));
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null && v !== false) el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}
