import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import {
  detectMediaType,
  looksLikeText,
  mediaTypeByExtension,
  mediaTypeOfBytes,
  mediaTypeOfFile,
  sniffMediaType,
  zipEntryNames,
} from './media-type';

const bytes = (...values: number[]): Buffer => Buffer.from(values);
const text = (value: string): Buffer => Buffer.from(value, 'utf8');
const zip = (names: string[]): Buffer =>
  Buffer.from(zipSync(Object.fromEntries(names.map((name) => [name, strToU8(`<x>${name}</x>`)]))));

describe('detectMediaType', () => {
  it.each([
    ['a PDF', text('%PDF-1.7\n%âãÏÓ\n'), 'application/pdf'],
    ['a PNG', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13), 'image/png'],
    ['a JPEG', bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46), 'image/jpeg'],
    ['a GIF87a', text('GIF87a\x01\x00'), 'image/gif'],
    ['a GIF89a', text('GIF89a\x01\x00'), 'image/gif'],
    ['a TIFF', bytes(0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0), 'image/tiff'],
    ['a zip', zip(['evidence/a.csv']), 'application/zip'],
    [
      'an empty zip',
      bytes(0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)),
      'application/zip',
    ],
    ['XML', text('<?xml version="1.0"?><request/>'), 'application/xml'],
    [
      'XML after a BOM and blank lines',
      text('\uFEFF\n  <?xml version="1.0"?><a/>'),
      'application/xml',
    ],
    ['a JSON object', text('{"case": 1}'), 'application/json'],
    ['a JSON array', text(' [1, 2]\n'), 'application/json'],
    ['plain text', text('Statement of facts\n\nOn 3 May…'), 'text/plain'],
  ])('knows %s from its bytes, whatever its name', (_what, head, type) => {
    expect(detectMediaType('file.bin', head, { complete: true })).toBe(type);
  });

  it('tells Office documents from a zip by their entries, wherever they are', () => {
    const docx = zip(['[Content_Types].xml', '_rels/.rels', 'word/document.xml']);
    const xlsx = zip(['[Content_Types].xml', 'xl/workbook.xml']);
    const pptx = zip(['[Content_Types].xml', 'ppt/presentation.xml']);
    expect(mediaTypeOfBytes('letter', docx)).toBe(
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
    expect(mediaTypeOfBytes('accounts.zip', xlsx)).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(mediaTypeOfBytes('slides', pptx)).toBe(
      'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    );
    expect(zipEntryNames(docx)).toEqual([
      '[Content_Types].xml',
      '_rels/.rels',
      'word/document.xml',
    ]);
    expect(zipEntryNames(text('not a zip'))).toEqual([]);
  });

  it('reads the type an OpenDocument file declares in its first entry', () => {
    const odt = Buffer.from(
      zipSync(
        {
          mimetype: [strToU8('application/vnd.oasis.opendocument.text'), { level: 0 }],
          'content.xml': strToU8('<office:document-content/>'),
        },
        { level: 6 },
      ),
    );
    expect(mediaTypeOfBytes('minutes', odt)).toBe('application/vnd.oasis.opendocument.text');
  });

  it('calls JSON only what parses, or (when only the start is known) what starts like JSON', () => {
    expect(detectMediaType('a', text('{not json'), { complete: true })).toBe('text/plain');
    expect(detectMediaType('a', text('{"a": [1, 2'), { complete: false })).toBe('application/json');
    expect(detectMediaType('a', text('[see annex 2]'), { complete: false })).toBe('text/plain');
  });

  it('lets the extension name the kind of text, never a binary type', () => {
    expect(detectMediaType('accounts.csv', text('date,amount\n2024-01-01,100\n'))).toBe('text/csv');
    expect(detectMediaType('notes.md', text('# Notes\n'))).toBe('text/markdown');
    expect(detectMediaType('fake.pdf', text('not a PDF at all'))).toBe('text/plain');
  });

  it('falls back to the extension, then to application/octet-stream', () => {
    const binary = bytes(0x00, 0x01, 0x02, 0xfe, 0xff, 0x10);
    expect(detectMediaType('records.xlsx', binary)).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(detectMediaType('Scan.TIFF', binary)).toBe('image/tiff');
    expect(detectMediaType('blob', binary)).toBe('application/octet-stream');
    expect(detectMediaType('empty.txt', Buffer.alloc(0))).toBe('text/plain');
    expect(detectMediaType('empty', Buffer.alloc(0))).toBe('application/octet-stream');
  });

  it('reads text as UTF-8, forgiving a character cut at the end of the head', () => {
    expect(looksLikeText(text('Déclaration'))).toBe(true);
    expect(looksLikeText(text('Déclaration').subarray(0, 2))).toBe(true);
    expect(looksLikeText(bytes(0x41, 0x00, 0x42))).toBe(false);
    expect(looksLikeText(bytes(0x41, 0xc3, 0x28, 0x42))).toBe(false);
    expect(sniffMediaType(text('hello'))).toBeNull();
    expect(mediaTypeByExtension('a/B.JPEG')).toBe('image/jpeg');
    expect(mediaTypeByExtension('noext')).toBeNull();
  });
});

describe('mediaTypeOfFile', () => {
  it('reads only the head and, for a zip, its central directory', () => {
    const directory = mkdtempSync(join(tmpdir(), 'comity-media-'));
    try {
      // A docx whose first entries fill more than the head: only the central directory tells.
      const filler = Object.fromEntries(
        Array.from({ length: 40 }, (_, index) => [
          `customXml/item${index}.xml`,
          strToU8('x'.repeat(200)),
        ]),
      );
      const docx = Buffer.from(
        zipSync(
          {
            '[Content_Types].xml': strToU8('<Types/>'),
            ...filler,
            'word/document.xml': strToU8('<w/>'),
          },
          { level: 0 },
        ),
      );
      expect(docx.length).toBeGreaterThan(4096);
      writeFileSync(join(directory, 'letter.bin'), docx);
      expect(mediaTypeOfFile(join(directory, 'letter.bin'))).toBe(
        'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      );
      writeFileSync(join(directory, 'data'), '{"a": 1}');
      expect(mediaTypeOfFile(join(directory, 'data'))).toBe('application/json');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
