// Every call to the API. The session is the HttpOnly cookie set at sign-in (the page never sees
// the token); each change carries the session's CSRF token in X-CSRF-Token. A refusal becomes
// an ApiError whose message is the server's reason in plain words.

let csrfToken = null;
let onUnauthenticated = () => {};

export function setCsrf(token) { csrfToken = token; }
export function whenSignedOut(fn) { onUnauthenticated = fn; }

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** The server's refusal in words a person can act on. */
export function plainWords(status, error) {
  const reason = ((error && error.message) || '').trim().replace(/[.]+$/, '');
  const field = error && error.field ? ` (${error.field.replaceAll('_', ' ')})` : '';
  switch (status) {
    case 401: return `You are not signed in, or your session has ended: ${reason}.`;
    case 403: return `Refused: ${reason}.`;
    case 404: return `Not found: ${reason}.`;
    case 409: return `Could not be done: ${reason}.`;
    case 413: return `Too large: ${reason}.`;
    case 422: return `Please check the form${field}: ${reason}.`;
    case 429: return `Too many requests: ${reason}.`;
    case 503: return `The service is unavailable: ${reason}.`;
    default: return reason ? `${reason}.` : `The server answered ${status}.`;
  }
}

export async function api(method, path, body, { contentType } = {}) {
  const headers = { accept: 'application/json' };
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
    throw new ApiError(0, 'network', 'The server cannot be reached; check the connection and try again.');
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    const error = data && data.error ? data.error : { message: text.slice(0, 200) };
    const err = new ApiError(response.status, error.code, plainWords(response.status, error), error.field);
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

/** GETs `path` as a file (CSV, an HTML report) with the session cookie; a refusal as for api(). */
export async function getBlob(path) {
  let response;
  try {
    response = await fetch(path, { credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'network', 'The server cannot be reached; check the connection and try again.');
  }
  if (!response.ok) {
    let error = null;
    try { error = (await response.json()).error; } catch { /* not JSON */ }
    const err = new ApiError(response.status, error && error.code, plainWords(response.status, error), error && error.field);
    if (response.status === 401) onUnauthenticated(err);
    throw err;
  }
  return response.blob();
}
