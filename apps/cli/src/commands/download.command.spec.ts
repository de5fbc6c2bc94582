import { filenameFromDisposition, parseReprDigest, safeFilename } from './download.command';

describe('download helpers', () => {
  it('reads the SHA-256 of a Repr-Digest header as hex', () => {
    const digest = Buffer.alloc(32, 7);
    expect(parseReprDigest(`sha-256=:${digest.toString('base64')}:`)).toBe(digest.toString('hex'));
    expect(parseReprDigest(`sha-512=:AAAA:, sha-256=:${digest.toString('base64')}:`)).toBe(
      digest.toString('hex'),
    );
    expect(parseReprDigest(null)).toBeNull();
    expect(parseReprDigest('sha-256=:AAAA:')).toBeNull();
  });

  it('takes the file name from Content-Disposition, preferring filename*', () => {
    expect(
      filenameFromDisposition(
        `attachment; filename="relev_s.pdf"; filename*=UTF-8''relev%C3%A9s.pdf`,
      ),
    ).toBe('relevés.pdf');
    expect(filenameFromDisposition('attachment; filename="a.zip"')).toBe('a.zip');
    expect(filenameFromDisposition(null)).toBeNull();
  });

  it('never lets a name leave the directory', () => {
    expect(safeFilename('../../etc/passwd')).toBe('passwd');
    expect(safeFilename('..\\..\\boot.ini')).toBe('boot.ini');
    expect(safeFilename('..')).toBeNull();
    expect(safeFilename('a\u0000b')).toBe('a_b');
  });
});
