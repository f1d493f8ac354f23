// The browser's Merkle proof checks (crates/web/assets/js/merkle.js) against the RFC 6962
// definitions computed directly here: every inclusion and consistency proof of trees of 1 to 33
// entries verifies, and a proof with any hash changed does not. Run: node --test e2e/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const src = readFileSync(new URL('../crates/web/assets/js/merkle.js', import.meta.url), 'utf8');
const m = await import(`data:text/javascript,${encodeURIComponent(src)}`);

const sha = (...parts) => new Uint8Array(createHash('sha256').update(Buffer.concat(parts.map((p) => Buffer.from(p)))).digest());
const leaf = (d) => sha([0], Buffer.from(d));
const split = (n) => { let k = 1; while (k * 2 < n) k *= 2; return k; };
function mth(d) {
  if (d.length === 1) return leaf(d[0]);
  const k = split(d.length);
  return sha([1], mth(d.slice(0, k)), mth(d.slice(k)));
}
function path(i, d) {
  if (d.length === 1) return [];
  const k = split(d.length);
  return i < k ? [...path(i, d.slice(0, k)), mth(d.slice(k))] : [...path(i - k, d.slice(k)), mth(d.slice(0, k))];
}
function subproof(a, d, whole) {
  if (a === d.length) return whole ? [] : [mth(d)];
  const k = split(d.length);
  return a <= k ? [...subproof(a, d.slice(0, k), whole), mth(d.slice(k))]
    : [...subproof(a - k, d.slice(k), false), mth(d.slice(0, k))];
}
const hex = (b) => Buffer.from(b).toString('hex');
const tamper = (proof, i) => proof.map((x, j) => (j === i ? `${x[0] === '0' ? '1' : '0'}${x.slice(1)}` : x));

test('inclusion proofs of RFC 6962 trees verify, and tampered ones do not', async () => {
  for (let n = 1; n <= 33; n += 1) {
    const d = Array.from({ length: n }, (_, i) => `entry ${i}`);
    const root = mth(d);
    for (let i = 0; i < n; i += 1) {
      const proof = path(i, d).map(hex);
      const l = await m.leafHash(d[i]);
      assert.equal(hex(l), hex(leaf(d[i])));
      assert.ok(await m.verifyInclusion(i, n, l, proof, root), `index ${i} of ${n}`);
      for (let j = 0; j < proof.length; j += 1) {
        assert.ok(!(await m.verifyInclusion(i, n, l, tamper(proof, j), root)), `tampered ${j}: ${i} of ${n}`);
      }
    }
  }
});

test('consistency proofs of RFC 6962 trees verify, and tampered ones do not', async () => {
  for (let n = 1; n <= 33; n += 1) {
    const d = Array.from({ length: n }, (_, i) => `entry ${i}`);
    for (let a = 1; a <= n; a += 1) {
      const proof = (a === n ? [] : subproof(a, d, true)).map(hex);
      const [r1, r2] = [mth(d.slice(0, a)), mth(d)];
      assert.ok(await m.verifyConsistency(a, n, r1, r2, proof), `${a} -> ${n}`);
      for (let j = 0; j < proof.length; j += 1) {
        assert.ok(!(await m.verifyConsistency(a, n, r1, r2, tamper(proof, j))), `tampered ${j}: ${a} -> ${n}`);
      }
      if (a < n) assert.ok(!(await m.verifyConsistency(a, n, r2, r1, proof)), 'roots swapped');
    }
  }
});

// A redactable (version-2) entry: the leaf hash of its field commitments, as the ledger computes
// it (the same vector is pinned in crates/ledger/src/redact.rs), with a float written as the
// server wrote it and a string holding escapes.
const V2_BODY = '{"action":"search","actor":{"id":"S1001","role":"searcher"},"outcome":{"result":"granted"},"purpose":"INV","query":{"district":"Waikato","network_ids":[1,2],"note":"é \\"q\\"\\n","radius_km":2.5},"salt":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f","time":"2026-12-07T00:00:00Z","v":2}';
const V2_LEAF = '92ca02a25265944fdd57fbffbd0cc630b3161d577c69abbab71e60c21bdebfaf';

test('a redactable entry hashes to the leaf of its field commitments; any change shows', async () => {
  assert.equal(hex(await m.entryLeafHash(V2_BODY)), V2_LEAF);
  const changed = V2_BODY.replace('"INV"', '"ROAD"');
  assert.notEqual(hex(await m.entryLeafHash(changed)), V2_LEAF);
  // Not canonical (keys out of order, or spaces): hashed as bytes, so it does not verify either.
  assert.equal(hex(await m.entryLeafHash(V2_BODY.replace('{"action"', '{ "action"'))), hex(leaf(V2_BODY.replace('{"action"', '{ "action"'))));
  // A version-1 body is the leaf of its bytes.
  const v1 = '{"action":"search","v":1}';
  assert.equal(hex(await m.entryLeafHash(v1)), hex(leaf(v1)));
});
