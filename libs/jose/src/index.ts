// Public entry point of @comity/jose: strict JOSE compact serializations on node:crypto.
export { JoseError, type JoseErrorCode } from './jose-error';
export { decodeBase64UrlStrict, encodeBase64Url } from './base64url';
export { parseJsonObjectStrict } from './strict-json';
export { JWS_ALGORITHMS, type JwsAlgorithm, verifyEd25519 } from './jws-algorithms';
export {
  type JwsHeader,
  type JwsVerifyPolicy,
  type ParsedJws,
  parseJwsCompact,
  signJwsCompact,
  verifyJwsCompact,
} from './jws';
export {
  type JweContentEncryptionAlgorithm,
  type JweDecryptPolicy,
  type JweHeader,
  type JweKeyManagementAlgorithm,
  type ParsedJwe,
  decryptJweCompact,
  decryptJweCompactWithContentKey,
  encryptJweCompact,
  encryptJweCompactKeepingKey,
  parseJweCompact,
} from './jwe';
export { concatKdf, deriveX25519SharedSecret, importEpk } from './ecdh';
