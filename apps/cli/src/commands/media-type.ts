import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { extname } from 'node:path';

export const OCTET_STREAM = 'application/octet-stream';

/** Bytes read from the start of a file to recognise it. */
export const HEAD_BYTES = 4096;
/** The most of a zip's end read to find its entry names (the central directory). */
const ZIP_TAIL_BYTES = 1024 * 1024;

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';

/** Media types by extension: the fallback when the bytes say nothing more precise. */
const BY_EXTENSION: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.zip': 'application/zip',
  '.docx': DOCX,
  '.xlsx': XLSX,
  '.pptx': PPTX,
  '.odt': 'application/vnd.oasis.opendocument.text',
  '.ods': 'application/vnd.oasis.opendocument.spreadsheet',
  '.doc': 'application/msword',
  '.xls': 'application/vnd.ms-excel',
  '.xml': 'application/xml',
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.md': 'text/markdown',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.eml': 'message/rfc822',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.wav': 'audio/wav',
};

/** The media type a file name's extension suggests, or null. */
export function mediaTypeByExtension(filename: string): string | null {
  return BY_EXTENSION[extname(filename).toLowerCase()] ?? null;
}

const startsWith = (head: Buffer, signature: number[] | string): boolean => {
  const bytes = typeof signature === 'string' ? Buffer.from(signature, 'latin1') : signature;
  return head.length >= bytes.length && bytes.every((byte, index) => head[index] === byte);
};

/** The media type of a zip from its entry names: an Office Open XML or OpenDocument file, or a zip. */
export function zipMediaType(head: Buffer, names: readonly string[] = []): string {
  // OpenDocument stores an uncompressed "mimetype" entry first: its bytes follow the header.
  const firstName = head.length >= 30 ? head.subarray(30, 30 + head.readUInt16LE(26)) : null;
  if (firstName?.toString('latin1') === 'mimetype') {
    const start = 30 + head.readUInt16LE(26) + head.readUInt16LE(28);
    const declared = head.subarray(start, start + head.readUInt32LE(18)).toString('latin1');
    if (/^application\/vnd\.oasis\.opendocument\.[a-z.-]+$/.test(declared)) return declared;
  }
  const all = [...names, ...(firstName ? [firstName.toString('latin1')] : [])];
  if (all.some((name) => name.startsWith('word/'))) return DOCX;
  if (all.some((name) => name.startsWith('xl/'))) return XLSX;
  if (all.some((name) => name.startsWith('ppt/'))) return PPTX;
  return 'application/zip';
}

/** Whether bytes read as text: UTF-8 (a sequence cut at the end allowed), no control characters but tab, newlines, form feed, escape. */
export function looksLikeText(head: Buffer): boolean {
  if (head.length === 0) return false;
  for (const byte of head) {
    if (byte < 0x20 && ![0x09, 0x0a, 0x0c, 0x0d, 0x1b].includes(byte)) return false;
    if (byte === 0x7f) return false;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(withoutCutSequence(head));
    return true;
  } catch {
    return false;
  }
}

/** The bytes without a multi-byte UTF-8 sequence the end of the head cut short, if any. */
function withoutCutSequence(head: Buffer): Buffer {
  for (let back = 1; back <= Math.min(3, head.length); back++) {
    const byte = head[head.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? head.subarray(0, head.length - back) : head;
  }
  return head;
}

const textAfterBom = (head: Buffer): string =>
  head
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();

/**
 * What the bytes of a file are, from its first bytes (`head`) and, for a zip, its entry names;
 * `complete` when `head` is the whole file. Null when the bytes say nothing more precise than
 * "text" or nothing at all.
 */
export function sniffMediaType(
  head: Buffer,
  options: { complete?: boolean; zipNames?: readonly string[] } = {},
): string | null {
  if (startsWith(head, '%PDF-')) return 'application/pdf';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(head, 'GIF87a') || startsWith(head, 'GIF89a')) return 'image/gif';
  if (startsWith(head, 'II*\0') || startsWith(head, 'MM\0*')) return 'image/tiff';
  if (startsWith(head, 'PK\x03\x04') || startsWith(head, 'PK\x05\x06')) {
    return zipMediaType(head, options.zipNames);
  }
  if (!looksLikeText(head)) return null;
  const text = textAfterBom(head);
  if (text.startsWith('<?xml')) return 'application/xml';
  if (/^[{[]/.test(text)) {
    if (options.complete) {
      try {
        JSON.parse(text);
        return 'application/json';
      } catch {
        return null;
      }
    }
    // Only the start is known: an object that opens with a member, or an array of values.
    if (/^(\{\s*("|\})|\[\s*([{["\d\]-]|true|false|null))/.test(text)) return 'application/json';
  }
  return null;
}

/**
 * A file's media type: from its bytes for the common types (PDF, PNG, JPEG, GIF, TIFF, zip and
 * the Office and OpenDocument formats in it, XML, JSON); then its extension; then text/plain
 * for text; then application/octet-stream.
 */
export function detectMediaType(
  filename: string,
  head: Buffer,
  options: { complete?: boolean; zipNames?: readonly string[] } = {},
): string {
  const sniffed = sniffMediaType(head, options);
  if (sniffed) return sniffed;
  const byExtension = mediaTypeByExtension(filename);
  if (looksLikeText(head)) {
    // Text: the extension may say which kind (CSV, Markdown…), but not that it is a PDF.
    return byExtension && /^(text\/|application\/(json|xml)$)/.test(byExtension)
      ? byExtension
      : 'text/plain';
  }
  return byExtension ?? OCTET_STREAM;
}

/** The entry names of a zip from its last bytes (the end-of-central-directory record and the directory). */
export function zipEntryNames(tail: Buffer): string[] {
  const eocd = tail.lastIndexOf(Buffer.from('PK\x05\x06', 'latin1'));
  if (eocd < 0 || eocd + 22 > tail.length) return [];
  const size = tail.readUInt32LE(eocd + 12);
  let at = eocd - size;
  if (at < 0) return [];
  const names: string[] = [];
  while (at + 46 <= eocd && tail.readUInt32LE(at) === 0x02014b50) {
    const nameLength = tail.readUInt16LE(at + 28);
    const skip = nameLength + tail.readUInt16LE(at + 30) + tail.readUInt16LE(at + 32);
    names.push(tail.subarray(at + 46, at + 46 + nameLength).toString('utf8'));
    at += 46 + skip;
  }
  return names;
}

/** Detects a file's media type reading only its first bytes (and a zip's central directory). */
export function mediaTypeOfFile(path: string, filename = path): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(HEAD_BYTES, size));
    readSync(fd, head, 0, head.length, 0);
    let zipNames: string[] | undefined;
    if (startsWith(head, 'PK\x03\x04')) {
      const tail = Buffer.alloc(Math.min(ZIP_TAIL_BYTES, size));
      readSync(fd, tail, 0, tail.length, size - tail.length);
      zipNames = zipEntryNames(tail);
    }
    return detectMediaType(filename, head, { complete: size <= HEAD_BYTES, zipNames });
  } finally {
    closeSync(fd);
  }
}

/** Detects the media type of a file's bytes already in memory (an inline attachment). */
export function mediaTypeOfBytes(filename: string, bytes: Buffer): string {
  const head = bytes.subarray(0, HEAD_BYTES);
  const zipNames = startsWith(head, 'PK\x03\x04')
    ? zipEntryNames(bytes.subarray(Math.max(0, bytes.length - ZIP_TAIL_BYTES)))
    : undefined;
  return detectMediaType(filename, head, { complete: bytes.length <= HEAD_BYTES, zipNames });
}
