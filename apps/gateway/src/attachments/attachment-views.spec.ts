import { contentForView, missingRanges } from './attachment-views';

describe('missingRanges (what a resumed upload still has to send)', () => {
  test.each([
    [[], 4, [[0, 3]]],
    [[0, 1, 2, 3], 4, []],
    [[0, 2, 3], 4, [[1, 1]]],
    [
      [1, 2, 5],
      8,
      [
        [0, 0],
        [3, 4],
        [6, 7],
      ],
    ],
    [[0, 1, 9], 4, [[2, 3]]],
  ])('present %j of %d → %j', (present, count, ranges) => {
    expect(missingRanges(present, count)).toEqual(ranges);
  });
});

describe('contentForView', () => {
  it('withholds the file keys of large attachments and leaves the rest', () => {
    const content = {
      legalBasis: 'UNCAC art. 46',
      urgency: 'routine' as const,
      deadline: null,
      subject: 's',
      body: 'b',
      attachments: [],
    };
    expect(contentForView(content)).toBe(content);
    const ref = {
      id: '01a224ad-4bf5-780f-9ba7-05ab9accab02',
      filename: 'a.bin',
      mediaType: 'application/octet-stream',
      size: 1,
      chunkSize: 65536,
      chunks: 1,
      sha256: 'x',
      chunkDigests: ['y'],
      key: 'secret',
    };
    const view = contentForView({ ...content, largeAttachments: [ref] });
    expect(view.largeAttachments?.[0]).toEqual({ ...ref, key: '(withheld)' });
    expect(ref.key).toBe('secret');
  });
});
