import {
  type KeyObject,
  constants,
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { aesKeyUnwrap, aesKeyWrap } from './aes-key-wrap';
import { decodeBase64UrlStrict, encodeBase64Url } from './base64url';
import { splitCompact } from './compact';
import {
  type JweContentEncryptionAlgorithm,
  contentSpec,
  decryptContent,
  encryptContent,
  gcmCipher,
  isContentEncryptionAlgorithm,
} from './content-encryption';
import { concatKdf, deriveEcdhSharedSecret, generateEphemeralKey, importEpk } from './ecdh';
import { checkCommonHeader, optionalString } from './header-rules';
import { JoseError } from './jose-error';
import {
  DEFAULT_MIN_RSA_MODULUS_BITS,
  describeKey,
  describeKeyForMessage,
  requireRsaKey,
} from './key-types';
import { parseJsonObjectStrict } from './strict-json';

export type { JweContentEncryptionAlgorithm } from './content-encryption';

export type JweKeyManagementAlgorithm =
  | 'ECDH-ES'
  | 'ECDH-ES+A128KW'
  | 'ECDH-ES+A192KW'
  | 'ECDH-ES+A256KW'
  | 'RSA-OAEP'
  | 'RSA-OAEP-256'
  | 'A128KW'
  | 'A192KW'
  | 'A256KW'
  | 'A128GCMKW'
  | 'A192GCMKW'
  | 'A256GCMKW'
  | 'dir';

export interface JweHeader {
  alg: string;
  enc: string;
  [member: string]: unknown;
}

export interface ParsedJwe {
  header: JweHeader;
  encodedHeader: string;
  encryptedKey: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

export interface JweDecryptPolicy {
  keyManagementAlgorithms: readonly JweKeyManagementAlgorithm[];
  contentEncryptionAlgorithms: readonly JweContentEncryptionAlgorithm[];
  understoodCriticalHeaders?: readonly string[];
  minRsaModulusBits?: number;
}

type KeyManagement =
  | { kind: 'ecdh-direct' }
  | { kind: 'ecdh-kw' | 'aes-kw' | 'aes-gcm-kw'; kekBytes: number }
  | { kind: 'rsa-oaep'; hash: 'sha1' | 'sha256' }
  | { kind: 'dir' };

const KEY_MANAGEMENT: Readonly<Record<JweKeyManagementAlgorithm, KeyManagement>> = {
  'ECDH-ES': { kind: 'ecdh-direct' },
  'ECDH-ES+A128KW': { kind: 'ecdh-kw', kekBytes: 16 },
  'ECDH-ES+A192KW': { kind: 'ecdh-kw', kekBytes: 24 },
  'ECDH-ES+A256KW': { kind: 'ecdh-kw', kekBytes: 32 },
  'RSA-OAEP': { kind: 'rsa-oaep', hash: 'sha1' },
  'RSA-OAEP-256': { kind: 'rsa-oaep', hash: 'sha256' },
  A128KW: { kind: 'aes-kw', kekBytes: 16 },
  A192KW: { kind: 'aes-kw', kekBytes: 24 },
  A256KW: { kind: 'aes-kw', kekBytes: 32 },
  A128GCMKW: { kind: 'aes-gcm-kw', kekBytes: 16 },
  A192GCMKW: { kind: 'aes-gcm-kw', kekBytes: 24 },
  A256GCMKW: { kind: 'aes-gcm-kw', kekBytes: 32 },
  dir: { kind: 'dir' },
};

const GCM_KW_IV_BYTES = 12;
const GCM_KW_TAG_BYTES = 16;
// Members the library computes itself when encrypting; a caller supplying them is a bug.
const COMPUTED_HEADERS = ['epk', 'iv', 'tag'] as const;

/** Encrypts to one recipient key; returns the five-part compact serialization. */
export function encryptJweCompact(
  plaintext: Uint8Array,
  recipientKey: KeyObject,
  header: JweHeader,
): string {
  return encryptJweCompactKeepingKey(plaintext, recipientKey, header).token;
}

/**
 * As `encryptJweCompact`, and also hands back the content encryption key it drew, for a
 * sender that must read its own message later without being a recipient of it (it keeps the
 * key sealed on its side; see `decryptJweCompactWithContentKey`).
 */
export function encryptJweCompactKeepingKey(
  plaintext: Uint8Array,
  recipientKey: KeyObject,
  header: JweHeader,
): { token: string; cek: Buffer } {
  const { alg, enc } = checkAlgorithms(header);
  for (const name of COMPUTED_HEADERS) {
    if (Object.hasOwn(header, name)) {
      throw new JoseError(
        'malformed',
        `header "${name}" is computed by the library and must not be supplied`,
      );
    }
  }
  checkCommonHeader(header, producerCritical(header));
  const partyInfo = readPartyInfo(header);
  const spec = contentSpec(enc);
  const management = KEY_MANAGEMENT[alg];
  const protectedHeader: Record<string, unknown> = { ...header };
  let cek: Buffer;
  let encryptedKey: Buffer = Buffer.alloc(0);

  switch (management.kind) {
    case 'dir':
      cek = requireSecret(recipientKey, spec.keyBytes, alg).export();
      break;
    case 'ecdh-direct':
    case 'ecdh-kw': {
      const ephemeral = generateEphemeralKey(recipientKey);
      const recipientPublic =
        recipientKey.type === 'private' ? createPublicKey(recipientKey) : recipientKey;
      const shared = deriveEcdhSharedSecret(ephemeral.privateKey, recipientPublic);
      protectedHeader['epk'] = ephemeral.epk;
      if (management.kind === 'ecdh-direct') {
        cek = concatKdf(shared, spec.keyBytes, enc, partyInfo.apu, partyInfo.apv);
      } else {
        cek = randomBytes(spec.keyBytes);
        encryptedKey = aesKeyWrap(
          concatKdf(shared, management.kekBytes, alg, partyInfo.apu, partyInfo.apv),
          cek,
        );
      }
      break;
    }
    case 'aes-kw':
      cek = randomBytes(spec.keyBytes);
      encryptedKey = aesKeyWrap(
        requireSecret(recipientKey, management.kekBytes, alg).export(),
        cek,
      );
      break;
    case 'aes-gcm-kw': {
      cek = randomBytes(spec.keyBytes);
      const kek = requireSecret(recipientKey, management.kekBytes, alg);
      const iv = randomBytes(GCM_KW_IV_BYTES);
      const cipher = createCipheriv(gcmCipher(management.kekBytes), kek, iv, {
        authTagLength: GCM_KW_TAG_BYTES,
      });
      encryptedKey = Buffer.concat([cipher.update(cek), cipher.final()]);
      protectedHeader['iv'] = encodeBase64Url(iv);
      protectedHeader['tag'] = encodeBase64Url(cipher.getAuthTag());
      break;
    }
    case 'rsa-oaep':
      requireRsaKey(recipientKey, DEFAULT_MIN_RSA_MODULUS_BITS, false, alg);
      cek = randomBytes(spec.keyBytes);
      encryptedKey = publicEncrypt(
        { key: recipientKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: management.hash },
        cek,
      );
      break;
  }

  const headerJson = JSON.stringify(protectedHeader);
  // Never emit a header that a strict receiver (this library included) would refuse.
  parseJsonObjectStrict(headerJson, 'JWE protected header');
  const encodedHeader = encodeBase64Url(Buffer.from(headerJson, 'utf8'));
  const iv = randomBytes(spec.ivBytes);
  const { ciphertext, tag } = encryptContent(
    enc,
    cek,
    iv,
    plaintext,
    Buffer.from(encodedHeader, 'latin1'),
  );
  const token = [
    encodedHeader,
    encodeBase64Url(encryptedKey),
    encodeBase64Url(iv),
    encodeBase64Url(ciphertext),
    encodeBase64Url(tag),
  ].join('.');
  return { token, cek };
}

/** Checks structure only (parts, base64url, header JSON); decides nothing about trust. */
export function parseJweCompact(token: string | Uint8Array): ParsedJwe {
  const [encodedHeader = '', encryptedKey = '', iv = '', ciphertext = '', tag = ''] = splitCompact(
    token,
    5,
    'JWE',
  );
  if (encodedHeader.length === 0) throw new JoseError('malformed', 'JWE protected header is empty');
  const header = parseJsonObjectStrict(
    decodeBase64UrlStrict(encodedHeader, 'JWE protected header'),
    'JWE protected header',
  );
  if (typeof header['alg'] !== 'string' || typeof header['enc'] !== 'string') {
    throw new JoseError('malformed', 'JWE protected header must have string "alg" and "enc"');
  }
  return {
    header: header as JweHeader,
    encodedHeader,
    encryptedKey: decodeBase64UrlStrict(encryptedKey, 'JWE encrypted key'),
    iv: decodeBase64UrlStrict(iv, 'JWE initialization vector'),
    ciphertext: decodeBase64UrlStrict(ciphertext, 'JWE ciphertext'),
    tag: decodeBase64UrlStrict(tag, 'JWE authentication tag'),
  };
}

/**
 * Decrypts a compact JWE with one caller-chosen key. Everything public (algorithms,
 * header members, part lengths, the ephemeral key) is checked first with precise errors;
 * after that, any failure is the same `decryption-failed`, and a key that fails to unwrap
 * is replaced by a random one (RFC 7516 §11.5) so that no step can be told apart.
 */
export function decryptJweCompact(
  token: string | Uint8Array | ParsedJwe,
  key: KeyObject,
  policy: JweDecryptPolicy,
): { header: JweHeader; plaintext: Buffer } {
  const { parsed, header, alg, enc } = checkDecryptable(token, policy);
  const cek = recoverContentKey(
    alg,
    enc,
    parsed,
    key,
    policy.minRsaModulusBits ?? DEFAULT_MIN_RSA_MODULUS_BITS,
  );
  return { header, plaintext: decryptWithContentKey(parsed, enc, cek) };
}

/**
 * Decrypts a compact JWE with its content encryption key, which the caller holds because it
 * made the JWE (`encryptJweCompactKeepingKey`): no key management is done. The checks of
 * `decryptJweCompact` that need no recipient key apply (policy, header, IV and tag lengths,
 * the encrypted key's length and the key-management header members); any failure after them
 * is the same `decryption-failed`. The encrypted key itself is not authenticated by the
 * content encryption: a caller that must know the JWE is intact as a whole checks a digest
 * of it (Comity's signed `contentDigest`).
 */
export function decryptJweCompactWithContentKey(
  token: string | Uint8Array | ParsedJwe,
  cek: Buffer,
  policy: JweDecryptPolicy,
): { header: JweHeader; plaintext: Buffer } {
  const { parsed, header, alg, enc } = checkDecryptable(token, policy);
  checkKeyManagementShape(alg, enc, parsed);
  if (cek.length !== contentSpec(enc).keyBytes) {
    throw new JoseError(
      'key-mismatch',
      `${enc} needs a ${contentSpec(enc).keyBytes}-byte content key, got ${cek.length} bytes`,
    );
  }
  return { header, plaintext: decryptWithContentKey(parsed, enc, cek) };
}

/** The public shape of the key management part, as a recipient would find it, without its key. */
function checkKeyManagementShape(
  alg: JweKeyManagementAlgorithm,
  enc: JweContentEncryptionAlgorithm,
  parsed: ParsedJwe,
): void {
  const keyBytes = contentSpec(enc).keyBytes;
  const management = KEY_MANAGEMENT[alg];
  const length = parsed.encryptedKey.length;
  const expected =
    management.kind === 'dir' || management.kind === 'ecdh-direct'
      ? 0
      : management.kind === 'ecdh-kw' || management.kind === 'aes-kw'
        ? keyBytes + 8
        : management.kind === 'aes-gcm-kw'
          ? keyBytes
          : null;
  if (expected === null ? length < DEFAULT_MIN_RSA_MODULUS_BITS / 8 : length !== expected) {
    throw new JoseError(
      'malformed',
      `JWE encrypted key for ${alg} must be ${expected ?? `at least ${DEFAULT_MIN_RSA_MODULUS_BITS / 8}`} bytes, got ${length}`,
    );
  }
  if (management.kind === 'ecdh-direct' || management.kind === 'ecdh-kw') {
    const epk = parsed.header['epk'];
    if (typeof epk !== 'object' || epk === null || Array.isArray(epk)) {
      throw new JoseError('malformed', `JWE header "epk" must be a JSON object for ${alg}`);
    }
    readPartyInfo(parsed.header);
  }
  if (management.kind === 'aes-gcm-kw') {
    decodeHeaderBytes(parsed.header, 'iv', GCM_KW_IV_BYTES);
    decodeHeaderBytes(parsed.header, 'tag', GCM_KW_TAG_BYTES);
  }
}

function decryptWithContentKey(
  parsed: ParsedJwe,
  enc: JweContentEncryptionAlgorithm,
  cek: Buffer,
): Buffer {
  try {
    return decryptContent(
      enc,
      cek,
      parsed.iv,
      parsed.ciphertext,
      parsed.tag,
      Buffer.from(parsed.encodedHeader, 'latin1'),
    );
  } catch (cause) {
    throw new JoseError('decryption-failed', 'JWE decryption failed', { cause });
  }
}

/** Everything public checked before any key is used: algorithms against the policy, header, lengths. */
function checkDecryptable(
  token: string | Uint8Array | ParsedJwe,
  policy: JweDecryptPolicy,
): {
  parsed: ParsedJwe;
  header: JweHeader;
  alg: JweKeyManagementAlgorithm;
  enc: JweContentEncryptionAlgorithm;
} {
  const parsed =
    typeof token === 'string' || token instanceof Uint8Array ? parseJweCompact(token) : token;
  const header = parsed.header;
  const { alg, enc } = checkAlgorithms(header);
  if (!policy.keyManagementAlgorithms.includes(alg)) {
    throw new JoseError(
      'algorithm-not-allowed',
      `JWE key management algorithm ${alg} is not allowed by the policy`,
    );
  }
  if (!policy.contentEncryptionAlgorithms.includes(enc)) {
    throw new JoseError(
      'algorithm-not-allowed',
      `JWE content encryption algorithm ${enc} is not allowed by the policy`,
    );
  }
  checkCommonHeader(header, policy.understoodCriticalHeaders ?? []);
  const spec = contentSpec(enc);
  if (parsed.iv.length !== spec.ivBytes) {
    throw new JoseError(
      'malformed',
      `JWE initialization vector for ${enc} must be ${spec.ivBytes} bytes, got ${parsed.iv.length}`,
    );
  }
  if (parsed.tag.length !== spec.tagBytes) {
    throw new JoseError(
      'malformed',
      `JWE authentication tag for ${enc} must be ${spec.tagBytes} bytes, got ${parsed.tag.length}`,
    );
  }
  return { parsed, header, alg, enc };
}

function recoverContentKey(
  alg: JweKeyManagementAlgorithm,
  enc: JweContentEncryptionAlgorithm,
  parsed: ParsedJwe,
  key: KeyObject,
  minRsaModulusBits: number,
): Buffer {
  const keyBytes = contentSpec(enc).keyBytes;
  const management = KEY_MANAGEMENT[alg];
  const encryptedKey = parsed.encryptedKey;
  const expectEncryptedKeyLength = (length: number): void => {
    if (encryptedKey.length !== length) {
      throw new JoseError(
        'malformed',
        `JWE encrypted key for ${alg} must be ${length} bytes, got ${encryptedKey.length}`,
      );
    }
  };

  switch (management.kind) {
    case 'dir':
      expectEncryptedKeyLength(0);
      return requireSecret(key, keyBytes, alg).export();
    case 'ecdh-direct':
    case 'ecdh-kw': {
      if (key.type !== 'private') {
        throw new JoseError(
          'key-mismatch',
          `${alg} decryption needs a private key, got ${describeKeyForMessage(describeKey(key))}`,
        );
      }
      const ephemeral = importEpk(parsed.header['epk'], key);
      const { apu, apv } = readPartyInfo(parsed.header);
      const shared = deriveEcdhSharedSecret(key, ephemeral);
      if (management.kind === 'ecdh-direct') {
        expectEncryptedKeyLength(0);
        return concatKdf(shared, keyBytes, enc, apu, apv);
      }
      expectEncryptedKeyLength(keyBytes + 8);
      const kek = concatKdf(shared, management.kekBytes, alg, apu, apv);
      return unwrapOrRandom(keyBytes, () => aesKeyUnwrap(kek, encryptedKey));
    }
    case 'aes-kw': {
      const kek = requireSecret(key, management.kekBytes, alg).export();
      expectEncryptedKeyLength(keyBytes + 8);
      return unwrapOrRandom(keyBytes, () => aesKeyUnwrap(kek, encryptedKey));
    }
    case 'aes-gcm-kw': {
      const kek = requireSecret(key, management.kekBytes, alg);
      const iv = decodeHeaderBytes(parsed.header, 'iv', GCM_KW_IV_BYTES);
      const tag = decodeHeaderBytes(parsed.header, 'tag', GCM_KW_TAG_BYTES);
      expectEncryptedKeyLength(keyBytes);
      return unwrapOrRandom(keyBytes, () => {
        const decipher = createDecipheriv(gcmCipher(management.kekBytes), kek, iv, {
          authTagLength: GCM_KW_TAG_BYTES,
        });
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(encryptedKey), decipher.final()]);
      });
    }
    case 'rsa-oaep': {
      const modulusBits = requireRsaKey(key, minRsaModulusBits, true, alg);
      expectEncryptedKeyLength(Math.ceil(modulusBits / 8));
      return unwrapOrRandom(keyBytes, () =>
        privateDecrypt(
          { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: management.hash },
          encryptedKey,
        ),
      );
    }
  }
}

// A failed or wrong-sized unwrap yields a random key: the content tag check then fails
// exactly as it would for a tampered ciphertext.
function unwrapOrRandom(keyBytes: number, unwrap: () => Buffer): Buffer {
  try {
    const cek = unwrap();
    if (cek.length === keyBytes) return cek;
  } catch {
    // Deliberately indistinguishable from a wrong CEK; see the function comment.
  }
  return randomBytes(keyBytes);
}

function checkAlgorithms(header: JweHeader): {
  alg: JweKeyManagementAlgorithm;
  enc: JweContentEncryptionAlgorithm;
} {
  const { alg, enc } = header;
  if (typeof alg !== 'string' || typeof enc !== 'string') {
    throw new JoseError('malformed', 'JWE header must have string "alg" and "enc"');
  }
  if (alg === 'RSA1_5') {
    throw new JoseError(
      'unsupported-algorithm',
      'JWE algorithm RSA1_5 is never supported: PKCS#1 v1.5 decryption is open to Bleichenbacher attacks',
    );
  }
  if (!Object.hasOwn(KEY_MANAGEMENT, alg)) {
    throw new JoseError(
      'unsupported-algorithm',
      `JWE key management algorithm "${alg}" is not supported`,
    );
  }
  if (!isContentEncryptionAlgorithm(enc)) {
    throw new JoseError(
      'unsupported-algorithm',
      `JWE content encryption algorithm "${enc}" is not supported`,
    );
  }
  // Compressing before encrypting leaks content through ciphertext length (CRIME-style).
  if (Object.hasOwn(header, 'zip')) {
    throw new JoseError(
      'unsupported-algorithm',
      'JWE header "zip" is refused: compression is never used',
    );
  }
  return { alg: alg as JweKeyManagementAlgorithm, enc };
}

function requireSecret(key: KeyObject, bytes: number, alg: string): KeyObject {
  const description = describeKey(key);
  if (description.kind !== 'secret' || description.bytes !== bytes) {
    throw new JoseError(
      'key-mismatch',
      `${alg} needs a ${bytes}-byte secret key, got ${describeKeyForMessage(description)}`,
    );
  }
  return key;
}

function readPartyInfo(header: Record<string, unknown>): { apu: Buffer; apv: Buffer } {
  const apu = optionalString(header, 'apu');
  const apv = optionalString(header, 'apv');
  return {
    apu: apu === undefined ? Buffer.alloc(0) : decodeBase64UrlStrict(apu, 'header "apu"'),
    apv: apv === undefined ? Buffer.alloc(0) : decodeBase64UrlStrict(apv, 'header "apv"'),
  };
}

function decodeHeaderBytes(header: Record<string, unknown>, name: string, bytes: number): Buffer {
  const text = optionalString(header, name);
  if (text === undefined) throw new JoseError('malformed', `JWE header "${name}" is required`);
  const value = decodeBase64UrlStrict(text, `header "${name}"`);
  if (value.length !== bytes) {
    throw new JoseError(
      'malformed',
      `JWE header "${name}" must be ${bytes} bytes, got ${value.length}`,
    );
  }
  return value;
}

// A producer may mark its own extension headers critical; they are by definition understood.
function producerCritical(header: JweHeader): readonly string[] {
  const crit = header['crit'];
  return Array.isArray(crit) ? crit.filter((name): name is string => typeof name === 'string') : [];
}
