import type { X509Certificate } from 'node:crypto';
import { parseJsonObjectStrict } from '@comity/jose';
import { readCertificatesPem } from '@comity/pki';
import { LARGE_ATTACHMENT_LIMITS } from './large-attachments';
import {
  AUTHORITY_ID,
  MESSAGE_KINDS,
  MESSAGE_KINDS_V1,
  STATE_CODE,
  isCaseMessageKind,
  type MessageKind,
} from './message-kinds';
import { ProtocolError } from './protocol-error';
import { NO_TIME_FRAME_POLICY, readTimeFramePolicy, type TimeFramePolicy } from './time-frames';

/** The directory file cannot be used; the message names the member that is wrong. */
export class DirectoryError extends Error {
  override readonly name = 'DirectoryError';
}

export const AUTHORITY_TYPES = [
  'mla_central_authority',
  'extradition_authority',
  'asset_recovery_focal_point',
  'prevention_authority',
  'civil_administrative_focal_point',
] as const;
export type AuthorityType = (typeof AUTHORITY_TYPES)[number];

export interface DirectoryAuthority {
  id: string;
  name: string;
  types: AuthorityType[];
  requestKinds: MessageKind[];
  languages: string[];
}

export interface DirectoryState {
  code: string;
  name: string;
  /** The AMQP routing key of the State's inbox on the transmit exchange. */
  routingKey: string;
  /**
   * The broker account the State's gateway publishes as. When set, every message claiming to
   * come from this State must carry it as the broker-validated AMQP `user_id`.
   */
  brokerUser: string | null;
  /** The State's CA certificate(s): the intermediates between its gateway certificates and the anchor. */
  caCertificates: X509Certificate[];
  signingCertificates: X509Certificate[];
  encryptionCertificates: X509Certificate[];
  authorities: DirectoryAuthority[];
  /**
   * The protocol versions the State's gateway speaks (member `protocolVersions`, absent: [1]).
   * Case messages (routing header version 2) go only to States that list 2; structured
   * requests (version 3) only to States that list 3.
   */
  protocolVersions: number[];
}

/**
 * The federation directory: who the States are, where their inboxes are, which certificates
 * their gateways use and which authorities they have. Every certificate in it is still checked
 * against the trust anchor before use, so a tampered file cannot introduce a key.
 */
export interface RevokedCertificate {
  /** base64url SHA-256 of the certificate's DER (JOSE x5t#S256). */
  sha256: string;
  revokedAt: string;
  reason: string;
}

/** Federation-wide limits; each node applies the stricter of these and its own configuration. */
export interface FederationPolicy {
  maxEnvelopeBytes: number | null;
  clockSkewSeconds: number | null;
  /** Largest large attachment (plaintext bytes) a node sends or accepts (protocol §7). */
  maxAttachmentBytes: number | null;
  /** Time frames of case steps (protocol §8.5); the protocol's defaults where absent. */
  timeFrames: TimeFramePolicy;
  /**
   * Seconds within which a delivered envelope of a kind should be opened by its recipient
   * authority (protocol §10.1); past it the recipient's gateway signs non-retrieval evidence.
   * Kinds not listed have no retrieval time frame.
   */
  retrievalTimeoutSeconds: Readonly<Record<string, number>>;
}

const NO_POLICY: FederationPolicy = {
  maxEnvelopeBytes: null,
  clockSkewSeconds: null,
  maxAttachmentBytes: null,
  timeFrames: NO_TIME_FRAME_POLICY,
  retrievalTimeoutSeconds: {},
};

export interface DirectoryValidity {
  /** Increases with every new edition; a node never goes back to a lower one. */
  version: number;
  issued: string;
  expires: string;
}

export class FederationDirectory {
  private readonly states: Map<string, DirectoryState>;
  private readonly revoked: Map<string, RevokedCertificate>;

  constructor(
    readonly federation: string,
    states: DirectoryState[],
    readonly validity: DirectoryValidity = {
      version: 0,
      issued: new Date(0).toISOString(),
      expires: new Date(8.64e15).toISOString(),
    },
    revokedCertificates: RevokedCertificate[] = [],
    readonly policy: FederationPolicy = NO_POLICY,
  ) {
    this.states = new Map(states.map((state) => [state.code, state]));
    this.revoked = new Map(revokedCertificates.map((entry) => [entry.sha256, entry]));
  }

  /** The revocation entry of a certificate (by its x5t#S256 thumbprint), if it is revoked. */
  revocationOf(sha256Thumbprint: string): RevokedCertificate | undefined {
    return this.revoked.get(sha256Thumbprint);
  }

  revokedCertificates(): RevokedCertificate[] {
    return [...this.revoked.values()];
  }

  state(code: string): DirectoryState | undefined {
    return this.states.get(code);
  }

  allStates(): DirectoryState[] {
    return [...this.states.values()];
  }

  authority(stateCode: string, authorityId: string): DirectoryAuthority | undefined {
    return this.states
      .get(stateCode)
      ?.authorities.find((authority) => authority.id === authorityId);
  }
}

/** A message's signer must not be revoked in the directory in force. */
export function checkNotRevoked(
  directory: FederationDirectory,
  certificate: { state: string; sha256Thumbprint: string },
): void {
  const revocation = directory.revocationOf(certificate.sha256Thumbprint);
  if (revocation) {
    throw new ProtocolError(
      'certificate-revoked',
      `certificate of ${certificate.state} (${certificate.sha256Thumbprint}) was revoked at ${revocation.revokedAt}: ${revocation.reason}`,
    );
  }
}

/**
 * What the directory says about a message's parties: the sender State is a member, both
 * authorities exist, and the recipient authority accepts this kind of request.
 */
export function checkPartiesInDirectory(
  directory: FederationDirectory,
  header: {
    kind: MessageKind;
    from: { state: string; authority: string };
    to: { state: string; authority: string };
  },
): void {
  if (!directory.state(header.from.state)) {
    throw new ProtocolError(
      'unknown-sender',
      `State ${header.from.state} is not in the federation directory`,
    );
  }
  if (!directory.authority(header.from.state, header.from.authority)) {
    throw new ProtocolError(
      'unknown-authority',
      `from.authority "${header.from.authority}" is not an authority of ${header.from.state} in the directory`,
    );
  }
  const recipient = directory.authority(header.to.state, header.to.authority);
  if (!recipient) {
    throw new ProtocolError(
      'unknown-authority',
      `to.authority "${header.to.authority}" is not an authority of ${header.to.state} in the directory`,
    );
  }
  // A case message goes to whichever authority is party to its case (§8), checked against the case.
  if (!isCaseMessageKind(header.kind) && !recipient.requestKinds.includes(header.kind)) {
    throw new ProtocolError(
      'kind-not-accepted',
      `${header.to.authority} does not accept ${header.kind} (it accepts ${recipient.requestKinds.join(', ')})`,
    );
  }
}

/**
 * The AMQP `user_id` a message arrived with must be the broker account of the State it claims
 * to come from (the broker itself refuses a `user_id` other than the connection's user). This
 * stops a State replaying or injecting another State's signed messages through its own account.
 */
export function checkBrokerUser(
  directory: FederationDirectory,
  claimedState: string,
  userId: string | undefined,
): void {
  const expected = directory.state(claimedState)?.brokerUser;
  if (expected && userId !== expected) {
    throw new ProtocolError(
      'broker-user-mismatch',
      `a message from ${claimedState} must be published by broker user "${expected}", not ${userId === undefined ? 'without a user_id' : `"${userId.slice(0, 64)}"`}`,
    );
  }
}

/** The file form: JSON with certificates as PEM strings. */
export interface DirectoryDocument {
  federation: string;
  version: number;
  issued: string;
  expires: string;
  revokedCertificates?: RevokedCertificate[];
  policy?: {
    maxEnvelopeBytes?: number;
    clockSkewSeconds?: number;
    maxAttachmentBytes?: number;
    timeFrames?: Record<string, unknown>;
    retrievalTimeoutSeconds?: Record<string, number>;
  };
  states: Array<{
    code: string;
    name: string;
    routingKey: string;
    brokerUser?: string;
    protocolVersions?: number[];
    caCertificates: string[];
    signingCertificates: string[];
    encryptionCertificates: string[];
    authorities: DirectoryAuthority[];
  }>;
}

function readBrokerUser(value: unknown, where: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(value)) {
    throw new DirectoryError(`directory: ${where}.brokerUser must be a plain user name`);
  }
  return value;
}

function readProtocolVersions(
  value: unknown,
  where: string,
  fail: (where: string, what: string) => never,
): number[] {
  if (value === undefined || value === null) return [1];
  if (
    !Array.isArray(value) ||
    !value.includes(1) ||
    value.some((version) => ![1, 2, 3, 4].includes(version as number))
  ) {
    return fail(`${where}.protocolVersions`, 'must list 1 and, where spoken, 2, 3 and 4');
  }
  return [...new Set(value as number[])].sort();
}

function readPolicy(
  value: unknown,
  fail: (where: string, what: string) => never,
): FederationPolicy {
  if (value === undefined || value === null) return NO_POLICY;
  if (typeof value !== 'object' || Array.isArray(value)) return fail('policy', 'must be an object');
  const policy = value as Record<string, unknown>;
  const limit = (name: string, min: number, max: number): number | null => {
    const raw = policy[name];
    if (raw === undefined || raw === null) return null;
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
      return fail(`policy.${name}`, `must be an integer from ${min} to ${max}`);
    }
    return raw;
  };
  return {
    maxEnvelopeBytes: limit('maxEnvelopeBytes', 64 * 1024, 512 * 1024 * 1024),
    clockSkewSeconds: limit('clockSkewSeconds', 0, 3600),
    maxAttachmentBytes: limit('maxAttachmentBytes', 1024 * 1024, LARGE_ATTACHMENT_LIMITS.maxBytes),
    timeFrames: readTimeFramePolicy(policy.timeFrames, fail),
    retrievalTimeoutSeconds: readRetrievalTimeouts(policy.retrievalTimeoutSeconds, fail),
  };
}

/** Retrieval time frames per message kind: 60 s to a year each. */
function readRetrievalTimeouts(
  value: unknown,
  fail: (where: string, what: string) => never,
): Record<string, number> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    return fail('policy.retrievalTimeoutSeconds', 'must be an object of message kinds');
  }
  const timeouts: Record<string, number> = {};
  for (const [kind, seconds] of Object.entries(value)) {
    if (!(MESSAGE_KINDS as readonly string[]).includes(kind)) {
      fail(`policy.retrievalTimeoutSeconds.${kind}`, 'is not a message kind');
    }
    if (
      typeof seconds !== 'number' ||
      !Number.isInteger(seconds) ||
      seconds < 1 ||
      seconds > 31_536_000
    ) {
      fail(`policy.retrievalTimeoutSeconds.${kind}`, 'must be an integer from 1 to 31536000');
    }
    timeouts[kind] = seconds;
  }
  return timeouts;
}

function readValidity(
  document: Record<string, unknown>,
  fail: (where: string, what: string) => never,
): DirectoryValidity {
  const { version, issued, expires } = document;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    fail('version', 'must be a positive integer');
  }
  for (const [name, value] of [
    ['issued', issued],
    ['expires', expires],
  ] as const) {
    if (
      typeof value !== 'string' ||
      !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(value)
    ) {
      fail(name, 'must be a UTC timestamp');
    }
  }
  if (Date.parse(expires as string) <= Date.parse(issued as string))
    fail('expires', 'must be later than issued');
  return { version: version as number, issued: issued as string, expires: expires as string };
}

export function parseDirectory(bytes: Uint8Array | string): FederationDirectory {
  const fail = (where: string, what: string): never => {
    throw new DirectoryError(`directory: ${where} ${what}`);
  };
  let document: Record<string, unknown>;
  try {
    document = parseJsonObjectStrict(bytes, 'directory');
  } catch (error) {
    throw new DirectoryError(`directory: not valid JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  if (typeof document.federation !== 'string') fail('federation', 'must be a string');
  if (!Array.isArray(document.states)) fail('states', 'must be an array');
  const states = (document.states as unknown[]).map((raw, index): DirectoryState => {
    const where = `states[${index}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      fail(where, 'must be an object');
    const state = raw as Record<string, unknown>;
    if (typeof state.code !== 'string' || !STATE_CODE.test(state.code))
      fail(`${where}.code`, 'must be two capital letters');
    if (typeof state.name !== 'string') fail(`${where}.name`, 'must be a string');
    if (typeof state.routingKey !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(state.routingKey)) {
      fail(`${where}.routingKey`, 'must be a plain routing key');
    }
    const certificates = (field: string): X509Certificate[] => {
      const value = state[field];
      if (!Array.isArray(value) || value.some((pem) => typeof pem !== 'string')) {
        return fail(`${where}.${field}`, 'must be an array of PEM strings');
      }
      try {
        return (value as string[]).flatMap((pem) => readCertificatesPem(pem));
      } catch (error) {
        return fail(
          `${where}.${field}`,
          `holds an unreadable certificate (${(error as Error).message})`,
        );
      }
    };
    if (!Array.isArray(state.authorities)) fail(`${where}.authorities`, 'must be an array');
    const authorities = (state.authorities as unknown[]).map((rawAuthority, authorityIndex) => {
      const at = `${where}.authorities[${authorityIndex}]`;
      if (
        typeof rawAuthority !== 'object' ||
        rawAuthority === null ||
        Array.isArray(rawAuthority)
      ) {
        fail(at, 'must be an object');
      }
      const authority = rawAuthority as Record<string, unknown>;
      if (typeof authority.id !== 'string' || !AUTHORITY_ID.test(authority.id))
        fail(`${at}.id`, 'is not a valid authority id');
      if (typeof authority.name !== 'string') fail(`${at}.name`, 'must be a string');
      const list = <T extends string>(field: string, allowed?: readonly T[]): T[] => {
        const value = authority[field];
        if (
          !Array.isArray(value) ||
          value.some(
            (item) => typeof item !== 'string' || (allowed && !allowed.includes(item as T)),
          )
        ) {
          return fail(
            `${at}.${field}`,
            allowed ? `must list values from ${allowed.join(', ')}` : 'must be an array of strings',
          );
        }
        return value as T[];
      };
      return {
        id: authority.id as string,
        name: authority.name as string,
        types: list('types', AUTHORITY_TYPES),
        requestKinds: list('requestKinds', MESSAGE_KINDS_V1),
        languages: list('languages'),
      };
    });
    return {
      code: state.code as string,
      name: state.name as string,
      routingKey: state.routingKey as string,
      brokerUser: readBrokerUser(state.brokerUser, where),
      caCertificates: certificates('caCertificates'),
      signingCertificates: certificates('signingCertificates'),
      encryptionCertificates: certificates('encryptionCertificates'),
      authorities,
      protocolVersions: readProtocolVersions(state.protocolVersions, where, fail),
    };
  });
  const seen = new Set<string>();
  for (const [index, state] of states.entries()) {
    if (seen.has(state.code)) fail(`states[${index}].code`, `repeats ${state.code}`);
    seen.add(state.code);
  }
  const validity = readValidity(document, fail);
  const revoked = document.revokedCertificates ?? [];
  if (!Array.isArray(revoked)) fail('revokedCertificates', 'must be an array');
  const revokedCertificates = (revoked as unknown[]).map((raw, index): RevokedCertificate => {
    const entry = raw as Record<string, unknown>;
    const where = `revokedCertificates[${index}]`;
    if (typeof raw !== 'object' || raw === null) fail(where, 'must be an object');
    if (typeof entry.sha256 !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(entry.sha256)) {
      fail(`${where}.sha256`, 'must be a base64url SHA-256 thumbprint');
    }
    if (typeof entry.revokedAt !== 'string' || Number.isNaN(Date.parse(entry.revokedAt))) {
      fail(`${where}.revokedAt`, 'must be a timestamp');
    }
    if (typeof entry.reason !== 'string') fail(`${where}.reason`, 'must be a string');
    return {
      sha256: entry.sha256 as string,
      revokedAt: entry.revokedAt as string,
      reason: entry.reason as string,
    };
  });
  return new FederationDirectory(
    document.federation as string,
    states,
    validity,
    revokedCertificates,
    readPolicy(document.policy, fail),
  );
}
