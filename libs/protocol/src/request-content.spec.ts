import { CONTENT_LIMITS } from './message-kinds';
import { ProtocolError } from './protocol-error';
import { decodedBase64Length, readRequestContent } from './request-content';

function content(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    legalBasis: 'Art. 3 ECMA',
    urgency: 'routine',
    deadline: '2031-01-31',
    subject: 'Bank records',
    body: 'Please provide the records.',
    attachments: [{ filename: 'warrant.pdf', mediaType: 'application/pdf', data: 'JVBERi0xLjcK' }],
    ...overrides,
  };
}

function failure(source: Record<string, unknown>): ProtocolError {
  try {
    readRequestContent(source, 'mla_request');
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error('expected the content to be refused');
}

const attachment = (overrides: Record<string, unknown> = {}) => ({
  filename: 'a.txt',
  mediaType: 'text/plain',
  data: 'YQ==',
  ...overrides,
});

describe('readRequestContent', () => {
  it('returns valid content as it is', () => {
    expect(readRequestContent(content(), 'mla_request')).toEqual(content());
  });

  it('reads a missing or null deadline as null', () => {
    expect(readRequestContent(content({ deadline: null }), 'mla_request').deadline).toBeNull();
    expect(readRequestContent(content({ deadline: undefined }), 'mla_request').deadline).toBeNull();
  });

  it('accepts the limits exactly', () => {
    const attachments = Array.from({ length: CONTENT_LIMITS.attachments }, () => attachment());
    const read = readRequestContent(
      content({
        subject: 's'.repeat(CONTENT_LIMITS.subjectChars),
        legalBasis: 'l'.repeat(CONTENT_LIMITS.legalBasisChars),
        attachments,
      }),
      'mla_request',
    );
    expect(read.attachments).toHaveLength(CONTENT_LIMITS.attachments);
  });

  test.each([
    ['legalBasis blank', { legalBasis: '   ' }, 'content.legalBasis must match'],
    [
      'legalBasis too long',
      { legalBasis: 'l'.repeat(CONTENT_LIMITS.legalBasisChars + 1) },
      'content.legalBasis must be at most 500 characters',
    ],
    ['urgency', { urgency: 'asap' }, 'content.urgency must be one of routine, urgent, immediate'],
    [
      'deadline with a time',
      { deadline: '2031-01-31T00:00:00Z' },
      'content.deadline must be at most 10 characters',
    ],
    ['deadline in another format', { deadline: '31.01.2031' }, 'content.deadline must match'],
    ['subject missing', { subject: undefined }, 'content.subject must be a string'],
    [
      'subject too long',
      { subject: 's'.repeat(CONTENT_LIMITS.subjectChars + 1) },
      'content.subject must be at most 300 characters',
    ],
    ['body empty', { body: '' }, 'content.body must match'],
    ['attachments not an array', { attachments: {} }, 'content.attachments must be an array'],
    [
      'too many attachments',
      { attachments: Array.from({ length: CONTENT_LIMITS.attachments + 1 }, () => attachment()) },
      'content.attachments must hold at most 10 files',
    ],
    [
      'an attachment that is a string',
      { attachments: ['a.txt'] },
      'content.attachments[0] must be an object',
    ],
    [
      'an attachment that is null',
      { attachments: [attachment(), null] },
      'content.attachments[1] must be an object',
    ],
    [
      'a filename with a slash',
      { attachments: [attachment({ filename: '../etc/passwd' })] },
      'content.attachments[0].filename must match',
    ],
    [
      'a filename with a backslash',
      { attachments: [attachment({ filename: '..\\boot.ini' })] },
      'content.attachments[0].filename must match',
    ],
    [
      'a filename with NUL',
      { attachments: [attachment({ filename: 'a\u0000.pdf' })] },
      'content.attachments[0].filename must match',
    ],
    [
      'an empty filename',
      { attachments: [attachment({ filename: '' })] },
      'content.attachments[0].filename must match',
    ],
    [
      'a filename too long',
      { attachments: [attachment({ filename: `${'f'.repeat(252)}.pdf` })] },
      'content.attachments[0].filename must be at most 255 characters',
    ],
    [
      'a media type with parameters',
      { attachments: [attachment({ mediaType: 'text/plain; charset=utf-8' })] },
      'content.attachments[0].mediaType must match',
    ],
    [
      'a media type in upper case',
      { attachments: [attachment({ mediaType: 'Application/PDF' })] },
      'content.attachments[0].mediaType must match',
    ],
    [
      'data in base64url',
      { attachments: [attachment({ data: 'YQ_-' })] },
      'content.attachments[0].data must match',
    ],
    [
      'data without padding',
      { attachments: [attachment({ data: 'YQ' })] },
      'content.attachments[0].data must match',
    ],
    [
      'data with a line break',
      { attachments: [attachment({ data: 'YWJj\nZGVm' })] },
      'content.attachments[0].data must match',
    ],
    [
      'an unknown attachment member',
      { attachments: [attachment({ sha256: 'x' })] },
      'content.attachments[0] has an unknown member "sha256"',
    ],
    ['an unknown member', { language: 'fr' }, 'content has an unknown member "language"'],
  ])('%s → malformed-content naming the field', (_name, change, message) => {
    const error = failure(content(change));
    expect(error.reason).toBe('malformed-content');
    expect(error.message).toContain(message);
  });

  it('refuses inline attachments over the total byte limit, counted decoded', () => {
    // Two files of 2.5 MiB + 1 byte each: each fits, together they exceed 5 MiB.
    const half = CONTENT_LIMITS.attachmentBytesTotal / 2;
    const data = Buffer.alloc(half + 1).toString('base64');
    expect(decodedBase64Length(data)).toBe(half + 1);
    const error = failure(content({ attachments: [attachment({ data }), attachment({ data })] }));
    expect(error.message).toBe('content.attachments must total at most 5242880 bytes');
    const exact = Buffer.alloc(half).toString('base64');
    expect(
      readRequestContent(
        content({ attachments: [attachment({ data: exact }), attachment({ data: exact })] }),
        'mla_request',
      ).attachments,
    ).toHaveLength(2);
  });
});

describe('decodedBase64Length', () => {
  test.each([
    ['', 0],
    ['YQ==', 1],
    ['YWI=', 2],
    ['YWJj', 3],
    ['YWJjZA==', 4],
  ])('%j decodes to %d bytes', (data, length) => {
    expect(decodedBase64Length(data)).toBe(length);
    expect(Buffer.from(data, 'base64')).toHaveLength(length);
  });
});
