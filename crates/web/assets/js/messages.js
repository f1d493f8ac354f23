// What the UI says when the API refuses. Every error code the API returns (the server's own in
// crates/app/src/error.rs, the access policy's refusals in crates/policy/src/error.rs) has an
// entry here; e2e/messages.test.mjs and crates/server/tests/web_ui.rs hold the table to them.
// The codes stay in the JSON for programs; a person reads what is wrong and what to do.
//
// No DOM here, so the table can be checked by node as well as used by the pages.

/**
 * lead: how the message starts; detail: whether the server's reason follows (it names the
 * plate, file or limit concerned); fallback: said instead when there is no usable reason;
 * action: what to do, added when the reason does not already say it.
 */
const M = (lead, fallback, action, detail = true) => ({ lead, fallback, action, detail });

const ASK_ADMIN = 'If you think this is wrong, ask an administrator.';
const RELOAD = 'Reload the page to see the current state, then try again.';

export const MESSAGES = {
  // The server's own codes (AppError::code).
  unauthenticated: M('You are not signed in:', 'your session has ended.', 'Sign in again.', false),
  forbidden: M('Refused:', 'you may not do this.', ASK_ADMIN),
  not_found: M('Not found:', 'what you asked for does not exist, or no longer does.', 'Check what you asked for and try again.'),
  bad_request: M('The server could not read the request:', 'the page sent something the server does not understand.', 'Reload the page and try again; if it happens again, tell the administrators.', false),
  invalid_field: M('Please check the form:', 'a value is not accepted.', 'Correct it and try again.'),
  conflict: M('This could not be done:', 'something changed meanwhile.', RELOAD),
  unknown_district: M('Please check the district:', 'it is not one of this deployment\u2019s police districts.', 'Choose a district from the list.'),
  payload_too_large: M('Too large:', 'the file or batch is larger than the server accepts.', 'Send a smaller file, or fewer rows at a time.'),
  too_many_requests: M('Too many requests:', 'there were too many attempts in a short time.', 'Wait a few minutes and try again.'),
  unavailable: M('The service is unavailable right now:', 'it cannot record or answer this use at the moment.', 'Try again in a minute.'),
  decode_busy: M('The server is busy:', 'it is decoding other images.', 'Try again in a few seconds.'),
  insufficient_storage: M('The server\u2019s storage is full:', 'nothing was stored.', 'Tell the administrators, then try again later.', false),
  internal: M('Something went wrong on the server:', 'the request failed.', 'Try again; if it happens again, tell the administrators the time it happened.', false),
  // The UI's own: the request never reached the server.
  network: M('The server cannot be reached:', 'there is no answer from it.', 'Check the network connection and try again.', false),

  // The access policy's refusals (RefusalKind::as_str).
  inactive: M('Refused:', 'your account is disabled.', ASK_ADMIN, false),
  missing_permission: M('Refused:', 'your roles do not allow this.', ASK_ADMIN),
  invalid_purpose: M('Please check the purpose:', 'the purpose, file number and justification are all needed.', 'Complete the purpose and try again.'),
  unknown_purpose: M('Please check the purpose:', 'that purpose is not one the policy knows.', 'Choose a purpose from the list.'),
  unknown_file_number: M('Please check the file number:', 'it is not in the incident register.', 'Choose one of your open files, or check the number.'),
  file_closed: M('Refused:', 'the incident file is closed.', 'Choose an open file.'),
  file_not_yours: M('Refused:', 'the incident file is not in your district and not assigned to you.', 'Choose a file of your district or one assigned to you.'),
  purpose_mismatch: M('Please check the purpose:', 'the purpose does not fit the incident file.', 'Choose a purpose that fits the file.'),
  not_in_staff_register: M('Refused:', 'you are not in the staff register, so vehicles connected to you cannot be recognised.', 'Ask the register administrators to add you.'),
  own_vehicle: M('Refused:', 'the vehicle is connected to you.', 'If it is needed for an investigation, ask another officer to make the query.'),
  no_network_agreement: M('Refused:', 'no camera network shares its data with your district for this use.', 'Ask your supervisor about the networks\u2019 sharing agreements.'),
  lookback_needs_approval: M('Refused:', 'the time range reaches further back than a routine search.', 'Start the search later, or request a look-back approved by a supervisor.'),
  near_live_withheld: M('Withheld:', 'the read is too recent for a historical search.', 'Request tracking on the Track screen if you need to follow the vehicle now.'),
  rate_limited: M('Too many requests:', 'you have reached the limit of requests under this purpose for the hour.', 'Wait a few minutes and try again, or ask your supervisor if the work needs more.'),
  no_tracking_basis: M('Refused:', 'the registers hold no basis for tracking this vehicle under this file.', 'Check the plate and file, or ask a supervisor to approve the request.'),
  conflict_of_duty: M('Refused:', 'you cannot decide a matter of your own.', 'Ask another supervisor.'),
  wrong_district: M('Refused:', 'this belongs to another district.', 'A supervisor of that district decides it.'),
  invalid_state: M('This could not be done:', 'it is no longer in a state that allows it.', RELOAD),
  invalid_request: M('Please check the form:', 'a value is not accepted.', 'Correct it and try again.'),
  forbidden_role_combination: M('Please check the roles:', 'those roles cannot be held together.', 'Choose roles that separation of duties allows.'),
  read_not_available: M('Not available:', 'this read was not shown to you under this purpose and file.', 'Open reads from your search results or alerts.'),
};

/** The words a person reads for a request field the server names. */
export const FIELD_LABELS = {
  plate: 'plate',
  mode: 'match',
  max_edits: 'fuzzy edits',
  from: 'from',
  to: 'to',
  area: 'area',
  network_ids: 'networks',
  purpose: 'purpose',
  'purpose.code': 'purpose',
  'purpose.file_number': 'file number',
  'purpose.justification': 'justification',
  duration_minutes: 'duration',
  emergency: 'emergency',
  renews: 'renewal',
  reason: 'reason',
  roles: 'roles',
  staff_id: 'staff id',
  password: 'password',
  district: 'district',
  reference: 'reference',
  identity_checked: 'identity check',
  'identity_checked.method': 'identity check',
  'identity_checked.by': 'who checked the identity',
  body: 'file',
  file: 'file',
  heading_deg: 'heading',
  police_contact: 'police contact',
};

/** A field path as words: "purpose.file_number" is "file number". */
export function fieldLabel(field) {
  if (!field) return '';
  if (FIELD_LABELS[field]) return FIELD_LABELS[field];
  const last = String(field).replace(/\[\d+\]/g, '').split('.').pop();
  return last.replaceAll('_', ' ');
}

// Words that say what to do: a reason holding one needs no action added.
const SAYS_WHAT_TO_DO = /\b(ask|choose|try|check|wait|sign in|enter|write|state|request|renew|open|contact|send|configure|start|give|say|use|reload|correct|tell|make)\b/i;

/** The server's reason cleaned for a person: no code marks, API paths or field paths. */
export function tidy(text, field) {
  let s = String(text || '').trim();
  if (field && s.startsWith(`${field}: `)) s = s.slice(field.length + 2);
  s = s.replace(/\s*\((?:GET|POST|PUT|DELETE)\s+\/[^)]*\)/g, '');
  s = s.replace(/\s*\/api\/v\d+\/[\w/{}.:-]*/g, '');
  s = s.replaceAll('`', '');
  for (const [path, label] of Object.entries(FIELD_LABELS)) {
    if (path.includes('.')) s = s.replaceAll(path, label);
  }
  // Code words as words: stolen_vehicle is "stolen vehicle".
  s = s.replace(/\b[a-z]+(?:_[a-z]+)+\b/g, (w) => w.replaceAll('_', ' '));
  return s.replace(/\s+/g, ' ').replace(/[.;:\s]+$/, '');
}

/**
 * The message for a refusal: `status` the HTTP status, `error` the body's `error` object
 * ({code, message, field}); `signingIn` when the request was a sign-in, whose 401 means a wrong
 * password, not an ended session.
 */
export function explain(status, error, { signingIn = false } = {}) {
  const code = (error && error.code) || codeOfStatus(status);
  const detail = tidy(error && error.message, error && error.field);
  if (signingIn && code === 'unauthenticated') {
    const why = detail || 'wrong staff id or password';
    return `Sign-in refused: ${why}.${SAYS_WHAT_TO_DO.test(why) ? '' : ' Check the staff id and password and try again.'}`;
  }
  const entry = MESSAGES[code] || MESSAGES[codeOfStatus(status)] || MESSAGES.internal;
  const field = error && error.field ? fieldLabel(error.field) : '';
  const lead = field && entry.lead === 'Please check the form:' ? `Please check the ${field}:` : entry.lead;
  const body = entry.detail && detail ? detail : entry.fallback.replace(/\.$/, '');
  const action = SAYS_WHAT_TO_DO.test(body) ? '' : ` ${entry.action}`;
  return `${lead} ${body}.${action}`;
}

/** The code a bare status stands for (a body without one, e.g. from a proxy). */
export function codeOfStatus(status) {
  switch (status) {
    case 0: return 'network';
    case 400: return 'bad_request';
    case 401: return 'unauthenticated';
    case 403: return 'forbidden';
    case 404: return 'not_found';
    case 409: return 'conflict';
    case 413: return 'payload_too_large';
    case 422: return 'invalid_field';
    case 429: return 'too_many_requests';
    case 503: return 'unavailable';
    case 507: return 'insufficient_storage';
    default: return 'internal';
  }
}
