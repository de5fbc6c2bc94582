import { JoseError } from './jose-error';

// Comity never lets a message name its own verification key or a URL to fetch one from:
// the key comes from the directory, chosen by the receiver.
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk'] as const;

// RFC 7515 §4.1.11: crit must not list parameters that this specification already defines.
const REGISTERED_HEADERS = new Set([
  'alg', 'jku', 'jwk', 'kid', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'typ', 'cty', 'crit',
  'enc', 'zip', 'epk', 'apu', 'apv', 'iv', 'tag', 'p2s', 'p2c',
]); // prettier-ignore

const STRING_HEADERS = ['kid', 'typ', 'cty'] as const;

/** Checks shared by JWS and JWE protected headers, for producing and for consuming. */
export function checkCommonHeader(
  header: Record<string, unknown>,
  understoodCritical: readonly string[],
): void {
  for (const name of FORBIDDEN_HEADERS) {
    if (Object.hasOwn(header, name)) {
      throw new JoseError(
        'forbidden-header',
        `header "${name}" is forbidden: Comity never takes keys or key URLs from a message`,
      );
    }
  }
  for (const name of STRING_HEADERS) {
    if (Object.hasOwn(header, name) && typeof header[name] !== 'string') {
      throw new JoseError('malformed', `header "${name}" must be a string`);
    }
  }
  if (Object.hasOwn(header, 'crit')) checkCritical(header, understoodCritical);
}

function checkCritical(header: Record<string, unknown>, understood: readonly string[]): void {
  const crit = header['crit'];
  if (!Array.isArray(crit) || crit.length === 0) {
    throw new JoseError(
      'unknown-critical-header',
      'header "crit" must be a non-empty array of header names',
    );
  }
  const seen = new Set<string>();
  for (const name of crit) {
    if (typeof name !== 'string' || name.length === 0) {
      throw new JoseError(
        'unknown-critical-header',
        'header "crit" must contain only non-empty strings',
      );
    }
    if (seen.has(name))
      throw new JoseError('unknown-critical-header', `header "crit" lists "${name}" twice`);
    seen.add(name);
    if (REGISTERED_HEADERS.has(name)) {
      throw new JoseError(
        'unknown-critical-header',
        `header "crit" must not list the registered header "${name}"`,
      );
    }
    if (!understood.includes(name)) {
      throw new JoseError(
        'unknown-critical-header',
        `critical header "${name}" is not understood by this verifier`,
      );
    }
    if (!Object.hasOwn(header, name)) {
      throw new JoseError(
        'unknown-critical-header',
        `critical header "${name}" is listed in "crit" but absent`,
      );
    }
  }
}

/** Reads a member that must be a string when present. */
export function optionalString(header: Record<string, unknown>, name: string): string | undefined {
  if (!Object.hasOwn(header, name)) return undefined;
  const value = header[name];
  if (typeof value !== 'string')
    throw new JoseError('malformed', `header "${name}" must be a string`);
  return value;
}
