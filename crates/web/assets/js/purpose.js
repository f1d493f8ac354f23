// The purpose of a data access: the incident file, the purpose code and the justification.
// The file is picked from the officer's open files (GET /api/v1/files: their district's and
// those assigned to them, each with its incident type and the purposes that fit it), so only
// fitting purposes are offered; a file not listed can still be typed. What was chosen is kept
// for the browser tab (sessionStorage), so the search and tracking screens share it until
// sign-out. Checked here for completeness; the server's policy decides the rest.

import { h, field, nzDate } from './dom.js';
import { get } from './api.js';

/** Used until the server's list arrives (or if it cannot be had). */
const DEFAULT_PURPOSES = [
  { code: 'stolen_vehicle', label: 'Stolen vehicle', tracking: true },
  { code: 'serious_crime', label: 'Serious crime investigation', tracking: true },
  { code: 'missing_person', label: 'Missing person', tracking: true },
  { code: 'threat_to_life', label: 'Threat to life', tracking: true, emergency: true },
  { code: 'road_policing', label: 'Road policing', tracking: false },
];
export const MIN_JUSTIFICATION = 20;
const KEPT = 'anpr-purpose';
const OTHER = '__other__';

/** What the officer chose last in this tab: {code, file_number, justification}. */
export function keptPurpose() {
  try { return JSON.parse(sessionStorage.getItem(KEPT)) || null; } catch { return null; }
}
export function keepPurpose(p) {
  sessionStorage.setItem(KEPT, JSON.stringify(p));
}

/** An incident type as words: "vehicle_theft" is "vehicle theft". */
export const incidentWords = (t) => String(t || '').replaceAll('_', ' ');

/**
 * The purpose fieldset. `tracking`: offer only purposes that may justify tracking. Returns
 * { element, value(), set(p), ready } — `ready` settles once the files are listed.
 */
export function purposeFieldset(prefix, { tracking = false } = {}) {
  let purposes = DEFAULT_PURPOSES;
  let files = [];
  const filePick = h('select', { name: `${prefix}_file`, id: `${prefix}-file`, required: true },
    h('option', { value: '' }, 'Loading your files…'));
  const fileOther = h('input', { name: `${prefix}_file_number`, id: `${prefix}-file-other`, autocomplete: 'off', placeholder: '260101/1234', pattern: '[0-9A-Za-z/\\-]{3,40}' });
  const otherField = field('Other file number', fileOther, 'An open incident in your district or assigned to you');
  otherField.hidden = true;
  const code = h('select', { name: `${prefix}_purpose`, id: `${prefix}-purpose`, required: true });
  const fits = h('p.hint', { id: `${prefix}-purpose-fits`, 'aria-live': 'polite' });
  const why = h('textarea', { name: `${prefix}_justification`, id: `${prefix}-justification`, required: true, minlength: MIN_JUSTIFICATION, rows: 2 });
  const element = h('fieldset.purpose', {}, h('legend', {}, 'Purpose'),
    h('div.row', {},
      field('Incident file', filePick, 'Your open files: your district\u2019s and those assigned to you'),
      field('Purpose', code)),
    otherField, fits,
    field('Justification', why, `Why this is needed, at least ${MIN_JUSTIFICATION} characters`));

  const chosenFile = () => files.find((f) => f.file_number === filePick.value);
  /** The purposes to offer: those the chosen file fits (all for a typed file). */
  function offer(keep) {
    const file = chosenFile();
    const allowed = purposes.filter((p) => (!tracking || p.tracking) && (!file || file.purposes.includes(p.code)));
    const current = keep || code.value;
    code.replaceChildren(h('option', { value: '' }, allowed.length ? 'Choose…' : 'No purpose fits this file'),
      ...allowed.map((p) => h('option', { value: p.code }, p.label)));
    if (allowed.some((p) => p.code === current)) code.value = current;
    else if (file && allowed.length === 1) code.value = allowed[0].code;
    otherField.hidden = filePick.value !== OTHER;
    const kind = incidentWords(file && file.incident_type);
    fits.textContent = file
      ? `${/^[aeiou]/i.test(kind) ? 'An' : 'A'} ${kind} incident (${file.district}): ${allowed.length
        ? `it fits ${allowed.map((p) => p.label).join(', ')}.`
        : `no purpose ${tracking ? 'that allows tracking ' : ''}fits it.`}`
      : '';
  }

  function listFiles(chosen) {
    const options = files.map((f) => h('option', { value: f.file_number },
      `${f.file_number} \u2014 ${incidentWords(f.incident_type)}, ${f.district}${f.assigned_to_you ? ', assigned to you' : ''}, opened ${nzDate(f.opened_at)}`));
    filePick.replaceChildren(
      h('option', { value: '' }, files.length ? 'Choose a file…' : 'No open files listed'),
      ...options,
      h('option', { value: OTHER }, 'Another file number…'));
    set(chosen);
  }

  /** Shows purpose `p` ({code, file_number, justification}), as far as it fits. */
  function set(p) {
    if (!p) { offer(); return; }
    const listed = files.some((f) => f.file_number === p.file_number);
    filePick.value = listed ? p.file_number : (p.file_number ? OTHER : '');
    fileOther.value = listed ? '' : (p.file_number || '');
    offer(p.code);
    if (p.justification !== undefined) why.value = p.justification;
  }

  filePick.addEventListener('change', () => {
    offer();
    if (filePick.value === OTHER) fileOther.focus();
  });

  const kept = keptPurpose();
  if (kept) why.value = kept.justification || '';
  offer(kept && kept.code);
  const ready = get('/api/v1/files').then((list) => {
    purposes = list.purposes;
    files = list.files;
  }).catch(() => {
    // Without the list, any file number can still be typed; the policy decides.
    files = [];
  }).then(() => listFiles(kept && { code: code.value || kept.code, file_number: kept.file_number }));

  return {
    element,
    ready,
    set,
    value: () => ({
      code: code.value,
      file_number: (filePick.value === OTHER ? fileOther.value : filePick.value).trim(),
      justification: why.value.trim(),
    }),
    /** The control to focus for a field the server or a check named. */
    control: (name) => ({ code: code, file_number: filePick.value === OTHER ? fileOther : filePick, justification: why })[name],
  };
}
