// Every call to the API. The session is the HttpOnly cookie set at sign-in (the page never sees
// the token); each change carries the session's CSRF token in X-CSRF-Token. A refusal becomes
// an ApiError whose message says in plain words what is wrong and what to do (messages.js);
// the code stays on the error for the screens.

import { explain } from './messages.js';
import { nzTimesIn } from './dom.js';

let csrfToken = null;
let onUnauthenticated = () => {};

export function setCsrf(token) { csrfToken = token; }
export function whenSignedOut(fn) { onUnauthenticated = fn; }

export class ApiError extends Error {
  constructor(status, code, message, field, reason) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    // The server's own reason, untouched: for the few screens whose reasons are written for
    // people and name things to type exactly as given (a register file's column names).
    this.reason = reason;
  }
}

export async function api(method, path, body, { contentType, headers: extra } = {}) {
  const headers = { accept: 'application/json', ...extra };
  let payload;
  if (body !== undefined) {
    if (contentType) {
      headers['content-type'] = contentType;
      payload = body;
    } else {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'network', explain(0, { code: 'network' }));
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    const signingIn = path === '/api/v1/auth/session' && method === 'POST';
    const err = new ApiError(response.status, error.code, nzTimesIn(explain(response.status, error, { signingIn })), error.field, error.message);
    if (response.status === 401 && path !== '/api/v1/auth/session') onUnauthenticated(err);
    throw err;
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);

/** Query string of the defined values of `params`. */
export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * The header that carries the purpose of a read or image view (form-encoded, like a query
 * string): the justification stays out of URLs, and so out of access logs and the history.
 */
export function purposeHeader(p) {
  return { 'x-purpose': qs({ purpose_code: p.code, file_number: p.file_number, justification: p.justification }).slice(1) };
}

/** GETs `path` as a file (CSV, an HTML report) with the session cookie; a refusal as for api(). */
export async function getBlob(path, { headers } = {}) {
  let response;
  try {
    response = await fetch(path, { credentials: 'same-origin', headers });
  } catch (e) {
    throw new ApiError(0, 'network', explain(0, { code: 'network' }));
  }
  if (!response.ok) {
    let error = null;
    try { error = (await response.json()).error; } catch { /* not JSON */ }
    const err = new ApiError(response.status, error && error.code, explain(response.status, error || {}), error && error.field);
    if (response.status === 401) onUnauthenticated(err);
    throw err;
  }
  return response.blob();
}

/**
 * An image fetched through the API (with `headers`, e.g. the purpose) as a data: URL for an
 * <img>: the page's Content-Security-Policy admits images from this origin and data: URLs.
 */
export async function getImageUrl(path, { headers } = {}) {
  const blob = await getBlob(path, { headers });
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new ApiError(0, 'network', explain(0, { code: 'network' })));
    reader.readAsDataURL(blob);
  });
}
