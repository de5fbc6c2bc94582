import { createHash, randomBytes } from 'node:crypto';
import {
  CHUNK_TAG_BYTES,
  LARGE_ATTACHMENT_LIMITS,
  LargeAttachmentVerifier,
  chunkAad,
  chunkCount,
  chunkNonce,
  decryptChunk,
  encryptChunk,
  newFileKey,
  plaintextChunkLength,
  readLargeAttachments,
  sha256Of,
  type LargeAttachmentRef,
} from './large-attachments';
import { ProtocolError } from './protocol-error';
import { readRequestContent } from './request-content';
import { uuidV7 } from './uuid-v7';

const CHUNK = LARGE_ATTACHMENT_LIMITS.minChunkBytes;

/** A file cut in chunks and sealed as a sending node does it, with the reference it signs. */
function sealedFile(size: number, chunkSize = CHUNK) {
  const id = uuidV7();
  const key = newFileKey();
  const plaintext = randomBytes(size);
  const chunks = chunkCount(size, chunkSize);
  const sealed = Array.from({ length: chunks }, (_, index) =>
    encryptChunk(
      key,
      { attachmentId: id, index, final: index === chunks - 1 },
      plaintext.subarray(index * chunkSize, Math.min(size, (index + 1) * chunkSize)),
    ),
  );
  const ref: LargeAttachmentRef = {
    id,
    filename: 'evidence.bin',
    mediaType: 'application/octet-stream',
    size,
    chunkSize,
    chunks,
    sha256: createHash('sha256').update(plaintext).digest('base64url'),
    chunkDigests: sealed.map((chunk) => sha256Of(chunk)),
    key: key.toString('base64url'),
  };
  return { id, key, plaintext, sealed, ref };
}

/** Runs the receiver's check over `chunks` (in this order) and returns the refusal, if any. */
function verify(ref: LargeAttachmentRef, chunks: Buffer[]): ProtocolError | Buffer {
  const verifier = new LargeAttachmentVerifier(ref, 0);
  try {
    const parts = chunks.map((chunk) => verifier.next(chunk));
    verifier.finish();
    return Buffer.concat(parts);
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
}

function reasonOf(result: ProtocolError | Buffer): string {
  return result instanceof ProtocolError ? result.reason : 'accepted';
}

describe('chunk sealing (AES-256-GCM per chunk)', () => {
  it('derives the nonce from the index and binds id, index and the final flag in the AAD', () => {
    expect(chunkNonce(0).toString('hex')).toBe('000000000000000000000000');
    expect(chunkNonce(258).toString('hex')).toBe('000000000000000000000102');
    const id = '01a224ad-4bf5-780f-9ba7-05ab9accab02';
    expect(chunkAad(id, 1, true).toString('hex')).toBe(
      Buffer.concat([
        Buffer.from(`comity-chunk-v1\0${id}`, 'ascii'),
        Buffer.from([0, 0, 0, 1, 1]),
      ]).toString('hex'),
    );
  });

  it('round-trips a chunk, and the same plaintext at the same place seals to the same bytes', () => {
    const key = newFileKey();
    const position = { attachmentId: uuidV7(), index: 3, final: false };
    const plaintext = randomBytes(1000);
    const sealed = encryptChunk(key, position, plaintext);
    expect(sealed).toHaveLength(1000 + CHUNK_TAG_BYTES);
    expect(decryptChunk(key, position, sealed)).toEqual(plaintext);
    expect(encryptChunk(key, position, plaintext)).toEqual(sealed);
  });

  test.each([
    ['another index', { index: 4 }],
    ['another attachment', { attachmentId: uuidV7() }],
    ['the final flag flipped', { final: true }],
  ])('refuses a chunk read at %s', (_name, change) => {
    const key = newFileKey();
    const position = { attachmentId: uuidV7(), index: 3, final: false };
    const sealed = encryptChunk(key, position, randomBytes(100));
    expect(() => decryptChunk(key, { ...position, ...change }, sealed)).toThrow(
      expect.objectContaining({ reason: 'attachment-decryption-failed' }),
    );
  });

  it('refuses a chunk too short to hold a tag', () => {
    expect(() =>
      decryptChunk(
        newFileKey(),
        { attachmentId: uuidV7(), index: 0, final: true },
        Buffer.alloc(8),
      ),
    ).toThrow(expect.objectContaining({ reason: 'attachment-decryption-failed' }));
  });

  it('cuts files in chunks of chunkSize, the last one holding the rest', () => {
    expect(chunkCount(1, CHUNK)).toBe(1);
    expect(chunkCount(CHUNK, CHUNK)).toBe(1);
    expect(chunkCount(CHUNK + 1, CHUNK)).toBe(2);
    expect(plaintextChunkLength(CHUNK * 2 + 5, CHUNK, 0)).toBe(CHUNK);
    expect(plaintextChunkLength(CHUNK * 2 + 5, CHUNK, 2)).toBe(5);
    expect(() => plaintextChunkLength(CHUNK, CHUNK, 1)).toThrow(RangeError);
  });
});

describe('LargeAttachmentVerifier (the receiver reassembling a file)', () => {
  const file = sealedFile(3 * CHUNK + 1234);

  it('accepts the chunks in order and gives back the exact file', () => {
    const result = verify(file.ref, file.sealed);
    expect(result).toEqual(file.plaintext);
  });

  it('refuses a tampered chunk (one bit flipped): its digest is not the signed one', () => {
    const tampered = file.sealed.map((chunk) => Buffer.from(chunk));
    tampered[1]![10]! ^= 0x01;
    const result = verify(file.ref, tampered);
    expect(reasonOf(result)).toBe('attachment-chunk-digest-mismatch');
    expect((result as ProtocolError).message).toContain('largeAttachments[0] chunk 1');
  });

  it('refuses two chunks swapped', () => {
    const swapped = [file.sealed[0]!, file.sealed[2]!, file.sealed[1]!, file.sealed[3]!];
    expect(reasonOf(verify(file.ref, swapped))).toBe('attachment-chunk-digest-mismatch');
  });

  it('refuses swapped chunks even when the digest list is swapped with them (the AAD binds the index)', () => {
    const ref = {
      ...file.ref,
      chunkDigests: [
        file.ref.chunkDigests[0]!,
        file.ref.chunkDigests[2]!,
        file.ref.chunkDigests[1]!,
        file.ref.chunkDigests[3]!,
      ],
    };
    const swapped = [file.sealed[0]!, file.sealed[2]!, file.sealed[1]!, file.sealed[3]!];
    expect(reasonOf(verify(ref, swapped))).toBe('attachment-decryption-failed');
  });

  it('refuses a file truncated by its last chunk', () => {
    const result = verify(file.ref, file.sealed.slice(0, -1));
    expect(reasonOf(result)).toBe('attachment-incomplete');
  });

  it('refuses a file cut short at a chunk boundary even with a matching reference (the final flag)', () => {
    // A reference claiming only the first two chunks, with their true digests.
    const ref: LargeAttachmentRef = {
      ...file.ref,
      size: 2 * CHUNK,
      chunks: 2,
      chunkDigests: file.ref.chunkDigests.slice(0, 2),
      sha256: createHash('sha256')
        .update(file.plaintext.subarray(0, 2 * CHUNK))
        .digest('base64url'),
    };
    expect(reasonOf(verify(ref, file.sealed.slice(0, 2)))).toBe('attachment-decryption-failed');
  });

  it('refuses the chunks under a wrong key', () => {
    const ref = { ...file.ref, key: newFileKey().toString('base64url') };
    expect(reasonOf(verify(ref, file.sealed))).toBe('attachment-decryption-failed');
  });

  it("refuses another file's chunk put in its place", () => {
    const other = sealedFile(3 * CHUNK + 1234);
    const mixed = [file.sealed[0]!, other.sealed[1]!, file.sealed[2]!, file.sealed[3]!];
    expect(reasonOf(verify(file.ref, mixed))).toBe('attachment-chunk-digest-mismatch');
  });

  it('refuses a file whose plaintext digest is not the signed one', () => {
    const ref = { ...file.ref, sha256: sha256Of(Buffer.from('something else')) };
    expect(reasonOf(verify(ref, file.sealed))).toBe('attachment-digest-mismatch');
  });

  it('refuses a chunk more than the file has', () => {
    expect(reasonOf(verify(file.ref, [...file.sealed, file.sealed[3]!]))).toBe(
      'attachment-incomplete',
    );
  });
});

describe('readLargeAttachments (content.largeAttachments)', () => {
  const { ref } = sealedFile(2 * CHUNK + 7);

  function failure(value: unknown): string {
    try {
      readLargeAttachments(value);
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).reason).toBe('malformed-content');
      return (error as Error).message;
    }
    return 'accepted';
  }

  it('returns a valid list as it is', () => {
    expect(readLargeAttachments([ref])).toEqual([ref]);
  });

  test.each([
    ['not an array', {}, 'content.largeAttachments must be an array'],
    ['empty', [], 'content.largeAttachments must hold 1 to 10 files'],
    [
      'more than 10',
      Array.from({ length: 11 }, () => sealedFile(10).ref),
      'content.largeAttachments must hold 1 to 10 files',
    ],
    ['an entry that is null', [null], 'content.largeAttachments[0] must be an object'],
    [
      'an unknown member',
      [{ ...ref, note: 'x' }],
      'content.largeAttachments[0] has an unknown member "note"',
    ],
    ['an id not UUIDv7', [{ ...ref, id: 'f'.repeat(36) }], 'id must be a lower-case UUIDv7'],
    ['an id in upper case', [{ ...ref, id: ref.id.toUpperCase() }], 'id must be a lower-case'],
    ['the same id twice', [ref, ref], 'largeAttachments[1].id repeats another'],
    ['a filename with a path', [{ ...ref, filename: '../x' }], 'filename must match'],
    ['size 0', [{ ...ref, size: 0 }], 'size must be an integer from 1'],
    ['size as a string', [{ ...ref, size: '7' }], 'size must be an integer'],
    [
      'a chunk size too small',
      [{ ...ref, chunkSize: 1024 }],
      'chunkSize must be an integer from 65536 to 8388608',
    ],
    ['a chunk count that does not fit', [{ ...ref, chunks: 2 }], 'chunks must be ceil(size'],
    [
      'one digest missing',
      [{ ...ref, chunkDigests: ref.chunkDigests.slice(1) }],
      'chunkDigests must be an array of 3',
    ],
    [
      'a digest in standard base64',
      [{ ...ref, chunkDigests: [...ref.chunkDigests.slice(1), `${'a'.repeat(42)}+`] }],
      'chunkDigests[2] must be a base64url SHA-256',
    ],
    [
      'a non-canonical digest',
      [{ ...ref, sha256: `${ref.sha256.slice(0, 42)}B` }],
      'sha256 must match',
    ],
    ['a short key', [{ ...ref, key: ref.key.slice(1) }], 'key must match'],
  ])('%s → malformed-content naming the field', (_name, value, message) => {
    expect(failure(value)).toContain(message);
  });

  it('is part of the content: optional, strict, and absent when there are none', () => {
    const base = {
      legalBasis: 'UNCAC art. 46',
      urgency: 'routine',
      deadline: null,
      subject: 'Evidence',
      body: 'See the attached file.',
      attachments: [],
    };
    expect(readRequestContent(base, 'mla_request')).toEqual(base);
    expect('largeAttachments' in readRequestContent(base, 'mla_request')).toBe(false);
    expect(
      readRequestContent({ ...base, largeAttachments: [ref] }, 'mla_request').largeAttachments,
    ).toEqual([ref]);
    expect(() => readRequestContent({ ...base, largeAttachments: [] }, 'mla_request')).toThrow(
      /content.largeAttachments must hold 1 to 10 files/,
    );
  });
});
