// Screen 1: sign in. The password goes to POST /api/v1/auth/session, which sets the HttpOnly
// session cookie and answers with the user and the CSRF token.

import { h, field, fill, message, roleList } from './dom.js';
import { api } from './api.js';

export function signInScreen(main, { onSignedIn }) {
  const staffId = h('input', { name: 'staff_id', id: 'staff-id', required: true, autocomplete: 'username', autocapitalize: 'characters' });
  const password = h('input', { name: 'password', id: 'password', type: 'password', required: true, autocomplete: 'current-password' });
  const status = h('div.status-slot');
  const button = h('button.primary', { type: 'submit' }, 'Sign in');
  const form = h('form.card.narrow', { 'aria-labelledby': 'signin-title' },
    h('h1#signin-title', {}, 'Sign in'),
    field('Staff id', staffId), field('Password', password), button, status,
    h('p.hint', {}, 'Every sign-in, search and view is recorded in the audit ledger.'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    button.disabled = true;
    fill(status);
    try {
      const session = await api('POST', '/api/v1/auth/session', { staff_id: staffId.value.trim(), password: password.value });
      password.value = '';
      onSignedIn(session);
    } catch (err) {
      fill(status, message('error', err.message));
      password.focus();
    } finally {
      button.disabled = false;
    }
  });
  fill(main, form);
  staffId.focus();
}

/** The page after sign-in: who you are, your roles, and what you can do. */
export function homeScreen(main, user, screens) {
  fill(main, h('section.card', { 'aria-labelledby': 'home-title' },
    h('h1#home-title', {}, `Kia ora, ${user.name}`),
    h('dl.facts', {},
      h('dt', {}, 'Staff id'), h('dd', {}, user.staff_id),
      h('dt', {}, 'District'), h('dd', {}, user.district),
      h('dt', {}, 'Roles'), h('dd#home-roles', {}, roleList(user))),
    screens.length
      ? h('ul.screens', {}, screens.map((s) => h('li', {}, h('a', { href: `#/${s.id}` }, s.title), ` — ${s.blurb}`)))
      : message('info', 'Your roles give you no screen here.')));
}
