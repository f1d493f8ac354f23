// The purpose of a data access: code, incident file number and justification. Checked here for
// completeness (the server's policy decides the rest and says why when it refuses).

import { h, field } from './dom.js';

export const PURPOSES = [
  ['stolen_vehicle', 'Stolen vehicle'],
  ['serious_crime', 'Serious crime'],
  ['missing_person', 'Missing person'],
  ['threat_to_life', 'Threat to life'],
  ['road_policing', 'Road policing'],
];
export const MIN_JUSTIFICATION = 20;

/** The purpose fieldset; `codes` limits the choice (tracking has no road policing). */
export function purposeFieldset(prefix, codes = PURPOSES.map((p) => p[0])) {
  const code = h('select', { name: `${prefix}_purpose`, id: `${prefix}-purpose`, required: true },
    h('option', { value: '' }, 'Choose…'),
    PURPOSES.filter(([c]) => codes.includes(c)).map(([c, label]) => h('option', { value: c }, label)));
  const file = h('input', { name: `${prefix}_file_number`, id: `${prefix}-file`, required: true, autocomplete: 'off', placeholder: '260101/1234', pattern: '[0-9A-Za-z/\\-]{3,40}' });
  const why = h('textarea', { name: `${prefix}_justification`, id: `${prefix}-justification`, required: true, minlength: MIN_JUSTIFICATION, rows: 2 });
  const element = h('fieldset.purpose', {}, h('legend', {}, 'Purpose'),
    h('div.row', {},
      field('Purpose code', code),
      field('File number', file, 'An open incident in your district or assigned to you')),
    field('Justification', why, `Why this is needed, at least ${MIN_JUSTIFICATION} characters`));
  return {
    element,
    value: () => ({ code: code.value, file_number: file.value.trim(), justification: why.value.trim() }),
  };
}
