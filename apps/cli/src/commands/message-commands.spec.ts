import { submissionOf } from './message-commands';

const options = {
  from: 'at-central-authority',
  to: 'FR',
  authority: 'fr-central-authority',
  kind: 'mla_request',
  legalBasis: 'UNCAC art. 46',
  urgency: 'routine',
  subject: 'Bank records',
};

describe('submissionOf (comity send)', () => {
  it('names uploaded files by reference and keeps the idempotency key out of the body', () => {
    expect(
      submissionOf({
        ...options,
        body: 'Please provide…',
        attachmentRef: [
          '0197a000-0000-7000-8000-000000000001',
          '0197a000-0000-7000-8000-000000000002',
        ],
        idempotencyKey: 'case-4711',
        inReplyTo: '0197a000-0000-7000-8000-000000000003',
      }),
    ).toEqual({
      kind: 'mla_request',
      senderAuthority: 'at-central-authority',
      recipient: { state: 'FR', authority: 'fr-central-authority' },
      legalBasis: 'UNCAC art. 46',
      urgency: 'routine',
      subject: 'Bank records',
      body: 'Please provide…',
      attachments: [],
      attachmentRefs: [
        '0197a000-0000-7000-8000-000000000001',
        '0197a000-0000-7000-8000-000000000002',
      ],
      threadId: '0197a000-0000-7000-8000-000000000003',
      inReplyTo: '0197a000-0000-7000-8000-000000000003',
    });
  });

  it('reads --body-file, and refuses no body or two', () => {
    expect(submissionOf({ ...options, bodyFile: 'b.txt' }, () => 'from a file').body).toBe(
      'from a file',
    );
    expect(() => submissionOf(options)).toThrow('give --body or --body-file');
    expect(() => submissionOf({ ...options, body: 'a', bodyFile: 'b.txt' }, () => 'b')).toThrow(
      'give --body or --body-file, not both',
    );
  });
});
