import {
  type KeyObject,
  constants,
  createCipheriv,
  createPublicKey,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { aesKeyWrap } from './aes-key-wrap';
import { decodeBase64UrlStrict, encodeBase64Url } from './base64url';
import { splitCompact } from './compact';
import {
  type JweContentEncryptionAlgorithm,
  contentSpec,
  decryptContent,
  encryptContent,
  gcmCipher,
} from './content-encryption';
import { concatKdf, deriveEcdhSharedSecret, generateEphemeralKey } from './ecdh';
import { checkCommonHeader } from './header-rules';
import { JoseError } from './jose-error';
import { DEFAULT_MIN_RSA_MODULUS_BITS, requireRsaKey } from './key-types';
import {
  GCM_KW_IV_BYTES,
  checkAlgorithms,
  GCM_KW_TAG_BYTES,
  KEY_MANAGEMENT,
  decodeHeaderBytes,
  readPartyInfo,
  recoverContentKey,
  requireSecret,
  type JweHeader,
  type JweKeyManagementAlgorithm,
  type ParsedJwe,
} from './jwe-key-management';
import { parseJsonObjectStrict } from './strict-json';

export type { JweHeader, JweKeyManagementAlgorithm, ParsedJwe };

export type { JweContentEncryptionAlgorithm } from './content-encryption';

export interface JweDecryptPolicy {
  keyManagementAlgorithms: readonly JweKeyManagementAlgorithm[];
  contentEncryptionAlgorithms: readonly JweContentEncryptionAlgorithm[];
  understoodCriticalHeaders?: readonly string[];
  minRsaModulusBits?: number;
}

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

function producerCritical(header: JweHeader): readonly string[] {
  const crit = header['crit'];
  return Array.isArray(crit) ? crit.filter((name): name is string => typeof name === 'string') : [];
}
