// Tier 1 (unit): EnvelopeIntake with real protocol crypto (the test federation's keys) and
// in-memory fakes at its ports. No database, no broker.
import { Logger } from '@nestjs/common';
import { verifyReceipt, type FederationDirectory } from '@comity/protocol';
import {
  authorityOf,
  createTestFederation,
  sealFor,
  type TestFederation,
  testDirectory,
} from '../../../../libs/protocol/test-support/federation';
import type { AttachmentVerification } from '../attachments/attachment-verification.service';
import type { CaseOpenings } from '../content/case-openings';
import type { Clock } from '../common/clock';
import type { OutboxRelay } from '../outbox/outbox-relay.service';
import type { Transaction, UnitOfWork } from '../persistence/database';
import type { EvidenceRepository } from '../persistence/evidence.repository';
import type {
  DeliveredReceipt,
  InboundMessageRepository,
} from '../persistence/inbound-message.repository';
import type { OutboxRepository } from '../persistence/outbox.repository';
import { ACK } from '../transport/inbox-disposition';
import type { FederationTrust } from '../trust/federation-trust';
import { EnvelopeIntake } from './envelope-intake.service';

let f: TestFederation;
let directory: FederationDirectory;

/** A directory of AT, FR and KE, each with its central authority. */

beforeAll(async () => {
  Logger.overrideLogger(false);
  f = await createTestFederation(['AT', 'FR', 'KE']);
  directory = testDirectory(f, { routingKey: (code) => `inbox.${code}` });
});

afterAll(() => f.dispose());

const TX = { fake: 'transaction' } as unknown as Transaction;

/** FR's node, receiving. */
function setUp() {
  const messages = {
    findDeliveredReceipt: jest.fn().mockResolvedValue(null),
    storeDelivered: jest.fn().mockResolvedValue('41'),
    insertRejection: jest.fn().mockResolvedValue(undefined),
  };
  const evidence = { addEvidence: jest.fn().mockResolvedValue(undefined) };
  const outbox = { enqueue: jest.fn().mockResolvedValue(undefined) };
  const unitOfWork = { run: jest.fn((work: (tx: Transaction) => Promise<unknown>) => work(TX)) };
  const relay = {
    leaseUntil: jest.fn((now: Date) => new Date(now.getTime() + 60_000)),
    handOver: jest.fn(),
    wake: jest.fn(),
  };
  const attachments = { check: jest.fn().mockResolvedValue(null) };
  const trust = {
    state: 'FR',
    verifier: f.verifier,
    directory,
    decryption: [f.states.FR.decryption],
    signing: f.states.FR.signer,
    maxEnvelopeBytes: 16 * 1024 * 1024,
    clockSkewMs: 5 * 60_000,
    routingKeyOf: (state: string) => `inbox.${state}`,
  };
  const clock = { now: () => f.now };
  const intake = new EnvelopeIntake(
    trust as unknown as FederationTrust,
    attachments as unknown as AttachmentVerification,
    messages as unknown as InboundMessageRepository,
    evidence as unknown as EvidenceRepository,
    outbox as unknown as OutboxRepository,
    unitOfWork as unknown as UnitOfWork,
    relay as unknown as OutboxRelay,
    clock as unknown as Clock,
    { rowFor: jest.fn().mockResolvedValue(null) } as unknown as CaseOpenings,
  );
  return { intake, messages, evidence, outbox, unitOfWork, relay };
}

/** The receipt FR signed, checked against what AT expects of it. */
function receiptOf(bytes: Buffer, envelope: { header: { id: string }; digest: string }) {
  return verifyReceipt(
    bytes,
    f.verifier,
    {
      envelopeId: envelope.header.id,
      envelopeDigest: envelope.digest,
      recipientState: 'FR',
      senderState: 'AT',
    },
    f.now,
  ).statement;
}

describe('EnvelopeIntake.receive', () => {
  it('stores a good envelope once with a signed delivered receipt, hands the receipt over and acks', async () => {
    const { intake, messages, outbox, unitOfWork, relay } = setUp();
    const envelope = sealFor(f, 'AT', 'FR');

    await expect(intake.receive(envelope.bytes)).resolves.toEqual(ACK);

    expect(messages.findDeliveredReceipt).toHaveBeenCalledWith(envelope.header.id);
    expect(messages.storeDelivered).toHaveBeenCalledTimes(1);
    const stored = messages.storeDelivered.mock.calls[0]![0];
    expect(stored).toEqual({
      row: expect.objectContaining({
        id: envelope.header.id,
        threadId: envelope.header.thread,
        kind: 'mla_request',
        fromState: 'AT',
        fromAuthority: authorityOf('AT'),
        toAuthority: authorityOf('FR'),
        status: 'delivered',
        envelope: envelope.bytes,
        envelopeDigest: envelope.digest,
        receivedAt: f.now,
      }),
      receiptRoutingKey: 'inbox.AT',
      leaseUntil: new Date(f.now.getTime() + 60_000),
      caseOpening: null,
    });
    const receipt = receiptOf(stored.row.receipt, envelope);
    expect(receipt).toMatchObject({ status: 'delivered', reason: null, id: stored.row.receiptId });
    expect(relay.handOver).toHaveBeenCalledTimes(1);
    expect(relay.handOver).toHaveBeenCalledWith({
      id: '41',
      messageId: envelope.header.id,
      payloadType: 'receipt',
      routingKey: 'inbox.AT',
      payload: stored.row.receipt,
    });
    expect(messages.insertRejection).not.toHaveBeenCalled();
    expect(outbox.enqueue).not.toHaveBeenCalled();
    expect(unitOfWork.run).not.toHaveBeenCalled();
  });

  it('quarantines garbage bytes as a malformed envelope and stores nothing', async () => {
    const { intake, messages, outbox, unitOfWork, relay } = setUp();

    const disposition = await intake.receive(Buffer.from('this is no envelope'));

    expect(disposition).toEqual({
      action: 'quarantine',
      reason: 'malformed-envelope',
      detail: expect.any(String),
    });
    expect(messages.findDeliveredReceipt).not.toHaveBeenCalled();
    expect(messages.storeDelivered).not.toHaveBeenCalled();
    expect(messages.insertRejection).not.toHaveBeenCalled();
    expect(outbox.enqueue).not.toHaveBeenCalled();
    expect(unitOfWork.run).not.toHaveBeenCalled();
    expect(relay.handOver).not.toHaveBeenCalled();
  });

  it('records an envelope addressed to another State as rejected and queues a negative receipt', async () => {
    const { intake, messages, outbox, unitOfWork, relay } = setUp();
    const envelope = sealFor(f, 'AT', 'KE');

    await expect(intake.receive(envelope.bytes)).resolves.toEqual(ACK);

    expect(unitOfWork.run).toHaveBeenCalledTimes(1);
    expect(messages.insertRejection).toHaveBeenCalledTimes(1);
    const [tx, rejection] = messages.insertRejection.mock.calls[0]!;
    expect(tx).toBe(TX);
    expect(rejection).toEqual({
      envelopeId: envelope.header.id,
      fromState: 'AT',
      reason: 'wrong-recipient',
      envelopeDigest: envelope.digest,
      envelope: envelope.bytes,
      receipt: expect.any(Buffer),
      receivedAt: f.now,
    });
    expect(receiptOf(rejection.receipt, envelope)).toMatchObject({
      status: 'rejected',
      reason: 'wrong-recipient',
    });
    expect(outbox.enqueue).toHaveBeenCalledWith(TX, {
      messageId: envelope.header.id,
      payloadType: 'receipt',
      routingKey: 'inbox.AT',
      payload: rejection.receipt,
      availableAt: f.now,
    });
    expect(relay.wake).toHaveBeenCalledTimes(1);
    expect(messages.storeDelivered).not.toHaveBeenCalled();
    expect(relay.handOver).not.toHaveBeenCalled();
  });

  it('answers the same envelope again with duplicate evidence and the receipt already given', async () => {
    const { intake, messages, evidence, outbox, relay } = setUp();
    const envelope = sealFor(f, 'AT', 'FR');
    const earlier: DeliveredReceipt = {
      id: envelope.header.id,
      envelopeDigest: envelope.digest,
      fromState: 'AT',
      receipt: Buffer.from('the receipt given the first time'),
    };
    messages.findDeliveredReceipt.mockResolvedValue(earlier);

    await expect(intake.receive(envelope.bytes)).resolves.toEqual(ACK);

    expect(evidence.addEvidence).toHaveBeenCalledWith(TX, {
      messageId: envelope.header.id,
      direction: 'inbound',
      type: 'duplicate',
      at: f.now,
    });
    expect(outbox.enqueue).toHaveBeenCalledTimes(1);
    expect(outbox.enqueue).toHaveBeenCalledWith(TX, {
      messageId: envelope.header.id,
      payloadType: 'receipt',
      routingKey: 'inbox.AT',
      payload: earlier.receipt,
      availableAt: f.now,
    });
    expect(relay.wake).toHaveBeenCalledTimes(1);
    expect(messages.storeDelivered).not.toHaveBeenCalled();
    expect(messages.insertRejection).not.toHaveBeenCalled();
  });

  it('rejects an envelope id already delivered with different bytes as a conflict', async () => {
    const { intake, messages, evidence, outbox } = setUp();
    const envelope = sealFor(f, 'AT', 'FR');
    messages.findDeliveredReceipt.mockResolvedValue({
      id: envelope.header.id,
      envelopeDigest: 'a-different-digest',
      fromState: 'AT',
      receipt: Buffer.from('earlier'),
    });

    await expect(intake.receive(envelope.bytes)).resolves.toEqual(ACK);

    expect(messages.insertRejection).toHaveBeenCalledWith(
      TX,
      expect.objectContaining({
        envelopeId: envelope.header.id,
        reason: 'duplicate-envelope-conflict',
        envelopeDigest: envelope.digest,
      }),
    );
    const { receipt } = messages.insertRejection.mock.calls[0]![1];
    expect(receiptOf(receipt, envelope)).toMatchObject({
      status: 'rejected',
      reason: 'duplicate-envelope-conflict',
    });
    expect(outbox.enqueue).toHaveBeenCalledWith(TX, expect.objectContaining({ payload: receipt }));
    expect(evidence.addEvidence).not.toHaveBeenCalled();
    expect(messages.storeDelivered).not.toHaveBeenCalled();
  });

  it('answers as a duplicate when a concurrent delivery of the same envelope won the insert', async () => {
    const { intake, messages, evidence, outbox, relay } = setUp();
    const envelope = sealFor(f, 'AT', 'FR');
    const winner: DeliveredReceipt = {
      id: envelope.header.id,
      envelopeDigest: envelope.digest,
      fromState: 'AT',
      receipt: Buffer.from('the winner’s receipt'),
    };
    messages.findDeliveredReceipt.mockResolvedValueOnce(null).mockResolvedValueOnce(winner);
    messages.storeDelivered.mockResolvedValue(null);

    await expect(intake.receive(envelope.bytes)).resolves.toEqual(ACK);

    expect(messages.storeDelivered).toHaveBeenCalledTimes(1);
    expect(messages.findDeliveredReceipt).toHaveBeenCalledTimes(2);
    expect(evidence.addEvidence).toHaveBeenCalledWith(
      TX,
      expect.objectContaining({ messageId: envelope.header.id, type: 'duplicate' }),
    );
    expect(outbox.enqueue).toHaveBeenCalledWith(
      TX,
      expect.objectContaining({ payload: winner.receipt, routingKey: 'inbox.AT' }),
    );
    expect(relay.handOver).not.toHaveBeenCalled();
    expect(messages.insertRejection).not.toHaveBeenCalled();
  });

  it('lets a database error propagate (the transport turns it into a retry)', async () => {
    const { intake, messages, relay } = setUp();
    const envelope = sealFor(f, 'AT', 'FR');
    messages.storeDelivered.mockRejectedValue(new Error('connection terminated unexpectedly'));

    await expect(intake.receive(envelope.bytes)).rejects.toThrow(
      'connection terminated unexpectedly',
    );
    expect(relay.handOver).not.toHaveBeenCalled();
  });

  it('lets a failing look-up of earlier deliveries propagate before anything is decided', async () => {
    const { intake, messages } = setUp();
    messages.findDeliveredReceipt.mockRejectedValue(new Error('database is away'));

    await expect(intake.receive(sealFor(f, 'AT', 'FR').bytes)).rejects.toThrow('database is away');
    expect(messages.storeDelivered).not.toHaveBeenCalled();
    expect(messages.insertRejection).not.toHaveBeenCalled();
  });
});
