// Screen 4: integrity (findings queue, cases, workflow). The integrity findings and review
// cases API is not part of this server build yet, so this screen says so plainly instead of
// showing anything made up. When the API lands, this module gets the screen.

import { h, fill, message } from './dom.js';
import { notAvailable } from './reports.js';

export function integrityScreen(main) {
  fill(main, h('section.card', { 'aria-labelledby': 'integrity-title' },
    h('h1#integrity-title', {}, 'Integrity'),
    h('p', {}, 'The findings queue, case pages with their evidence entries and explanation, the case workflow, and each member of staff\u2019s own cases.'),
    message('warn', 'Not available on this server: this server does not offer the integrity findings and cases API yet.')));
  notAvailable(main, ['/api/v1/integrity/findings', '/api/v1/integrity/cases']);
}
