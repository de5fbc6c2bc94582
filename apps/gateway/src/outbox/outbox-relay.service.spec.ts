// Tier 1 (unit): OutboxRelay with a fake MessageTransport and in-memory repositories. The
// background loop is never started: passes are driven through relayBatch() and the shutdown flush.
import { Logger } from '@nestjs/common';
import { decodeBase64UrlStrict, verifyEd25519 } from '@comity/jose';
import { ENVELOPE_MEDIA_TYPE, RECEIPT_MEDIA_TYPE } from '@comity/protocol';
import {
  authorityOf,
  createTestFederation,
  type TestFederation,
} from '../../../../libs/protocol/test-support/federation';
import type { Clock } from '../common/clock';
import type { GatewayConfig } from '../config/gateway-config';
import type { Transaction, UnitOfWork } from '../persistence/database';
import type { OutboundMessageRepository } from '../persistence/outbound-message.repository';
import type { ClaimedOutboxEntry, OutboxRepository } from '../persistence/outbox.repository';
import { UnroutableError, type MessageTransport } from '../transport/message-transport';
import type { FederationTrust } from '../trust/federation-trust';
import { OutboxRelay, type HandedOverEntry } from './outbox-relay.service';

let f: TestFederation;

beforeAll(async () => {
  Logger.overrideLogger(false);
  f = await createTestFederation(['AT']);
});

afterAll(() => f.dispose());

const TX = { fake: 'transaction' } as unknown as Transaction;
const CONFIG = {
  outbox: { pollIntervalMs: 250, batchSize: 100 },
  delivery: { maxRetransmitIntervalMs: 600_000 },
};

function setUp() {
  let time = f.now.getTime();
  /** How many units of work are open: what a repository call sees when it is made. */
  let inTransaction = 0;
  const unitOfWork = {
    run: jest.fn(async (work: (tx: Transaction) => Promise<unknown>) => {
      inTransaction += 1;
      try {
        return await work(TX);
      } finally {
        inTransaction -= 1;
      }
    }),
  };
  const outbox = {
    claimOutbox: jest.fn().mockResolvedValue([]),
    settleRelayed: jest.fn().mockResolvedValue(undefined),
  };
  const failedInTransaction: boolean[] = [];
  const messages = {
    findOutbound: jest.fn().mockResolvedValue(null),
    markFailed: jest.fn(async () => {
      failedInTransaction.push(inTransaction > 0);
    }),
  };
  const transport = { isConnected: true, publish: jest.fn().mockResolvedValue(undefined) };
  const trust = { state: 'AT', signing: f.states.AT.signer };
  const clock = { now: () => new Date(time) };
  const relay = new OutboxRelay(
    CONFIG as unknown as GatewayConfig,
    unitOfWork as unknown as UnitOfWork,
    outbox as unknown as OutboxRepository,
    messages as unknown as OutboundMessageRepository,
    transport as unknown as MessageTransport,
    trust as unknown as FederationTrust,
    clock as unknown as Clock,
  );
  const advance = (ms: number) => (time += ms);
  return { relay, unitOfWork, outbox, messages, transport, failedInTransaction, advance };
}

const envelopeEntry: HandedOverEntry = {
  id: '1',
  messageId: 'message-1',
  payloadType: 'envelope',
  routingKey: 'inbox.FR',
  payload: Buffer.from('envelope bytes'),
};
const receiptEntry: HandedOverEntry = {
  id: '2',
  messageId: 'message-2',
  payloadType: 'receipt',
  routingKey: 'inbox.KE',
  payload: Buffer.from('receipt bytes'),
};
const claimed = (entry: HandedOverEntry, attempts = 1): ClaimedOutboxEntry => ({
  ...entry,
  attempts,
});

/** The settlement batch, with what every call shares. */
const settlement = (batch: {
  published?: string[];
  sentEnvelopes?: string[];
  sentReceipts?: string[];
  retry?: string[];
}) => ({
  published: [],
  sentEnvelopes: [],
  sentReceipts: [],
  retry: [],
  retryDelayMs: 1000,
  at: f.now,
  maxRetransmitIntervalMs: 600_000,
  ...batch,
});

describe('OutboxRelay', () => {
  it('publishes entries handed over and settles them in one statement, outside a transaction', async () => {
    const { relay, outbox, transport, unitOfWork } = setUp();
    relay.handOver(envelopeEntry);
    relay.handOver(receiptEntry);

    await relay.beforeApplicationShutdown();

    expect(transport.publish).toHaveBeenCalledTimes(2);
    expect(transport.publish).toHaveBeenCalledWith({
      routingKey: 'inbox.FR',
      payload: envelopeEntry.payload,
      messageId: 'envelope:message-1:1',
      type: 'envelope',
      contentType: ENVELOPE_MEDIA_TYPE,
    });
    expect(transport.publish).toHaveBeenCalledWith({
      routingKey: 'inbox.KE',
      payload: receiptEntry.payload,
      messageId: 'receipt:message-2:2',
      type: 'receipt',
      contentType: RECEIPT_MEDIA_TYPE,
    });
    expect(outbox.settleRelayed).toHaveBeenCalledTimes(1);
    expect(outbox.settleRelayed).toHaveBeenCalledWith(
      null,
      settlement({
        published: ['1', '2'],
        sentEnvelopes: ['message-1'],
        sentReceipts: ['message-2'],
      }),
    );
    // The flush also asked the safety net, until a pass found nothing: two empty claims.
    expect(outbox.claimOutbox).toHaveBeenCalledTimes(2);
    expect(outbox.claimOutbox).toHaveBeenCalledWith(TX, 100);
    expect(unitOfWork.run).toHaveBeenCalledTimes(2);
  });

  it('leaves a handed-over entry grown too old to the safety net', async () => {
    const { relay, outbox, transport, advance } = setUp();
    relay.handOver(envelopeEntry);
    advance(31_000);

    await relay.beforeApplicationShutdown();

    expect(transport.publish).not.toHaveBeenCalled();
    expect(outbox.settleRelayed).not.toHaveBeenCalled();
  });

  it('flushes nothing at shutdown while the broker is away', async () => {
    const { relay, outbox, transport } = setUp();
    transport.isConnected = false;
    relay.handOver(envelopeEntry);

    await relay.beforeApplicationShutdown();

    expect(transport.publish).not.toHaveBeenCalled();
    expect(outbox.claimOutbox).not.toHaveBeenCalled();
  });

  it('publishes a claimed batch and settles it in the claiming transaction', async () => {
    const { relay, outbox, transport, unitOfWork } = setUp();
    outbox.claimOutbox.mockResolvedValue([claimed(envelopeEntry, 3), claimed(receiptEntry)]);

    await expect(relay.relayBatch()).resolves.toBe(2);

    expect(unitOfWork.run).toHaveBeenCalledTimes(1);
    expect(transport.publish).toHaveBeenCalledTimes(2);
    expect(outbox.settleRelayed).toHaveBeenCalledWith(
      TX,
      settlement({
        published: ['1', '2'],
        sentEnvelopes: ['message-1'],
        sentReceipts: ['message-2'],
      }),
    );
  });

  it('fails an unroutable envelope with signed non-delivery evidence, in the transaction', async () => {
    const { relay, outbox, transport, messages, failedInTransaction } = setUp();
    outbox.claimOutbox.mockResolvedValue([claimed(envelopeEntry, 2)]);
    transport.publish.mockRejectedValue(new UnroutableError('no queue bound for inbox.FR'));
    messages.findOutbound.mockResolvedValue({
      id: 'message-1',
      envelopeDigest: 'digest-1',
      transmissions: 2,
      fromAuthority: authorityOf('AT'),
      toState: 'FR',
      toAuthority: authorityOf('FR'),
    });

    await expect(relay.relayBatch()).resolves.toBe(1);

    expect(messages.findOutbound).toHaveBeenCalledWith('message-1', TX);
    expect(messages.markFailed).toHaveBeenCalledTimes(1);
    expect(messages.markFailed).toHaveBeenCalledWith(TX, {
      messageId: 'message-1',
      reason: 'unroutable',
      detail: 'no queue bound for inbox.FR',
      signed: expect.any(Buffer),
      at: f.now,
    });
    expect(failedInTransaction).toEqual([true]);
    // The evidence is AT's signed statement about this envelope.
    const signed = (messages.markFailed.mock.calls[0] as unknown[])[1] as { signed: Buffer };
    const [header, payload, signature] = signed.signed.toString('ascii').split('.');
    expect(
      verifyEd25519(
        f.states.AT.signingCertificate.publicKey,
        Buffer.from(`${header}.${payload}`, 'ascii'),
        decodeBase64UrlStrict(signature!, 'signature'),
      ),
    ).toBe(true);
    expect(JSON.parse(decodeBase64UrlStrict(payload!, 'payload').toString('utf8'))).toMatchObject({
      type: 'non-delivery',
      envelopeId: 'message-1',
      envelopeDigest: 'digest-1',
      reason: 'unroutable',
      transmissions: 2,
      from: { state: 'AT', authority: authorityOf('AT') },
      to: { state: 'FR', authority: authorityOf('FR') },
    });
    expect(outbox.settleRelayed).toHaveBeenCalledWith(TX, settlement({ published: ['1'] }));
  });

  it('opens a transaction to fail an unroutable envelope that was handed over', async () => {
    const { relay, outbox, transport, messages, unitOfWork, failedInTransaction } = setUp();
    transport.publish.mockRejectedValue(new UnroutableError('no queue bound for inbox.FR'));
    messages.findOutbound.mockResolvedValue({
      id: 'message-1',
      envelopeDigest: 'digest-1',
      transmissions: 1,
      fromAuthority: authorityOf('AT'),
      toState: 'FR',
      toAuthority: authorityOf('FR'),
    });
    relay.handOver(envelopeEntry);

    await relay.beforeApplicationShutdown();

    expect(failedInTransaction).toEqual([true]);
    expect(messages.markFailed).toHaveBeenCalledWith(
      TX,
      expect.objectContaining({ messageId: 'message-1', reason: 'unroutable' }),
    );
    expect(outbox.settleRelayed).toHaveBeenCalledTimes(1);
    expect(outbox.settleRelayed).toHaveBeenCalledWith(TX, settlement({ published: ['1'] }));
    // One unit of work for the settlement, plus the safety net's two empty claims.
    expect(unitOfWork.run).toHaveBeenCalledTimes(3);
  });

  it('only logs an unroutable receipt: it leaves the outbox, nothing is failed', async () => {
    const { relay, outbox, transport, messages } = setUp();
    outbox.claimOutbox.mockResolvedValue([claimed(receiptEntry)]);
    transport.publish.mockRejectedValue(new UnroutableError('no queue bound for inbox.KE'));

    await expect(relay.relayBatch()).resolves.toBe(1);

    expect(messages.findOutbound).not.toHaveBeenCalled();
    expect(messages.markFailed).not.toHaveBeenCalled();
    expect(outbox.settleRelayed).toHaveBeenCalledWith(TX, settlement({ published: ['2'] }));
  });

  it('postpones an entry whose publish failed for another reason', async () => {
    const { relay, outbox, transport, messages } = setUp();
    outbox.claimOutbox.mockResolvedValue([claimed(envelopeEntry), claimed(receiptEntry)]);
    transport.publish.mockImplementation(async ({ type }: { type: string }) => {
      if (type === 'envelope') throw new Error('channel closed');
    });

    await expect(relay.relayBatch()).resolves.toBe(1);

    expect(messages.markFailed).not.toHaveBeenCalled();
    expect(outbox.settleRelayed).toHaveBeenCalledWith(
      TX,
      settlement({ published: ['2'], sentReceipts: ['message-2'], retry: ['1'] }),
    );
  });

  it('claims nothing more and settles nothing when the outbox is empty', async () => {
    const { relay, outbox, transport } = setUp();

    await expect(relay.relayBatch()).resolves.toBe(0);

    expect(outbox.claimOutbox).toHaveBeenCalledTimes(1);
    expect(transport.publish).not.toHaveBeenCalled();
    expect(outbox.settleRelayed).not.toHaveBeenCalled();
  });
});
