// Screen 5: reports (usage by month, district, purpose and network; the transparency report
// preview; CSV download). The reports API (GET /api/v1/reports/usage and
// /api/v1/reports/transparency?month=) is not part of this server build yet, so this screen
// says so plainly instead of showing anything made up.

import { h, fill, message } from './dom.js';

/** Checks the server's OpenAPI document for `paths` and notes any it does offer. */
export async function notAvailable(main, paths) {
  try {
    const doc = await fetch('/api/openapi.json').then((r) => r.json());
    const offered = paths.filter((p) => doc.paths && doc.paths[p]);
    if (offered.length) {
      main.append(message('info', `This server offers ${offered.join(', ')}, but this version of the web UI does not show it yet.`));
    }
  } catch { /* the placeholder stands as it is */ }
}

export function reportsScreen(main) {
  fill(main, h('section.card', { 'aria-labelledby': 'reports-title' },
    h('h1#reports-title', {}, 'Reports'),
    h('p', {}, 'Usage by month, district, purpose and network; the transparency report preview; CSV download.'),
    message('warn', 'Not available on this server: this server does not offer the usage and transparency reports API yet.')));
  notAvailable(main, ['/api/v1/reports/usage', '/api/v1/reports/transparency']);
}
