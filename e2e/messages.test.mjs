// Every error code the API can return has a message in the UI written for a person: what is
// wrong and what to do, without code marks, API paths, field paths or code words. The codes
// are read from the Rust sources that define them (the server's own in crates/app/src/error.rs,
// the access policy's refusals in crates/policy/src/error.rs), so a new code without a message
// fails here. Run with `node --test e2e/messages.test.mjs` (scripts/e2e.sh does).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { MESSAGES, explain, tidy } = await import(join(root, 'crates/web/assets/js/messages.js'));

const source = (path) => readFileSync(join(root, path), 'utf8');
const serverCodes = [...source('crates/app/src/error.rs')
  .slice(source('crates/app/src/error.rs').indexOf('pub fn code(&self)'))
  .matchAll(/AppError::\w+(?:\([^)]*\)| \{[^}]*\})? => "(\w+)"/g)].map((m) => m[1]);
const refusalCodes = [...source('crates/policy/src/error.rs')
  .matchAll(/RefusalKind::\w+ => "(\w+)"/g)].map((m) => m[1]);

/** What a person must never read. */
function assertPlain(text, what) {
  assert.ok(!text.includes('`'), `${what}: code marks in "${text}"`);
  assert.ok(!/\/api\//.test(text), `${what}: an API path in "${text}"`);
  assert.ok(!/\b(GET|POST|PUT|DELETE) \//.test(text), `${what}: an HTTP request in "${text}"`);
  assert.ok(!/\b[a-z]+_[a-z_]+\b/.test(text), `${what}: a code word in "${text}"`);
  assert.ok(!/\b[a-z]+\.[a-z_]+\b/.test(text.replace(/e\.g\./g, '')), `${what}: a field path in "${text}"`);
  assert.match(text, /^[A-Z]/, `${what}: starts a sentence: "${text}"`);
  assert.match(text, /\.$/, `${what}: ends a sentence: "${text}"`);
}

test('the codes are found in the Rust sources', () => {
  assert.ok(serverCodes.length >= 12, `server codes: ${serverCodes}`);
  assert.ok(refusalCodes.length >= 21, `refusal codes: ${refusalCodes}`);
  for (const c of ['unauthenticated', 'internal', 'too_many_requests']) assert.ok(serverCodes.includes(c), c);
  for (const c of ['own_vehicle', 'purpose_mismatch', 'rate_limited']) assert.ok(refusalCodes.includes(c), c);
});

test('every code the API returns has a plain message, with and without the server\u2019s reason', () => {
  for (const code of [...serverCodes.filter((c) => c !== 'refused'), ...refusalCodes]) {
    const entry = MESSAGES[code];
    assert.ok(entry, `no message for ${code}`);
    for (const key of ['lead', 'fallback', 'action']) assert.ok(entry[key] && entry[key].length > 3, `${code}.${key}`);
    assertPlain(explain(400, { code }), `${code} without a reason`);
    assertPlain(explain(400, { code, message: 'see `purpose.file_number` (POST /api/v1/tracking)', field: 'purpose.file_number' }),
      `${code} with a raw reason`);
  }
});

test('a wrong password is not an ended session', () => {
  const text = explain(401, { code: 'unauthenticated', message: 'wrong staff id or password' }, { signingIn: true });
  assert.match(text, /wrong staff id or password/);
  assert.doesNotMatch(text, /session/);
  assertPlain(text, 'sign-in');
  assert.match(explain(401, { code: 'unauthenticated', message: 'session expired or invalid' }), /Sign in again/);
});

test('a disabled account is told whom to ask, not to retype its password', () => {
  const text = explain(401, {
    code: 'unauthenticated',
    message: 'this account is disabled; ask an administrator to enable it again',
  }, { signingIn: true });
  assert.match(text, /^Sign-in refused: this account is disabled; ask an administrator/);
  assert.doesNotMatch(text, /Check the staff id and password/);
  assertPlain(text, 'disabled account');
});

test('the server\u2019s reasons lose code marks, field paths and API paths', () => {
  assert.equal(tidy('purpose `missing_person` does not fit'), 'purpose missing person does not fit');
  assert.equal(tidy('purpose.file_number must be 1 to 64 characters'), 'file number must be 1 to 64 characters');
  assert.equal(tidy('needs a tracking authorisation (POST /api/v1/tracking).'), 'needs a tracking authorisation');
  assert.equal(tidy('plate: must not be empty', 'plate'), 'must not be empty');
  const mismatch = explain(422, {
    code: 'purpose_mismatch', field: 'purpose.code',
    message: 'the purpose Missing person does not fit incident file 260101/2000, which is a homicide incident: for this file choose the purpose Serious crime investigation',
  });
  assert.equal(mismatch, 'Please check the purpose: the purpose Missing person does not fit incident file 260101/2000, which is a homicide incident: for this file choose the purpose Serious crime investigation.');
  const field = explain(422, { code: 'invalid_field', field: 'plate', message: 'plate: must be 1 to 40 characters' });
  assert.equal(field, 'Please check the plate: must be 1 to 40 characters. Correct it and try again.');
});

test('an answer without a body is explained by its status', () => {
  assertPlain(explain(502, null), 'a bare 502');
  assertPlain(explain(429, {}), 'a bare 429');
  assertPlain(explain(0, { code: 'network' }), 'no connection');
});
