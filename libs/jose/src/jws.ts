import { type KeyObject } from 'node:crypto';
import { decodeBase64UrlStrict, encodeBase64Url } from './base64url';
import { splitCompact } from './compact';
import { checkCommonHeader } from './header-rules';
import { JoseError } from './jose-error';
import {
  type JwsAlgorithm,
  checkJwsKey,
  isJwsAlgorithm,
  signWithAlgorithm,
  verifyWithAlgorithm,
} from './jws-algorithms';
import { DEFAULT_MIN_RSA_MODULUS_BITS } from './key-types';
import { parseJsonObjectStrict } from './strict-json';

export interface JwsHeader {
  alg: string;
  [member: string]: unknown;
}

export interface ParsedJws {
  header: JwsHeader;
  payload: Buffer;
  signature: Buffer;
  /** ASCII bytes of `encodedHeader.encodedPayload`, exactly what the signature covers. */
  signingInput: Buffer;
  encodedHeader: string;
  encodedPayload: string;
  encodedSignature: string;
}

export interface JwsVerifyPolicy {
  algorithms: readonly JwsAlgorithm[];
  understoodCriticalHeaders?: readonly string[];
  /** jku, x5u and jwk are always forbidden in Comity; the member exists to say so. */
  allowedHeaderUrlsAndKeys?: false;
  minRsaModulusBits?: number;
}

/** Produces `BASE64URL(header).BASE64URL(payload).BASE64URL(signature)` (RFC 7515 §7.1). */
export function signJwsCompact(payload: Uint8Array, key: KeyObject, header: JwsHeader): string {
  const alg = checkAlgorithm(header);
  checkHeaderMembers(header, readCritical(header));
  checkJwsKey(alg, key, true, DEFAULT_MIN_RSA_MODULUS_BITS);
  const headerJson = JSON.stringify(header);
  // Never emit a header that a strict receiver (this library included) would refuse.
  parseJsonObjectStrict(headerJson, 'JWS protected header');
  const signingInput = `${encodeBase64Url(Buffer.from(headerJson, 'utf8'))}.${encodeBase64Url(payload)}`;
  const signature = signWithAlgorithm(alg, key, Buffer.from(signingInput, 'latin1'));
  return `${signingInput}.${encodeBase64Url(signature)}`;
}

/** Checks structure only (parts, base64url, header JSON); decides nothing about trust. */
export function parseJwsCompact(token: string | Uint8Array): ParsedJws {
  const [encodedHeader = '', encodedPayload = '', encodedSignature = ''] = splitCompact(
    token,
    3,
    'JWS',
  );
  if (encodedHeader.length === 0) throw new JoseError('malformed', 'JWS protected header is empty');
  const headerBytes = decodeBase64UrlStrict(encodedHeader, 'JWS protected header');
  const header = parseJsonObjectStrict(headerBytes, 'JWS protected header');
  if (typeof header['alg'] !== 'string') {
    throw new JoseError('malformed', 'JWS protected header must have a string "alg"');
  }
  const payload = decodeBase64UrlStrict(encodedPayload, 'JWS payload');
  const signature = decodeBase64UrlStrict(encodedSignature, 'JWS signature');
  const signingInputLength = encodedHeader.length + 1 + encodedPayload.length;
  // From bytes, the signing input is a view of the caller's buffer, not a copy.
  const signingInput =
    typeof token === 'string'
      ? Buffer.from(token.slice(0, signingInputLength), 'latin1')
      : Buffer.from(token.buffer, token.byteOffset, signingInputLength);
  return {
    header: header as JwsHeader,
    payload,
    signature,
    signingInput,
    encodedHeader,
    encodedPayload,
    encodedSignature,
  };
}

/**
 * Verifies a compact JWS against one caller-chosen key. The header may only narrow what
 * happens: its algorithm must be in the policy and fit the key, and it can never point
 * at another key.
 */
export function verifyJwsCompact(
  token: string | Uint8Array | ParsedJws,
  key: KeyObject,
  policy: JwsVerifyPolicy,
): ParsedJws {
  const parsed =
    typeof token === 'string' || token instanceof Uint8Array ? parseJwsCompact(token) : token;
  const alg = checkAlgorithm(parsed.header);
  if (!policy.algorithms.includes(alg)) {
    throw new JoseError(
      'algorithm-not-allowed',
      `JWS algorithm ${alg} is not allowed by the verification policy`,
    );
  }
  checkHeaderMembers(parsed.header, policy.understoodCriticalHeaders ?? []);
  checkJwsKey(alg, key, false, policy.minRsaModulusBits ?? DEFAULT_MIN_RSA_MODULUS_BITS);
  if (!verifyWithAlgorithm(alg, key, parsed.signingInput, parsed.signature)) {
    throw new JoseError(
      'invalid-signature',
      `JWS ${alg} signature does not verify with the given key`,
    );
  }
  return parsed;
}

function checkAlgorithm(header: JwsHeader): JwsAlgorithm {
  const alg = header.alg;
  if (typeof alg !== 'string')
    throw new JoseError('malformed', 'JWS header must have a string "alg"');
  if (alg.toLowerCase() === 'none') {
    throw new JoseError('unsupported-algorithm', 'JWS algorithm "none" is never accepted');
  }
  if (!isJwsAlgorithm(alg))
    throw new JoseError('unsupported-algorithm', `JWS algorithm "${alg}" is not supported`);
  return alg;
}

function checkHeaderMembers(header: JwsHeader, understoodCritical: readonly string[]): void {
  // RFC 7797 unencoded payloads change what is signed; Comity only signs encoded payloads.
  if (Object.hasOwn(header, 'b64')) {
    throw new JoseError(
      'unsupported-algorithm',
      'JWS header "b64" (RFC 7797 unencoded payload) is not supported',
    );
  }
  checkCommonHeader(header, understoodCritical);
}

// A producer may mark its own extension headers critical; they are by definition understood.
function readCritical(header: JwsHeader): readonly string[] {
  const crit = header['crit'];
  return Array.isArray(crit) ? crit.filter((name): name is string => typeof name === 'string') : [];
}
