import type { AuditLog } from '../auth/audit-log.service';
// Tier 1 (unit): OutboundService.submit with real sealing (the test federation's keys) and
// in-memory fakes at its ports. No database, no broker.
import {
  BadRequestException,
  ForbiddenException,
  UnprocessableEntityException,
} from '@nestjs/common';
import {
  MESSAGE_KINDS,
  authenticateEnvelope,
  openEnvelope,
  sha256Base64Url,
  type FederationDirectory,
  type MessageKind,
} from '@comity/protocol';
import {
  DAY_MS,
  authorityOf,
  contextFor,
  createTestFederation,
  type StateCode,
  type TestFederation,
  testDirectory,
} from '../../../../libs/protocol/test-support/federation';
import type { AttachmentTransfer } from '../attachments/attachment-transfer.service';
import type { AttachmentUploads } from '../attachments/attachment-uploads.service';
import type { Principal } from '../auth/principal';
import type { Clock } from '../common/clock';
import type { CaseOpenings } from '../content/case-openings';
import type { SenderCopies } from '../content/sender-copies';
import type { GatewayConfig } from '../config/gateway-config';
import type { OutboxRelay } from '../outbox/outbox-relay.service';
import { DuplicateError } from '../persistence/duplicate-error';
import type { OutboundMessageEntity } from '../persistence/entities/outbound-message.entity';
import type { EvidenceRepository } from '../persistence/evidence.repository';
import type { OutboundMessageRepository } from '../persistence/outbound-message.repository';
import type { FederationTrust } from '../trust/federation-trust';
import { OutboundService } from './outbound.service';
import type { SubmitRequestDto } from './submit-request.dto';

let f: TestFederation;
let directory: FederationDirectory;

beforeAll(async () => {
  f = await createTestFederation(['AT', 'FR']);
  directory = testDirectory(f, { routingKey: (code) => `inbox.${code}` });
});

afterAll(() => f.dispose());

const perKind = (ms: number) =>
  Object.fromEntries(MESSAGE_KINDS.map((kind) => [kind, ms])) as Record<MessageKind, number>;
const CONFIG = {
  delivery: { messageTtlMs: perKind(7 * DAY_MS), receiptTimeoutMs: perKind(600_000) },
};
const CLERK: Principal = { id: 'clerk-1', role: 'clerk', authority: authorityOf('AT') };

function request(overrides: Partial<SubmitRequestDto> = {}): SubmitRequestDto {
  return {
    kind: 'mla_request',
    senderAuthority: authorityOf('AT'),
    recipient: { state: 'FR', authority: authorityOf('FR') },
    legalBasis: 'UNCAC art. 46',
    urgency: 'urgent',
    deadline: '2031-01-31',
    subject: 'Bank records of account AT00 1234',
    body: 'Please provide the records of the account named above.',
    attachments: [{ filename: 'warrant.pdf', mediaType: 'application/pdf', data: 'JVBERi0xLjcK' }],
    ...overrides,
  };
}

/** A message a first submit stored earlier. */
function existingRow(requestDigest: string | null): OutboundMessageEntity {
  return {
    id: '01960000-0000-7000-8000-000000000001',
    threadId: '01960000-0000-7000-8000-000000000001',
    inReplyTo: null,
    kind: 'mla_request',
    fromAuthority: authorityOf('AT'),
    toState: 'FR',
    toAuthority: authorityOf('FR'),
    status: 'sent',
    statusReason: null,
    envelope: Buffer.from('envelope'),
    envelopeHeader: null,
    contentPurgedAt: null,
    envelopeDigest: 'digest-of-the-first',
    senderCopy: 'sender-copy',
    receipt: null,
    transmissions: 1,
    receiptTimeoutMs: 600_000,
    receiptDueAt: null,
    idempotencyKey: 'key-1',
    requestDigest,
    createdAt: new Date(f.now.getTime() - 60_000),
    expiresAt: new Date(f.now.getTime() + 7 * DAY_MS),
    updatedAt: f.now,
  };
}

/** AT's node, sending. */
function setUp() {
  const messages = {
    findOutboundByIdempotencyKey: jest.fn().mockResolvedValue(null),
    acceptOutbound: jest.fn().mockResolvedValue('7'),
    findOutbound: jest.fn().mockResolvedValue(null),
  };
  const evidence = { timeline: jest.fn().mockResolvedValue([]) };
  const trust = {
    state: 'AT',
    directory,
    signing: f.states.AT.signer,
    recipientEncryptionCertificate: (state: string) =>
      f.states[state as StateCode].encryptionCertificate,
    routingKeyOf: (state: string) => `inbox.${state}`,
  };
  const relay = {
    leaseUntil: jest.fn((now: Date) => new Date(now.getTime() + 60_000)),
    handOver: jest.fn(),
  };
  const uploads = { contentMembers: jest.fn().mockResolvedValue({}) };
  const transfers = {
    plan: jest.fn().mockReturnValue({ statement: null, extraReceiptMs: 0 }),
    wake: jest.fn(),
  };
  const senderCopies = { seal: jest.fn().mockResolvedValue('sealed-sender-copy') };
  const caseOpenings = { rowFor: jest.fn().mockResolvedValue(null) };
  const audit = {
    reads: [] as string[],
    contentRead: async (_p: unknown, what: string) => void audit.reads.push(what),
  };
  const service = new OutboundService(
    CONFIG as unknown as GatewayConfig,
    messages as unknown as OutboundMessageRepository,
    evidence as unknown as EvidenceRepository,
    trust as unknown as FederationTrust,
    relay as unknown as OutboxRelay,
    { now: () => f.now } as unknown as Clock,
    uploads as unknown as AttachmentUploads,
    transfers as unknown as AttachmentTransfer,
    senderCopies as unknown as SenderCopies,
    caseOpenings as unknown as CaseOpenings,
    audit as unknown as AuditLog,
  );
  return { service, messages, evidence, relay, transfers, audit };
}

describe('OutboundService.submit', () => {
  it('seals a valid request, accepts it once and hands the envelope to the relay', async () => {
    const { service, messages, relay } = setUp();

    const { message, created } = await service.submit(request(), CLERK);

    expect(created).toBe(true);
    expect(messages.acceptOutbound).toHaveBeenCalledTimes(1);
    const accepted = messages.acceptOutbound.mock.calls[0]![0];
    expect(accepted).toEqual({
      row: expect.objectContaining({
        id: message.id,
        kind: 'mla_request',
        fromAuthority: authorityOf('AT'),
        toState: 'FR',
        toAuthority: authorityOf('FR'),
        status: 'submitted',
        senderCopy: 'sealed-sender-copy',
        transmissions: 0,
        receiptTimeoutMs: 600_000,
        idempotencyKey: null,
        requestDigest: null,
        createdAt: f.now,
      }),
      routingKey: 'inbox.FR',
      detail: `by ${CLERK.id}`,
      retryOf: null,
      leaseUntil: new Date(f.now.getTime() + 60_000),
      together: null,
      caseOpening: null,
    });
    expect(relay.handOver).toHaveBeenCalledTimes(1);
    expect(relay.handOver).toHaveBeenCalledWith({
      id: '7',
      messageId: message.id,
      payloadType: 'envelope',
      routingKey: 'inbox.FR',
      payload: accepted.row.envelope,
    });
    // What was handed over is a genuine envelope FR can authenticate and open.
    const opened = openEnvelope(
      authenticateEnvelope(accepted.row.envelope, contextFor(f, 'FR')),
      f.states.FR.decryption,
    );
    expect(opened.header.id).toBe(message.id);
    expect(opened.digest).toBe(accepted.row.envelopeDigest);
    expect(opened.statement.content.subject).toBe('Bank records of account AT00 1234');
    expect(message).toMatchObject({
      from: { state: 'AT', authority: authorityOf('AT') },
      to: { state: 'FR', authority: authorityOf('FR') },
      status: 'submitted',
      thread: message.id,
      envelopeDigest: accepted.row.envelopeDigest,
      timeline: [
        { type: 'submitted', at: f.now.toISOString(), reason: null, detail: `by ${CLERK.id}` },
      ],
    });
  });

  it('forbids a clerk to submit for another authority', async () => {
    const { service, messages, relay } = setUp();
    const clerk: Principal = { ...CLERK, authority: 'at-extradition-authority' };

    await expect(service.submit(request(), clerk)).rejects.toThrow(ForbiddenException);
    expect(messages.findOutboundByIdempotencyKey).not.toHaveBeenCalled();
    expect(messages.acceptOutbound).not.toHaveBeenCalled();
    expect(relay.handOver).not.toHaveBeenCalled();
  });

  it('refuses a recipient authority the directory does not know, naming recipient.authority', async () => {
    const { service, messages } = setUp();
    const unknown = request({ recipient: { state: 'FR', authority: 'fr-no-such-authority' } });

    const error = await service.submit(unknown, CLERK).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(BadRequestException);
    expect((error as BadRequestException).getResponse()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: [
        'recipient.authority "fr-no-such-authority" is not an authority of FR in the directory',
      ],
    });
    expect(messages.acceptOutbound).not.toHaveBeenCalled();
  });

  it('answers a replayed Idempotency-Key with the message the first submit created', async () => {
    const { service, messages, evidence, relay } = setUp();
    const existing = existingRow(sha256Base64Url(JSON.stringify(request())));
    messages.findOutboundByIdempotencyKey.mockResolvedValue(existing);
    messages.findOutbound.mockResolvedValue(existing);
    evidence.timeline.mockResolvedValue([
      { type: 'submitted', at: existing.createdAt, reason: null, detail: null },
    ]);

    const { message, created } = await service.submit(request(), CLERK, 'key-1');

    expect(created).toBe(false);
    expect(messages.findOutboundByIdempotencyKey).toHaveBeenCalledWith('key-1');
    expect(message).toMatchObject({
      id: existing.id,
      status: 'sent',
      timeline: [
        { type: 'submitted', at: existing.createdAt.toISOString(), reason: null, detail: null },
      ],
    });
    expect(messages.acceptOutbound).not.toHaveBeenCalled();
    expect(relay.handOver).not.toHaveBeenCalled();
  });

  it('refuses an Idempotency-Key already used for a different request', async () => {
    const { service, messages } = setUp();
    messages.findOutboundByIdempotencyKey.mockResolvedValue(existingRow('another-digest'));

    await expect(service.submit(request(), CLERK, 'key-1')).rejects.toThrow(
      UnprocessableEntityException,
    );
    expect(messages.acceptOutbound).not.toHaveBeenCalled();
  });

  it('answers with the existing message when a concurrent submit of the same key won', async () => {
    const { service, messages, relay } = setUp();
    const digest = sha256Base64Url(JSON.stringify(request()));
    const existing = existingRow(digest);
    messages.findOutboundByIdempotencyKey.mockResolvedValueOnce(null).mockResolvedValue(existing);
    messages.findOutbound.mockResolvedValue(existing);
    messages.acceptOutbound.mockRejectedValue(
      new DuplicateError('duplicate key', 'outbound_message_idempotency_key'),
    );

    const { message, created } = await service.submit(request(), CLERK, 'key-1');

    expect(created).toBe(false);
    expect(message.id).toBe(existing.id);
    expect(messages.acceptOutbound).toHaveBeenCalledTimes(1);
    expect(messages.acceptOutbound.mock.calls[0]![0].row).toMatchObject({
      idempotencyKey: 'key-1',
      requestDigest: digest,
    });
    expect(messages.findOutboundByIdempotencyKey).toHaveBeenCalledTimes(2);
    expect(relay.handOver).not.toHaveBeenCalled();
  });

  it('lets a DuplicateError through when the submit had no Idempotency-Key', async () => {
    const { service, messages } = setUp();
    const duplicate = new DuplicateError('duplicate key', 'outbound_message_pkey');
    messages.acceptOutbound.mockRejectedValue(duplicate);

    await expect(service.submit(request(), CLERK)).rejects.toBe(duplicate);
    expect(messages.findOutboundByIdempotencyKey).not.toHaveBeenCalled();
  });
});
