// The shell: who is signed in, the navigation their roles allow, and a hash router
// (#/search, #/track, #/track/12, #/ledger, #/admin, ...).

import { h, fill, message, roleList } from './dom.js';
import { api, setCsrf, whenSignedOut } from './api.js';
import { signInScreen, homeScreen } from './signin.js';
import { searchScreen } from './search.js';
import { trackScreen, liveScreen } from './track.js';
import { integrityScreen, myCasesScreen } from './integrity.js';
import { reportsScreen } from './reports.js';
import { ledgerScreen } from './ledger.js';
import { adminScreen } from './admin.js';
import { hotListScreen } from './hotlist.js';
import { privacyScreen } from './privacy.js';
import { networkScreen } from './network.js';

const SCREENS = [
  { id: 'search', title: 'Search', roles: ['searcher'], blurb: 'historical search of plate reads', show: searchScreen },
  { id: 'track', title: 'Track', roles: ['tracker', 'supervisor'], blurb: 'tracking requests, approvals and live alerts', show: trackScreen },
  { id: 'integrity', title: 'Integrity', roles: ['integrity', 'supervisor'], blurb: 'findings, review cases and routine samples', show: integrityScreen },
  { id: 'reports', title: 'Reports', roles: ['auditor', 'supervisor', 'integrity', 'admin'], blurb: 'usage and transparency reports', show: reportsScreen },
  { id: 'ledger', title: 'Ledger', roles: ['auditor', 'integrity'], blurb: 'the signed audit ledger and its proofs', show: ledgerScreen },
  { id: 'hotlist', title: 'Vehicle of interest', roles: ['network_operator'], blurb: 'stolen vehicles seen by your network\u2019s cameras', show: hotListScreen },
  { id: 'network', title: 'Network', roles: ['network_auditor'], blurb: 'police use of your network\u2019s data, its sharing controls and monthly statement', show: networkScreen },
  { id: 'privacy', title: 'Subject access', roles: ['privacy_officer', 'admin'], blurb: 'what is held about a plate, for the person who asked', show: privacyScreen },
  { id: 'admin', title: 'Admin', roles: ['admin'], blurb: 'users, networks, sites, cameras and registers', show: adminScreen },
  { id: 'mycases', title: 'My cases', everyone: true, blurb: 'integrity cases in which you are asked to explain', show: myCasesScreen },
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let user = null;
let leaveScreen = null; // clean-up of the current screen (closes live streams, timers)
let queueCount = null; // tracking requests waiting for this supervisor's decision (null: not known)

const allowed = () => SCREENS.filter((s) => s.everyone || s.roles.some((r) => user.roles.includes(r)));

function renderChrome() {
  if (!user) { fill(nav); fill(who); return; }
  const current = location.hash.split('/')[1] || '';
  fill(nav, h('ul', {}, h('li', {}, h('a', { href: '#/', 'aria-current': current === '' ? 'page' : null }, 'Home')),
    allowed().map((s) => h('li', {}, navLink(s, current)))));
  fill(who,
    h('span.user', { title: `District: ${user.district}` }, `${user.name} (${user.staff_id})`),
    h('span.roles', {}, roleList(user)),
    h('button.link', { type: 'button', onclick: signOut }, 'Sign out'));
}

/** A screen's link; Track carries the count of requests waiting for a supervisor's decision. */
function navLink(s, current) {
  const waiting = s.id === 'track' && queueCount ? queueCount : 0;
  const label = waiting ? `${s.title}, ${waiting} ${waiting === 1 ? 'request waits' : 'requests wait'} for your decision` : null;
  return h('a', { href: `#/${s.id}`, 'aria-current': current === s.id ? 'page' : null, 'aria-label': label },
    s.title, waiting ? h('span.nav-count#queue-count', { 'aria-hidden': 'true' }, String(waiting)) : null);
}

/** Asks how many tracking requests wait for this supervisor (the track screen reports it itself). */
async function updateQueueCount() {
  if (!user || !user.roles.includes('supervisor')) return;
  try {
    queueCount = (await api('GET', '/api/v1/tracking?queue=true')).length;
    renderChrome();
  } catch { /* the count waits for the next screen */ }
}

window.addEventListener('approval-queue', (e) => {
  queueCount = e.detail.count;
  if (user) renderChrome();
});

async function signOut() {
  try { await api('DELETE', '/api/v1/auth/session'); } catch { /* the session may already be over */ }
  signedOut();
}

// Whether this browser holds a session cookie (which the page cannot read): set at sign-in, so a
// signed-out visitor's first page load does not make a refused, recorded request.
const MAYBE_SIGNED_IN = 'anpr-maybe-signed-in';

function signedOut(reason) {
  localStorage.removeItem(MAYBE_SIGNED_IN);
  // What the officer typed for their searches (purpose, justification, plate) is theirs alone.
  sessionStorage.clear();
  user = null;
  queueCount = null;
  fill(document.getElementById('banner'));
  setCsrf(null);
  if (leaveScreen) { leaveScreen(); leaveScreen = null; }
  renderChrome();
  signInScreen(main, { onSignedIn });
  if (reason) main.prepend(message('warn', reason.message || String(reason)));
}

function onSignedIn(session) {
  localStorage.setItem(MAYBE_SIGNED_IN, '1');
  user = session.user;
  setCsrf(session.csrf_token);
  // What the platform itself must tell this user (an administrator: a disk running low).
  fill(document.getElementById('banner'), (session.notices || []).map((n) => message('warn', n)));
  if (!location.hash || location.hash === '#/signin') location.hash = '#/';
  route();
}

function route() {
  if (!user) return;
  if (leaveScreen) { leaveScreen(); leaveScreen = null; }
  renderChrome();
  const [, id, arg] = location.hash.split('/');
  const screen = SCREENS.find((s) => s.id === id);
  fill(main);
  if (!screen) {
    homeScreen(main, user, allowed());
  } else if (!allowed().includes(screen)) {
    fill(main, message('error', `The ${screen.title} screen needs the role ${screen.roles.join(' or ')}, and you hold ${roleList(user)}. Ask an administrator if your work needs it.`));
  } else if (screen.id === 'track' && arg) {
    leaveScreen = liveScreen(main, user, Number(arg));
  } else {
    leaveScreen = screen.show(main, user, arg) || null;
  }
  if (!screen || screen.id !== 'track' || arg) updateQueueCount();
  main.focus({ preventScroll: true });
}

whenSignedOut((err) => signedOut(err));
window.addEventListener('hashchange', route);

(async () => {
  if (!localStorage.getItem(MAYBE_SIGNED_IN)) { signedOut(); return; }
  try {
    const session = await api('GET', '/api/v1/auth/session');
    onSignedIn(session);
  } catch {
    signedOut();
  }
})();
