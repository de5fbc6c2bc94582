import { createCipheriv, createDecipheriv, createHash, randomBytes, type Hash } from 'node:crypto';
import { FieldReader } from './fields';
import { ATTACHMENT_FILENAME, CONTENT_LIMITS, MEDIA_TYPE } from './message-kinds';
import { ProtocolError } from './protocol-error';
import { isUuidV7 } from './uuid-v7';

/**
 * Large attachments by reference (docs/protocol.md §7). The file travels as separately
 * published chunks, each encrypted and authenticated with AES-256-GCM under a fresh file key;
 * the signed, encrypted content carries the key, the SHA-256 of every ciphertext chunk and of
 * the whole plaintext. This module is the whole cryptographic and format side of it.
 */
export const LARGE_ATTACHMENT_LIMITS = {
  /** Large attachments in one message (inline ones are counted separately). */
  attachments: 10,
  minChunkBytes: 64 * 1024,
  maxChunkBytes: 8 * 1024 * 1024,
  maxChunks: 65_536,
  /** The protocol's ceiling; the policy (directory, node configuration) sets the real limit. */
  maxBytes: 65_536 * 8 * 1024 * 1024,
} as const;

export const CHUNK_KEY_BYTES = 32;
export const CHUNK_NONCE_BYTES = 12;
export const CHUNK_TAG_BYTES = 16;
/** The largest chunk body (ciphertext and tag) a receiver ever needs to take. */
export const MAX_SEALED_CHUNK_BYTES = LARGE_ATTACHMENT_LIMITS.maxChunkBytes + CHUNK_TAG_BYTES;

const AAD_LABEL = Buffer.from('comity-chunk-v1\0', 'ascii');
/** base64url of 32 bytes, canonical (the last character carries 4 bits and 2 zero bits). */
const SHA256_B64URL = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** What the signed content says about one large attachment. Member order is the wire order. */
export interface LargeAttachmentRef {
  /** UUIDv7 chosen by the sending node; bound into every chunk's AAD. */
  id: string;
  filename: string;
  mediaType: string;
  /** Plaintext bytes. */
  size: number;
  /** Plaintext bytes per chunk; the last chunk holds the rest. */
  chunkSize: number;
  /** ceil(size / chunkSize). */
  chunks: number;
  /** base64url SHA-256 of the whole plaintext. */
  sha256: string;
  /** base64url SHA-256 of each sealed chunk (ciphertext followed by the 16-byte tag), in order. */
  chunkDigests: string[];
  /** base64url of the 256-bit AES-GCM file key. */
  key: string;
}

export function chunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}

/** Plaintext length of chunk `index` of a file of `size` bytes cut in `chunkSize` pieces. */
export function plaintextChunkLength(size: number, chunkSize: number, index: number): number {
  const count = chunkCount(size, chunkSize);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`chunk index ${index} is outside 0..${count - 1}`);
  }
  return index === count - 1 ? size - chunkSize * (count - 1) : chunkSize;
}

/** 96-bit GCM nonce: four zero bytes, then the chunk index as an unsigned 64-bit big-endian integer. */
export function chunkNonce(index: number): Buffer {
  const nonce = Buffer.alloc(CHUNK_NONCE_BYTES);
  nonce.writeBigUInt64BE(BigInt(index), 4);
  return nonce;
}

/**
 * Additional authenticated data of a chunk: "comity-chunk-v1" NUL, the attachment id (36 ASCII
 * characters), the chunk index (uint32 big-endian) and a final-chunk flag (0x01 on the last
 * chunk, 0x00 otherwise). A chunk therefore authenticates only at its own place in its own file,
 * and a file cannot be cut short at a chunk boundary.
 */
export function chunkAad(attachmentId: string, index: number, final: boolean): Buffer {
  const aad = Buffer.alloc(AAD_LABEL.length + 36 + 4 + 1);
  AAD_LABEL.copy(aad, 0);
  aad.write(attachmentId, AAD_LABEL.length, 36, 'ascii');
  aad.writeUInt32BE(index, AAD_LABEL.length + 36);
  aad[aad.length - 1] = final ? 1 : 0;
  return aad;
}

export function newFileKey(): Buffer {
  return randomBytes(CHUNK_KEY_BYTES);
}

export interface ChunkPosition {
  attachmentId: string;
  index: number;
  final: boolean;
}

/** Encrypts one plaintext chunk; returns ciphertext followed by the 16-byte tag. */
export function encryptChunk(key: Uint8Array, position: ChunkPosition, plaintext: Buffer): Buffer {
  if (key.length !== CHUNK_KEY_BYTES) throw new RangeError('a file key is 32 bytes');
  const cipher = createCipheriv('aes-256-gcm', key, chunkNonce(position.index), {
    authTagLength: CHUNK_TAG_BYTES,
  });
  cipher.setAAD(chunkAad(position.attachmentId, position.index, position.final));
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** Decrypts and authenticates one sealed chunk at its position, or refuses it (`attachment-decryption-failed`). */
export function decryptChunk(key: Uint8Array, position: ChunkPosition, sealed: Buffer): Buffer {
  const where = `attachment ${position.attachmentId} chunk ${position.index}`;
  if (key.length !== CHUNK_KEY_BYTES || sealed.length < CHUNK_TAG_BYTES) {
    throw new ProtocolError('attachment-decryption-failed', `${where} is too short to be sealed`);
  }
  const decipher = createDecipheriv('aes-256-gcm', key, chunkNonce(position.index), {
    authTagLength: CHUNK_TAG_BYTES,
  });
  decipher.setAAD(chunkAad(position.attachmentId, position.index, position.final));
  decipher.setAuthTag(sealed.subarray(sealed.length - CHUNK_TAG_BYTES));
  const plaintext = decipher.update(sealed.subarray(0, sealed.length - CHUNK_TAG_BYTES));
  try {
    decipher.final();
  } catch (error) {
    throw new ProtocolError(
      'attachment-decryption-failed',
      `${where} does not authenticate under the file key at this position`,
      { cause: error },
    );
  }
  return plaintext;
}

export function sha256Of(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('base64url');
}

/**
 * Checks the chunks of one large attachment as they are read, in order, one at a time (constant
 * memory): for each, its SHA-256 against the signed list, then its length, then GCM
 * authentication under the file key at its position; at the end, the plaintext SHA-256. The
 * first failure throws a ProtocolError naming attachment and chunk.
 */
export class LargeAttachmentVerifier {
  private readonly key: Buffer;
  private readonly hash: Hash = createHash('sha256');
  private nextIndex = 0;

  /** `position`: the attachment's index in `largeAttachments`, for messages. */
  constructor(
    readonly ref: LargeAttachmentRef,
    private readonly position: number,
  ) {
    this.key = Buffer.from(ref.key, 'base64url');
  }

  get expectedIndex(): number {
    return this.nextIndex;
  }

  /** Takes the next sealed chunk; returns its plaintext. */
  next(sealed: Buffer): Buffer {
    const { ref } = this;
    const index = this.nextIndex;
    const where = `largeAttachments[${this.position}] chunk ${index}`;
    if (index >= ref.chunks) {
      throw new ProtocolError('attachment-incomplete', `${where}: the file has only ${ref.chunks}`);
    }
    if (sha256Of(sealed) !== ref.chunkDigests[index]) {
      throw new ProtocolError(
        'attachment-chunk-digest-mismatch',
        `${where}: its SHA-256 is not the one in the signed content`,
      );
    }
    const expected = plaintextChunkLength(ref.size, ref.chunkSize, index) + CHUNK_TAG_BYTES;
    if (sealed.length !== expected) {
      throw new ProtocolError(
        'attachment-chunk-digest-mismatch',
        `${where} is ${sealed.length} bytes sealed; ${expected} expected`,
      );
    }
    let plaintext: Buffer;
    try {
      plaintext = decryptChunk(
        this.key,
        { attachmentId: ref.id, index, final: index === ref.chunks - 1 },
        sealed,
      );
    } catch (error) {
      if (error instanceof ProtocolError) {
        throw new ProtocolError('attachment-decryption-failed', `${where}: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
    this.hash.update(plaintext);
    this.nextIndex += 1;
    return plaintext;
  }

  /** After the last chunk: every chunk seen, and the plaintext is the one that was signed. */
  finish(): void {
    if (this.nextIndex !== this.ref.chunks) {
      throw new ProtocolError(
        'attachment-incomplete',
        `largeAttachments[${this.position}]: ${this.nextIndex} of ${this.ref.chunks} chunks`,
      );
    }
    if (this.hash.digest('base64url') !== this.ref.sha256) {
      throw new ProtocolError(
        'attachment-digest-mismatch',
        `largeAttachments[${this.position}]: the SHA-256 of the reassembled file is not the signed one`,
      );
    }
  }
}

/** Reads `content.largeAttachments` strictly: exact members, limits, consistent sizes, unique ids. */
export function readLargeAttachments(value: unknown): LargeAttachmentRef[] {
  // Annotated: assertion-style narrowing through `fail(): never` needs an explicit type.
  const reader: FieldReader = new FieldReader('malformed-content', 'content');
  if (!Array.isArray(value)) reader.fail('largeAttachments', 'must be an array');
  if (value.length === 0 || value.length > LARGE_ATTACHMENT_LIMITS.attachments) {
    reader.fail(
      'largeAttachments',
      `must hold 1 to ${LARGE_ATTACHMENT_LIMITS.attachments} files (leave it out when there are none)`,
    );
  }
  const ids = new Set<string>();
  return value.map((item: unknown, index): LargeAttachmentRef => {
    const at = `largeAttachments[${index}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      reader.fail(at, 'must be an object');
    }
    const record = item as Record<string, unknown>;
    const field: FieldReader = new FieldReader('malformed-content', `content.${at}`);
    field.onlyMembers(record, [
      'id',
      'filename',
      'mediaType',
      'size',
      'chunkSize',
      'chunks',
      'sha256',
      'chunkDigests',
      'key',
    ]);
    const id = field.string(record, 'id', undefined, 36);
    if (!isUuidV7(id)) field.fail('id', 'must be a lower-case UUIDv7');
    if (ids.has(id)) field.fail('id', 'repeats another large attachment');
    ids.add(id);
    const size = field.integer(record, 'size', 1, LARGE_ATTACHMENT_LIMITS.maxBytes);
    const chunkSize = field.integer(
      record,
      'chunkSize',
      LARGE_ATTACHMENT_LIMITS.minChunkBytes,
      LARGE_ATTACHMENT_LIMITS.maxChunkBytes,
    );
    const chunks = field.integer(record, 'chunks', 1, LARGE_ATTACHMENT_LIMITS.maxChunks);
    if (chunks !== chunkCount(size, chunkSize)) {
      field.fail('chunks', `must be ceil(size / chunkSize) = ${chunkCount(size, chunkSize)}`);
    }
    const digests = record.chunkDigests;
    if (!Array.isArray(digests) || digests.length !== chunks) {
      field.fail('chunkDigests', `must be an array of ${chunks} SHA-256 digests`);
    }
    digests.forEach((digest: unknown, position) => {
      if (typeof digest !== 'string' || !SHA256_B64URL.test(digest)) {
        field.fail(`chunkDigests[${position}]`, 'must be a base64url SHA-256 digest');
      }
    });
    return {
      id,
      filename: field.string(
        record,
        'filename',
        ATTACHMENT_FILENAME,
        CONTENT_LIMITS.attachmentFilenameChars,
      ),
      mediaType: field.string(record, 'mediaType', MEDIA_TYPE),
      size,
      chunkSize,
      chunks,
      sha256: field.string(record, 'sha256', SHA256_B64URL, 43),
      chunkDigests: digests as string[],
      key: field.string(record, 'key', SHA256_B64URL, 43),
    };
  });
}
