/* The gateway's API as a signed-in person calls it: the session cookie goes along by itself
 * (HttpOnly: this code never sees it); every change carries the session's CSRF token. */
var csrfToken = null;
var onSignedOut = function () {};

export function setCsrfToken(token) {
  csrfToken = token;
}

/** The headers a change made outside `api` (an upload, a PDF) carries. */
export function csrfHeaders() {
  return csrfToken ? { 'X-CSRF-Token': csrfToken } : {};
}

export function whenSignedOut(handler) {
  onSignedOut = handler;
}

export function errorText(status, body) {
  var message = body && typeof body === 'object' ? body.message : null;
  if (Array.isArray(message)) message = message.join('; ');
  return message ? String(message) : 'the gateway answered ' + status;
}

/** {ok, status, body}; a 401 on anything but sign-in ends the session on this page. */
export async function api(method, path, body, extraHeaders) {
  var headers = Object.assign({ Accept: 'application/json' }, extraHeaders || {});
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  var response;
  try {
    response = await fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'same-origin',
    });
  } catch {
    return { ok: false, status: 0, body: { message: 'the gateway cannot be reached' } };
  }
  var text = await response.text();
  var parsed;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  if (response.status === 401 && path !== '/v1/session') onSignedOut(errorText(401, parsed));
  return { ok: response.ok, status: response.status, body: parsed };
}

/** A change answered with a file (the letter of request): {ok, status, blob | body}. */
export async function fetchFile(method, path, body) {
  var response;
  try {
    response = await fetch(path, {
      method: method,
      headers: Object.assign({ 'Content-Type': 'application/json' }, csrfHeaders()),
      body: JSON.stringify(body),
      cache: 'no-store',
      credentials: 'same-origin',
    });
  } catch {
    return { ok: false, status: 0, body: { message: 'the gateway cannot be reached' } };
  }
  if (response.ok) return { ok: true, status: response.status, blob: await response.blob() };
  var parsed;
  try {
    parsed = await response.json();
  } catch {
    parsed = null;
  }
  return { ok: false, status: response.status, body: parsed };
}
