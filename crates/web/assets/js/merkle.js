// RFC 6962 / RFC 9162 Merkle tree checks in the browser, with WebCrypto SHA-256: the leaf hash
// of an entry, its inclusion proof against a signed root, and the consistency of two tree heads.
// Sizes and indices are handled with arithmetic rather than 32-bit bit operations.

const enc = new TextEncoder();

export function fromHex(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i += 1) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export function toHex(bytes) {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha256(...parts) {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const buf = new Uint8Array(len);
  let at = 0;
  for (const p of parts) { buf.set(p, at); at += p.length; }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
}

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);
const node = (l, r) => sha256(NODE, l, r);
const odd = (n) => n % 2 === 1;
const half = (n) => Math.floor(n / 2);

/** SHA-256(0x00 || body): the leaf hash of an entry's canonical body. */
export async function leafHash(body) {
  return sha256(LEAF, enc.encode(body));
}

/** RFC 9162 2.1.3.2: whether `proof` (hex hashes) puts `leaf` at `index` in the tree `root` of `size`. */
export async function verifyInclusion(index, size, leaf, proofHex, root) {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proofHex.map(fromHex)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      r = await node(p, r);
      if (!odd(fn)) while (!odd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else {
      r = await node(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && toHex(r) === toHex(root);
}

const isPowerOfTwo = (n) => n > 0 && 2 ** Math.round(Math.log2(n)) === n;

/** RFC 9162 2.1.4.2: whether the tree (`second`, `secondRoot`) extends (`first`, `firstRoot`). */
export async function verifyConsistency(first, second, firstRoot, secondRoot, proofHex) {
  if (first > second) return false;
  if (first === second) return proofHex.length === 0 && toHex(firstRoot) === toHex(secondRoot);
  if (first === 0) return proofHex.length === 0;
  let proof = proofHex.map(fromHex);
  if (isPowerOfTwo(first)) proof = [firstRoot, ...proof];
  if (!proof.length) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (odd(fn)) { fn = half(fn); sn = half(sn); }
  let fr = proof[0];
  let sr = proof[0];
  for (const c of proof.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = await node(c, fr);
      sr = await node(c, sr);
      if (!odd(fn)) while (!odd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else {
      sr = await node(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return toHex(fr) === toHex(firstRoot) && toHex(sr) === toHex(secondRoot) && sn === 0;
}
