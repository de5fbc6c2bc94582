import {
  type JweDecryptPolicy,
  type ParsedJwe,
  decryptJweCompact,
  decryptJweCompactWithContentKey,
  encryptJweCompactKeepingKey,
  parseJsonObjectStrict,
  parseJweCompact,
  parseJwsCompact,
  signJwsCompact,
  verifyJwsCompact,
} from '@comity/jose';
import type { CertificateVerifier, VerifiedCertificate } from '@comity/pki';
import {
  CONTENT_ENCRYPTION_ALGORITHM,
  KEY_MANAGEMENT_ALGORITHM,
  SIGNATURE_ALGORITHM,
  decryptionPolicy,
  signaturePolicy,
} from './algorithm-policy';
import { sha256Base64Url } from './digest';
import { requireOnlyHeaderMembers, toProtocolError } from './error-mapping';
import { FieldReader } from './fields';
import type { DecryptionIdentity, SigningIdentity } from './gateway-identity';
import { ProtocolError } from './protocol-error';
import { readRequestContent, type RequestContent } from './request-content';
import {
  PROTOCOL_VERSION,
  readParty,
  readRoutingHeader,
  type Party,
  type RoutingHeader,
} from './routing-header';
import { MESSAGE_KINDS, headerVersionOf } from './message-kinds';

export const ENVELOPE_TYPE = 'comity-envelope+jws';
export const CONTENT_TYPE = 'comity-content+jws';
export const ENVELOPE_MEDIA_TYPE = 'application/comity-envelope+json';

/** The inner, signed statement of content: binds what was written to who sent it to whom. */
export interface ContentStatement {
  v: typeof PROTOCOL_VERSION;
  envelopeId: string;
  kind: RoutingHeader['kind'];
  from: Party;
  to: Party;
  content: RequestContent;
}

export type RoutingFields = Omit<RoutingHeader, 'v' | 'contentDigest'>;

export interface SealedEnvelope {
  header: RoutingHeader;
  /** The exact bytes that travel and that receipts bind by digest. */
  bytes: Buffer;
  digest: string;
  /** The inner signed content (compact JWS). */
  contentJws: string;
  /**
   * The content JWE's content encryption key: the sender keeps it sealed on its side
   * (`sealSenderCopy`) to read its own request later without being a recipient of it.
   */
  contentKey: Buffer;
}

/** No request stays valid for longer than this, whatever its header says. */
export const MAX_ENVELOPE_LIFETIME_MS = 400 * 24 * 3600 * 1000;

export interface EnvelopeCheckContext {
  verifier: CertificateVerifier;
  /** This gateway's State: the only acceptable recipient. */
  self: string;
  now: Date;
  maxEnvelopeBytes: number;
  clockSkewMs: number;
}

export type AuthenticatedEnvelope = SignedEnvelope;

export interface OpenedEnvelope extends AuthenticatedEnvelope {
  statement: ContentStatement;
  contentJws: string;
}

/** Encrypts to one certificate only (the recipient's, or the sender's own copy). */
export function encryptToCertificate(
  plaintext: Uint8Array,
  recipient: VerifiedCertificate,
): string {
  return encryptToCertificateKeepingKey(plaintext, recipient).token;
}

function encryptToCertificateKeepingKey(
  plaintext: Uint8Array,
  recipient: VerifiedCertificate,
): { token: string; cek: Buffer } {
  return encryptJweCompactKeepingKey(plaintext, recipient.publicKey, {
    alg: KEY_MANAGEMENT_ALGORITHM[recipient.suite],
    enc: CONTENT_ENCRYPTION_ALGORITHM,
    cty: CONTENT_TYPE,
    'x5t#S256': recipient.sha256Thumbprint,
  });
}

export function sealEnvelope(input: {
  routing: RoutingFields;
  content: RequestContent;
  signer: SigningIdentity;
  recipient: VerifiedCertificate;
}): SealedEnvelope {
  const { routing, content, signer, recipient } = input;
  if (recipient.purpose !== 'encryption' || recipient.state !== routing.to.state) {
    throw new Error(`the encryption certificate is not ${routing.to.state}'s`);
  }
  const statement: ContentStatement = {
    v: PROTOCOL_VERSION,
    envelopeId: routing.id,
    kind: routing.kind,
    from: routing.from,
    to: routing.to,
    content,
  };
  const contentJws = signJwsCompact(Buffer.from(JSON.stringify(statement)), signer.key, {
    alg: SIGNATURE_ALGORITHM[signer.suite],
    typ: CONTENT_TYPE,
    'x5t#S256': signer.thumbprint,
  });
  const { token: contentJwe, cek: contentKey } = encryptToCertificateKeepingKey(
    Buffer.from(contentJws, 'ascii'),
    recipient,
  );
  const header: RoutingHeader = {
    v: headerVersionOf(routing.kind, content.request !== undefined),
    ...routing,
    contentDigest: sha256Base64Url(contentJwe),
  };
  const headerJws = signJwsCompact(Buffer.from(JSON.stringify(header)), signer.key, {
    alg: SIGNATURE_ALGORITHM[signer.suite],
    typ: ENVELOPE_TYPE,
    x5c: signer.x5c,
  });
  const bytes = Buffer.from(serializeEnvelope(headerJws, contentJwe));
  return { header, bytes, digest: sha256Base64Url(bytes), contentJws, contentKey };
}

/** Splits the wire form into its two JOSE objects; nothing else may be present. */
export function readEnvelopeParts(bytes: Uint8Array): { headerJws: string; contentJwe: string } {
  let wrapper: Record<string, unknown>;
  try {
    wrapper = parseJsonObjectStrict(bytes, 'envelope');
  } catch (error) {
    throw toProtocolError(error, 'envelope', 'malformed-envelope');
  }
  const reader: FieldReader = new FieldReader('malformed-envelope', 'envelope');
  reader.onlyMembers(wrapper, ['comity', 'header', 'content']);
  if (wrapper.comity !== PROTOCOL_VERSION) reader.fail('comity', `must be ${PROTOCOL_VERSION}`);
  const parts = {
    headerJws: reader.string(wrapper, 'header', /^[A-Za-z0-9_.-]+$/, 64 * 1024),
    contentJwe: reader.string(wrapper, 'content', /^[A-Za-z0-9_.-]+$/, Number.MAX_SAFE_INTEGER),
  };
  // The signatures cover the two strings, the receipt's digest covers the bytes: only one byte
  // form may exist, or a re-serialized copy would verify with another digest.
  if (!Buffer.from(serializeEnvelope(parts.headerJws, parts.contentJwe)).equals(bytes)) {
    throw new ProtocolError(
      'malformed-envelope',
      'envelope is not in canonical form ({"comity":1,"header":...,"content":...} with no whitespace)',
    );
  }
  return parts;
}

/** The one byte form of an envelope: members in this order, no whitespace. */
export function serializeEnvelope(headerJws: string, contentJwe: string): string {
  return `{"comity":${PROTOCOL_VERSION},"header":"${headerJws}","content":"${contentJwe}"}`;
}

/** An envelope whose outer signature and sender certificate chain have been checked, nothing more. */
export interface SignedEnvelope {
  header: RoutingHeader;
  sender: VerifiedCertificate;
  bytes: Buffer;
  digest: string;
  contentJwe: string;
}

/**
 * Checks the outer signature: structure, the sender's certificate chain at `at`, the signature
 * under the suite's algorithm, and the routing header's form. Says nothing yet about recipient,
 * freshness or content; `authenticateEnvelope` adds those for a receiving gateway.
 */
export function verifyEnvelopeSignature(
  bytes: Buffer,
  verifier: CertificateVerifier,
  at: Date,
): SignedEnvelope {
  const { headerJws, contentJwe } = readEnvelopeParts(bytes);
  const { header, sender } = verifyEnvelopeHeader(headerJws, verifier, at);
  return { header, sender, bytes, digest: sha256Base64Url(bytes), contentJwe };
}

/**
 * The outer signature alone (the `header` member of an envelope): what is left to check of an
 * envelope whose encrypted content was purged under a retention policy (docs/evidence.md).
 */
export function verifyEnvelopeHeader(
  headerJws: string,
  verifier: CertificateVerifier,
  at: Date,
): { header: RoutingHeader; sender: VerifiedCertificate } {
  try {
    const parsed = parseJwsCompact(headerJws);
    requireOnlyHeaderMembers(parsed.header, ['alg', 'typ', 'x5c'], 'the envelope signature');
    if (parsed.header.typ !== ENVELOPE_TYPE) {
      throw new ProtocolError(
        'malformed-envelope',
        `the envelope signature's typ must be ${ENVELOPE_TYPE}`,
      );
    }
    const x5c = parsed.header.x5c;
    if (!Array.isArray(x5c) || !x5c.every((entry) => typeof entry === 'string')) {
      throw new ProtocolError(
        'malformed-envelope',
        'the envelope signature must carry an x5c chain',
      );
    }
    const sender = verifier.verifyChain(x5c as string[], 'signing', at);
    verifyJwsCompact(parsed, sender.publicKey, signaturePolicy(sender.suite));
    let headerObject: Record<string, unknown>;
    try {
      headerObject = parseJsonObjectStrict(parsed.payload, 'header');
    } catch (error) {
      throw toProtocolError(error, 'routing header', 'malformed-header');
    }
    const header = readRoutingHeader(headerObject);
    if (header.from.state !== sender.state) {
      throw new ProtocolError(
        'sender-mismatch',
        `header.from.state is ${header.from.state} but the signing certificate belongs to ${sender.state}`,
      );
    }
    return { header, sender };
  } catch (error) {
    throw toProtocolError(error, 'envelope signature', 'malformed-envelope');
  }
}

/** The routing header of a header JWS as claimed, signature NOT checked. */
export function readUnverifiedHeaderJws(headerJws: string): RoutingHeader {
  try {
    return readRoutingHeader(parseJsonObjectStrict(parseJwsCompact(headerJws).payload, 'header'));
  } catch (error) {
    throw toProtocolError(error, 'envelope header', 'malformed-envelope');
  }
}

/** The routing header as claimed, signature NOT checked: only for choosing what to check next. */
export function readUnverifiedHeader(bytes: Buffer): RoutingHeader {
  return readUnverifiedHeaderJws(readEnvelopeParts(bytes).headerJws);
}

/**
 * Authenticates an envelope before anything is decrypted: size, structure, the sender's
 * certificate chain, the outer signature, routing and freshness, and the content digest.
 * Whatever passes here has a known, certified sender, who may be answered with a signed
 * negative receipt if the content later fails.
 */
export function authenticateEnvelope(
  bytes: Buffer,
  context: EnvelopeCheckContext,
): AuthenticatedEnvelope {
  checkEnvelopeSize(bytes, context.maxEnvelopeBytes);
  const envelope = verifyEnvelopeSignature(bytes, context.verifier, context.now);
  checkContentDigest(envelope);
  checkEnvelopeAcceptable(envelope, context);
  return envelope;
}

export function checkEnvelopeSize(bytes: Buffer, maxEnvelopeBytes: number): void {
  if (bytes.length > maxEnvelopeBytes) {
    throw new ProtocolError(
      'envelope-too-large',
      `envelope is ${bytes.length} bytes; the limit is ${maxEnvelopeBytes}`,
    );
  }
}

/**
 * The checks that follow a valid outer signature: addressed to this State, fresh, and not
 * valid for an unreasonable time. A failure here comes from a certified sender, who is owed a
 * signed negative receipt.
 */
export function checkEnvelopeAcceptable(
  envelope: SignedEnvelope,
  context: Pick<EnvelopeCheckContext, 'self' | 'now' | 'clockSkewMs'>,
): void {
  const { header } = envelope;
  if (header.to.state !== context.self) {
    throw new ProtocolError(
      'wrong-recipient',
      `envelope is addressed to ${header.to.state}, not ${context.self}`,
    );
  }
  const now = context.now.getTime();
  if (Date.parse(header.expires) <= now - context.clockSkewMs) {
    throw new ProtocolError('envelope-expired', `envelope expired at ${header.expires}`);
  }
  if (Date.parse(header.created) > now + context.clockSkewMs) {
    throw new ProtocolError(
      'envelope-not-yet-valid',
      `envelope is created in the future (${header.created})`,
    );
  }
  if (Date.parse(header.expires) - Date.parse(header.created) > MAX_ENVELOPE_LIFETIME_MS) {
    throw new ProtocolError(
      'envelope-lifetime-too-long',
      `envelope is valid from ${header.created} to ${header.expires}, longer than ${MAX_ENVELOPE_LIFETIME_MS / 86_400_000} days`,
    );
  }
}

export function checkContentDigest(envelope: SignedEnvelope): void {
  if (sha256Base64Url(envelope.contentJwe) !== envelope.header.contentDigest) {
    throw new ProtocolError(
      'content-digest-mismatch',
      'the content does not match header.contentDigest',
    );
  }
}

/** Verifies a content statement signed by `sender` and returns it, whoever decrypted it. */
export function verifyContentStatement(
  contentJws: string,
  sender: VerifiedCertificate,
): ContentStatement {
  try {
    const parsed = parseJwsCompact(contentJws);
    requireOnlyHeaderMembers(parsed.header, ['alg', 'typ', 'x5t#S256'], 'the content signature');
    if (
      parsed.header.typ !== CONTENT_TYPE ||
      parsed.header['x5t#S256'] !== sender.sha256Thumbprint
    ) {
      throw new ProtocolError(
        'invalid-content-signature',
        'the content is not signed by the certificate that signed the envelope',
      );
    }
    verifyJwsCompact(parsed, sender.publicKey, signaturePolicy(sender.suite));
    return readContentStatement(parseJsonObjectStrict(parsed.payload, 'content statement'));
  } catch (error) {
    const mapped = toProtocolError(error, 'content signature', 'malformed-content');
    if (mapped.reason === 'invalid-signature') {
      throw new ProtocolError('invalid-content-signature', mapped.message, { cause: error });
    }
    throw mapped;
  }
}

/** Decrypts a content JWE addressed to `self`'s encryption certificate; returns the inner JWS. */
/**
 * `self`: this gateway's decryption identity, or several during a key rollover (the current
 * one and retired ones still receiving envelopes sealed before the switch); the JWE's
 * `x5t#S256` picks the key.
 */
export function decryptFromCertificate(
  contentJwe: string,
  self: DecryptionIdentity | readonly DecryptionIdentity[],
): string {
  const identities: readonly DecryptionIdentity[] = Array.isArray(self)
    ? self
    : [self as DecryptionIdentity];
  try {
    const parsed = parseContentJwe(contentJwe);
    const identity = identities.find(
      (candidate) => candidate.thumbprint === parsed.header['x5t#S256'],
    );
    if (!identity) {
      throw new ProtocolError(
        'wrong-recipient-key',
        'the content is encrypted to a certificate other than this gateway’s encryption certificate',
      );
    }
    requireContentType(parsed);
    return contentJwsOf(
      decryptJweCompact(parsed, identity.key, decryptionPolicy(identity.suite)).plaintext,
    );
  } catch (error) {
    throw toProtocolError(error, 'content encryption', 'malformed-envelope');
  }
}

/** Any of the protocol's content encryptions, opened with the content key instead of a private key. */
const CONTENT_KEY_POLICY: JweDecryptPolicy = {
  keyManagementAlgorithms: Object.values(KEY_MANAGEMENT_ALGORITHM),
  contentEncryptionAlgorithms: [CONTENT_ENCRYPTION_ALGORITHM],
};

/**
 * Decrypts a content JWE with its content encryption key, which only its sender keeps
 * (`SealedEnvelope.contentKey`); returns the inner JWS. Same checks as for a recipient.
 */
export function decryptWithContentKey(contentJwe: string, contentKey: Buffer): string {
  try {
    const parsed = parseContentJwe(contentJwe);
    requireContentType(parsed);
    return contentJwsOf(
      decryptJweCompactWithContentKey(parsed, contentKey, CONTENT_KEY_POLICY).plaintext,
    );
  } catch (error) {
    throw toProtocolError(error, 'content encryption', 'malformed-envelope');
  }
}

function parseContentJwe(contentJwe: string): ParsedJwe {
  const parsed = parseJweCompact(contentJwe);
  requireOnlyHeaderMembers(
    parsed.header,
    ['alg', 'enc', 'epk', 'cty', 'x5t#S256'],
    'the content encryption',
  );
  return parsed;
}

/** Checked after the recipient key is found (docs/protocol.md, the receiver's steps). */
function requireContentType(parsed: ParsedJwe): void {
  if (parsed.header.cty !== CONTENT_TYPE) {
    throw new ProtocolError(
      'malformed-envelope',
      `the content encryption's cty must be ${CONTENT_TYPE}`,
    );
  }
}

function contentJwsOf(plaintext: Buffer): string {
  // A compact JWS is ASCII; 'ascii' decoding would silently clear high bits instead of refusing.
  if (!/^[\x21-\x7e]*$/.test(plaintext.toString('latin1'))) {
    throw new ProtocolError('malformed-content', 'the decrypted content is not a compact JWS');
  }
  return plaintext.toString('ascii');
}

/** Decrypts an authenticated envelope and checks that its content is bound to its header. */
export function openEnvelope(
  envelope: AuthenticatedEnvelope,
  self: DecryptionIdentity | readonly DecryptionIdentity[],
): OpenedEnvelope {
  const contentJws = decryptFromCertificate(envelope.contentJwe, self);
  const statement = verifyContentStatement(contentJws, envelope.sender);
  const { header } = envelope;
  const bound =
    statement.envelopeId === header.id &&
    statement.kind === header.kind &&
    samePart(statement.from, header.from) &&
    samePart(statement.to, header.to);
  if (!bound) {
    throw new ProtocolError(
      'content-binding-mismatch',
      'the signed content names a different envelope id, kind, sender or recipient than the header',
    );
  }
  // Structured content travels in a version 3 header and only there (§9): a node that does not
  // read it must never have been sent it, and a version 3 header promises it.
  if ((header.v === 3) !== (statement.content.request !== undefined)) {
    throw new ProtocolError(
      'content-binding-mismatch',
      header.v === 3
        ? 'a version 3 header promises a structured request, and the content has none'
        : `a structured request must travel in a version 3 header, not version ${header.v}`,
    );
  }
  return { ...envelope, statement, contentJws };
}

function samePart(a: Party, b: Party): boolean {
  return a.state === b.state && a.authority === b.authority;
}

function readContentStatement(source: Record<string, unknown>): ContentStatement {
  const reader: FieldReader = new FieldReader('malformed-content', 'statement');
  reader.onlyMembers(source, ['v', 'envelopeId', 'kind', 'from', 'to', 'content']);
  if (source.v !== PROTOCOL_VERSION) reader.fail('v', `must be ${PROTOCOL_VERSION}`);
  const kind = reader.oneOf(source, 'kind', MESSAGE_KINDS);
  return {
    v: PROTOCOL_VERSION,
    envelopeId: reader.string(source, 'envelopeId'),
    kind,
    from: readParty(reader, source, 'from'),
    to: readParty(reader, source, 'to'),
    content: readRequestContent(reader.object(source, 'content'), kind),
  };
}
