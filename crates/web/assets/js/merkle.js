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

/** SHA-256(0x00 || body): the RFC 6962 leaf hash of bytes (a version-1 entry's body). */
export async function leafHash(body) {
  return sha256(LEAF, enc.encode(body));
}

// Redactable (version-2) entries commit to each field separately (crates/ledger/src/redact.rs):
// field salt = HMAC-SHA256(entry salt, name); commitment = SHA-256(tag || field salt ||
// u64be(len name) || name || the value's canonical JSON); the leaf is the RFC 6962 leaf of
// {"commitments":{name: hex, ...},"v":2}. A stored body is canonical JSON, so each value's
// canonical JSON is its text in the body, taken as it is rather than re-serialised (JavaScript
// would write 2.0 as 2).

const FIELD_TAG = enc.encode('anpr-ledger field v2\n');

async function hmacSha256(key, message) {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, message));
}

/** The index just past the JSON string that starts at `i`, or -1. */
function stringEnd(text, i) {
  if (text[i] !== '"') return -1;
  for (let j = i + 1; j < text.length; j += 1) {
    if (text[j] === '\\') j += 1;
    else if (text[j] === '"') return j + 1;
  }
  return -1;
}

/** The index just past the compact JSON value that starts at `i`, or -1. */
function valueEnd(text, i) {
  if (text[i] === '"') return stringEnd(text, i);
  if (text[i] === '{' || text[i] === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j += 1) {
      const c = text[j];
      if (c === '"') {
        j = stringEnd(text, j) - 1;
        if (j < 0) return -1;
      } else if (c === '{' || c === '[') depth += 1;
      else if (c === '}' || c === ']') {
        depth -= 1;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < text.length && !',}]'.includes(text[j])) j += 1;
  return j > i ? j : -1;
}

/** The members of a compact JSON object with its keys in ascending order, each as [key, the
 * value's text]; null for any other text. */
function members(text) {
  if (text[0] !== '{' || text[text.length - 1] !== '}') return null;
  const out = [];
  let i = 1;
  while (i < text.length - 1) {
    const keyEnd = stringEnd(text, i);
    if (keyEnd < 0 || text[keyEnd] !== ':') return null;
    const end = valueEnd(text, keyEnd + 1);
    if (end < 0 || (text[end] !== ',' && end !== text.length - 1)) return null;
    const key = JSON.parse(text.slice(i, keyEnd));
    if (out.length && !(out[out.length - 1][0] < key)) return null;
    out.push([key, text.slice(keyEnd + 1, end)]);
    i = end + 1;
  }
  return out;
}

/** A version-2 body's salt and fields ([name, value text]); null for any other body. */
function redactableFields(body) {
  if (!body.endsWith(',"v":2}')) return null;
  const top = members(body);
  if (!top) return null;
  let salt = null;
  const fields = [];
  for (const [key, text] of top) {
    if (key === 'v') {
      if (text !== '2') return null;
    } else if (key === 'salt') {
      if (!/^"[0-9a-fA-F]{64}"$/.test(text)) return null;
      salt = fromHex(text.slice(1, -1));
    } else if (key === 'query' && text[0] === '{') {
      const query = members(text);
      if (!query) return null;
      for (const [k, v] of query) fields.push([`query.${k}`, v]);
    } else {
      fields.push([key, text]);
    }
  }
  return salt ? { salt, fields } : null;
}

/** The leaf hash of a stored ledger entry's body, whatever its version: for a redactable
 * (version-2) entry the leaf of its field commitments, for any other the leaf of its bytes. */
export async function entryLeafHash(body) {
  const entry = redactableFields(body);
  if (!entry) return leafHash(body);
  const commitments = await Promise.all(entry.fields.map(async ([name, text]) => {
    const bytes = enc.encode(name);
    const length = new Uint8Array(8);
    new DataView(length.buffer).setBigUint64(0, BigInt(bytes.length));
    const salt = await hmacSha256(entry.salt, bytes);
    return [name, toHex(await sha256(FIELD_TAG, salt, length, bytes, enc.encode(text)))];
  }));
  commitments.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const listed = commitments.map(([name, c]) => `${JSON.stringify(name)}:"${c}"`).join(',');
  return leafHash(`{"commitments":{${listed}},"v":2}`);
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
