/* The operations API as the console calls it: always with the operator's key, never cached,
 * never with cookies. */
import { session } from './session.js';

export function AuthError(message) {
  this.message = message;
}

export function NetworkError(message) {
  this.message = message;
}

/* Set by the page at start: ending the session belongs to the sign-in module, which itself
 * depends on the sections that call this one. */
var endSession = function () {};

export function whenKeyRefused(handler) {
  endSession = handler;
}

export function errorText(status, body) {
  var message = body && typeof body === 'object' ? body.message : null;
  if (Array.isArray(message)) message = message.join('; ');
  if (!message && typeof body === 'string' && body) message = body;
  return message ? String(message) : 'the gateway answered ' + status;
}

/** The answer's JSON, or its text when it is not JSON (a proxy's error page). */
function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Calls the gateway with the operator's key. 401 (and 403 on a read) ends the session with a
 * message; other answers come back as {ok, status, body}.
 */
export function api(method, path, body) {
  var generation = session.generation;
  var headers = { Authorization: 'Bearer ' + session.key, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(path, {
    method: method,
    headers: headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
  })
    .catch(function () {
      throw new NetworkError('the gateway cannot be reached');
    })
    .then(function (response) {
      return response.text().then(function (text) {
        var parsed = parseJson(text);
        if (generation !== session.generation) throw new AuthError('signed out');
        if (response.status === 401) {
          endSession(
            'The gateway refused this API key (401 Unauthorized). Sign in again with a valid operator key.',
          );
          throw new AuthError('unauthorized');
        }
        if (response.status === 403 && method === 'GET') {
          endSession(
            'This API key may not use the console (403 Forbidden): it needs the operator or auditor role.',
          );
          throw new AuthError('forbidden');
        }
        return { ok: response.ok, status: response.status, body: parsed };
      });
    });
}
