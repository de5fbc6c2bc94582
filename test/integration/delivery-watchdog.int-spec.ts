import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { uuidV7 } from '@comity/protocol';
import { Clock } from '../../apps/gateway/src/common/clock';
import {
  DeliveryWatchdog,
  RECEIPT_PUBLISH_ATTEMPTS,
} from '../../apps/gateway/src/outbound/delivery-watchdog.service';
import { OutboxRelay } from '../../apps/gateway/src/outbox/outbox-relay.service';
import type { OutboundStatus } from '../../apps/gateway/src/persistence/entities/outbound-message.entity';
import { AmqpTransport } from '../../apps/gateway/src/transport/amqp/amqp-transport';
import { amqpSettingsOf } from '../../apps/gateway/src/transport/amqp/amqp-settings';
import { repositoriesOf, type Repositories } from '../support/repositories';
import { FederationTrust } from '../../apps/gateway/src/trust/federation-trust';
import {
  atGatewayConfig,
  migratedDatabase,
  type MigratedDatabase,
} from '../support/migrated-database';

/** The watchdog's deadlines, each non-final state driven to its next step, on a real database. */
describe('DeliveryWatchdog', () => {
  let database: MigratedDatabase;
  let dataSource: DataSource;
  let repos: Repositories;
  let watchdog: DeliveryWatchdog;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    database = await migratedDatabase('comity_watchdog');
    dataSource = database.dataSource;
    const config = await atGatewayConfig(database.url);
    repos = repositoriesOf(dataSource);
    const clock = new Clock();
    const trust = new FederationTrust(config, clock);
    // The relay is real but never started: the watchdog only wakes it.
    const relay = new OutboxRelay(
      config,
      repos.unitOfWork,
      repos.outbox,
      repos.outbound,
      new AmqpTransport(amqpSettingsOf(config)),
      trust,
      clock,
    );
    watchdog = new DeliveryWatchdog(
      config,
      repos.unitOfWork,
      repos.outbound,
      repos.outbox,
      repos.evidence,
      trust,
      relay,
      clock,
    );
  });

  afterAll(async () => {
    await database?.dispose();
  });

  async function outbound(
    status: OutboundStatus,
    fields: { expiresInMs: number; receiptDueInMs?: number | null; transmissions?: number },
  ) {
    const id = uuidV7();
    const now = Date.now();
    await dataSource.transaction((manager) =>
      repos.outbound.insertOutbound(manager, {
        id,
        threadId: id,
        inReplyTo: null,
        kind: 'mla_request',
        fromAuthority: 'at-central-authority',
        toState: 'FR',
        toAuthority: 'fr-central-authority',
        status,
        statusReason: null,
        envelope: Buffer.from(`envelope ${id}`),
        envelopeDigest: 'digest',
        senderCopy: 'copy',
        receipt: null,
        transmissions: fields.transmissions ?? 0,
        receiptTimeoutMs: 1000,
        idempotencyKey: null,
        requestDigest: null,
        receiptDueAt: fields.receiptDueInMs == null ? null : new Date(now + fields.receiptDueInMs),
        createdAt: new Date(now - 60_000),
        expiresAt: new Date(now + fields.expiresInMs),
        updatedAt: new Date(now),
      }),
    );
    return id;
  }

  const statusOf = async (id: string) => (await repos.outbound.findOutbound(id))?.status;
  const outboxFor = async (id: string) =>
    (await dataSource.query('SELECT payload FROM outbox WHERE message_id = $1', [id])) as Array<{
      payload: Buffer | null;
    }>;
  /** What a relay claiming the due entries would publish for this message. */
  const claimedFor = (id: string) =>
    dataSource.transaction(async (manager) =>
      (await repos.outbox.claimOutbox(manager, 1000))
        .filter((entry) => entry.messageId === id)
        .map((entry) => entry.payload.toString()),
    );

  it('sent, receipt overdue → the same envelope queued again, deadline cleared until the broker confirms', async () => {
    const overdue = await outbound('sent', {
      expiresInMs: 60_000,
      receiptDueInMs: -1,
      transmissions: 1,
    });
    const notYet = await outbound('sent', {
      expiresInMs: 60_000,
      receiptDueInMs: 60_000,
      transmissions: 1,
    });
    const result = await watchdog.sweep();
    expect(result.retransmitted).toBe(1);
    // No second copy in the outbox: the relay publishes the message's own envelope.
    expect(await outboxFor(overdue)).toEqual([{ payload: null }]);
    expect(await claimedFor(overdue)).toEqual([`envelope ${overdue}`]);
    expect(await outboxFor(notYet)).toEqual([]);
    expect((await repos.outbound.findOutbound(overdue))?.receiptDueAt).toBeNull();
    expect((await repos.evidence.timeline(overdue, 'outbound')).map((e) => e.type)).toEqual([
      'retransmitted',
    ]);
    expect((await watchdog.sweep()).retransmitted).toBe(0);
  });

  it('submitted or sent past expiry → failed with signed non-delivery evidence, pending copies withdrawn', async () => {
    const neverSent = await outbound('submitted', { expiresInMs: -1 });
    await dataSource.transaction((manager) =>
      repos.outbox.enqueue(manager, {
        messageId: neverSent,
        payloadType: 'envelope',
        routingKey: 'FR',
        payload: Buffer.from('x'),
        availableAt: new Date(),
      }),
    );
    const unanswered = await outbound('sent', {
      expiresInMs: -1,
      receiptDueInMs: -1,
      transmissions: 4,
    });
    const delivered = await outbound('delivered', { expiresInMs: -1 });
    await watchdog.sweep();
    expect(await statusOf(neverSent)).toBe('failed');
    expect((await repos.outbound.findOutbound(neverSent))?.statusReason).toBe('expired-unsent');
    expect(await outboxFor(neverSent)).toEqual([]);
    expect((await repos.outbound.findOutbound(unanswered))?.statusReason).toBe(
      'expired-undelivered',
    );
    expect(await statusOf(delivered)).toBe('delivered');
    const evidence = await repos.evidence.signedEvidence(unanswered, 'failed');
    const statement = JSON.parse(
      Buffer.from(evidence!.toString().split('.')[1]!, 'base64url').toString(),
    ) as Record<string, unknown>;
    expect(statement).toMatchObject({
      type: 'non-delivery',
      envelopeId: unanswered,
      reason: 'expired-undelivered',
      transmissions: 4,
    });
  });

  it('a receipt that cannot be published is given up after its attempts, with a record on the timeline', async () => {
    const inbound = uuidV7();
    await dataSource.transaction(async (manager) => {
      await repos.outbox.enqueue(manager, {
        messageId: inbound,
        payloadType: 'receipt',
        routingKey: 'FR',
        payload: Buffer.from('r'),
        availableAt: new Date(),
      });
      await manager.query('UPDATE outbox SET attempts = $2 WHERE message_id = $1', [
        inbound,
        RECEIPT_PUBLISH_ATTEMPTS,
      ]);
    });
    expect((await watchdog.sweep()).receiptsDropped).toBe(1);
    expect(await outboxFor(inbound)).toEqual([]);
    expect(
      (await repos.evidence.timeline(inbound, 'inbound')).map((e) => [e.type, e.reason]),
    ).toEqual([['failed', 'receipt-unpublishable']]);
  });
});
