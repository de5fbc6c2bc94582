import {
  hexOfBase64Url,
  planChunks,
  retryable,
  retryDelayMs,
  stateFileName,
  stateMatches,
  type UploadShape,
} from './upload-plan';

const upload = (overrides: Partial<UploadShape> = {}): UploadShape => ({
  id: '0197a000-0000-7000-8000-000000000001',
  size: 10 * 1024 + 100,
  chunkSize: 1024,
  chunks: 11,
  missingChunks: [[0, 10]],
  ...overrides,
});

describe('planChunks', () => {
  it('sends every chunk of a new upload, the last one short', () => {
    const plan = planChunks(upload(), 10 * 1024 + 100);
    expect(plan.chunks).toHaveLength(11);
    expect(plan.chunks[0]).toEqual({ index: 0, offset: 0, length: 1024, send: true });
    expect(plan.chunks[10]).toEqual({ index: 10, offset: 10 * 1024, length: 100, send: true });
    expect([plan.toSend, plan.bytesToSend, plan.present, plan.bytesPresent]).toEqual([
      11,
      10 * 1024 + 100,
      0,
      0,
    ]);
  });

  it('sends only the missing chunks of a resumed upload', () => {
    const plan = planChunks(
      upload({
        missingChunks: [
          [2, 3],
          [10, 10],
        ],
      }),
      10 * 1024 + 100,
    );
    expect(plan.chunks.filter((chunk) => chunk.send).map((chunk) => chunk.index)).toEqual([
      2, 3, 10,
    ]);
    expect([plan.toSend, plan.bytesToSend, plan.present, plan.bytesPresent]).toEqual([
      3,
      2 * 1024 + 100,
      8,
      8 * 1024,
    ]);
  });

  it('sends nothing when the gateway holds every chunk, and ignores ranges past the end', () => {
    expect(planChunks(upload({ missingChunks: [] }), 10 * 1024 + 100).toSend).toBe(0);
    expect(planChunks(upload({ missingChunks: [[9, 40]] }), 10 * 1024 + 100).toSend).toBe(2);
  });

  it('refuses an upload made for a file of another size, or an inconsistent one', () => {
    expect(() => planChunks(upload(), 5000)).toThrow(
      'upload 0197a000-0000-7000-8000-000000000001 is for a file of 10340 bytes; this file has 5000',
    );
    expect(() => planChunks(upload({ chunks: 3 }), 10 * 1024 + 100)).toThrow(
      /3 chunks of 1024 bytes cannot hold 10340 bytes/,
    );
  });
});

describe('upload state', () => {
  const file = { node: 'http://127.0.0.1:4101', path: '/data/a.zip', size: 5, mtimeMs: 1000 };

  it('names one state file per node and absolute path', () => {
    expect(stateFileName(file.node, file.path)).toMatch(/^[0-9a-f]{32}\.json$/);
    expect(stateFileName(file.node, file.path)).toBe(stateFileName(file.node, file.path));
    expect(stateFileName(file.node, '/data/b.zip')).not.toBe(stateFileName(file.node, file.path));
    expect(stateFileName('http://127.0.0.1:4102', file.path)).not.toBe(
      stateFileName(file.node, file.path),
    );
  });

  it('resumes only for the same file, unchanged', () => {
    const state = { ...file, uploadId: 'u', startedAt: '2026-01-01T00:00:00Z' };
    expect(stateMatches(state, file)).toBe(true);
    expect(stateMatches(null, file)).toBe(false);
    expect(stateMatches(state, { ...file, size: 6 })).toBe(false);
    expect(stateMatches(state, { ...file, mtimeMs: 1001 })).toBe(false);
    expect(stateMatches(state, { ...file, node: 'http://other' })).toBe(false);
  });
});

describe('digests and retries', () => {
  it("turns the gateway's base64url SHA-256 into hex", () => {
    expect(hexOfBase64Url('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('retries dropped connections, 429 and 5xx, with growing waits', () => {
    expect([null, 429, 500, 503].map(retryable)).toEqual([true, true, true, true]);
    expect([400, 401, 404, 409, 413].map(retryable)).toEqual([false, false, false, false, false]);
    expect([1, 2, 3, 10].map(retryDelayMs)).toEqual([250, 500, 1000, 5000]);
  });
});
