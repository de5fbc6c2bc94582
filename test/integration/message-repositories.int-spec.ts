import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { uuidV7 } from '@comity/protocol';
import { transferInsert } from '../../apps/gateway/src/persistence/attachment-transfer.repository';
import { repositoriesOf, type Repositories } from '../support/repositories';
import { migratedDatabase, type MigratedDatabase } from '../support/migrated-database';

describe('the message, outbox and evidence repositories on a real PostgreSQL', () => {
  let database: MigratedDatabase;
  let dataSource: DataSource;
  let repos: Repositories;

  beforeAll(async () => {
    database = await migratedDatabase('comity_store');
    dataSource = database.dataSource;
    repos = repositoriesOf(dataSource);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  function outbound(id: string) {
    const now = new Date();
    return {
      id,
      threadId: id,
      inReplyTo: null,
      kind: 'mla_request',
      fromAuthority: 'at-central-authority',
      toState: 'FR',
      toAuthority: 'fr-central-authority',
      status: 'submitted' as const,
      statusReason: null,
      envelope: Buffer.from('{"comity":1}'),
      envelopeDigest: 'digest',
      senderCopy: 'copy',
      receipt: null,
      transmissions: 0,
      receiptTimeoutMs: 1000,
      idempotencyKey: null,
      requestDigest: null,
      receiptDueAt: null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + 60_000),
      updatedAt: now,
    };
  }

  it('builds the schema through migrations only, once, though three replicas migrated at the same moment', async () => {
    const migrations = (await dataSource.query(
      'SELECT name FROM migrations ORDER BY id',
    )) as Array<{ name: string }>;
    // Every migration the node ships, each applied once, in order.
    expect(migrations.map((row) => row.name)).toEqual(
      dataSource.migrations.map((migration) => migration.name),
    );
    expect(migrations.length).toBeGreaterThanOrEqual(3);
    expect(dataSource.options.synchronize).toBe(false);
  });

  it('stores an inbound envelope id once, however often it is inserted, with its evidence and receipt once', async () => {
    const id = uuidV7();
    const row = {
      id,
      threadId: id,
      inReplyTo: null,
      kind: 'mla_request',
      fromState: 'AT',
      fromAuthority: 'at-central-authority',
      toAuthority: 'fr-central-authority',
      status: 'delivered' as const,
      envelope: Buffer.from('x'),
      envelopeDigest: 'd',
      receiptId: uuidV7(),
      receipt: Buffer.from('r'),
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 1000),
      receivedAt: new Date(),
    };
    // Concurrent copies land in the same group commit or in the next: either way, once.
    const results = await Promise.all(
      [1, 2, 3].map(() =>
        repos.inbound.storeDelivered({ row, receiptRoutingKey: 'AT', leaseUntil: new Date() }),
      ),
    );
    expect(results.filter((outboxId) => outboxId !== null)).toHaveLength(1);
    expect(
      await repos.inbound.storeDelivered({ row, receiptRoutingKey: 'AT', leaseUntil: new Date() }),
    ).toBeNull();
    for (const table of [
      'inbound_message WHERE id',
      'evidence WHERE message_id',
      'outbox WHERE message_id',
    ])
      expect(await dataSource.query(`SELECT count(*)::int AS n FROM ${table} = $1`, [id])).toEqual([
        { n: 1 },
      ]);
  });

  it('lets two relays claim disjoint outbox batches (FOR UPDATE SKIP LOCKED)', async () => {
    await dataSource.query('DELETE FROM outbox');
    await dataSource.transaction(async (manager) => {
      for (let index = 0; index < 10; index += 1) {
        await repos.outbox.enqueue(manager, {
          messageId: uuidV7(),
          payloadType: 'envelope',
          routingKey: 'FR',
          payload: Buffer.from(String(index)),
          availableAt: new Date(Date.now() - 1000),
        });
      }
    });
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstClaimed!: (ids: string[]) => void;
    const firstIds = new Promise<string[]>((resolve) => (firstClaimed = resolve));
    const first = dataSource.transaction(async (manager) => {
      firstClaimed((await repos.outbox.claimOutbox(manager, 6)).map((entry) => entry.id));
      await firstHolds;
    });
    const claimedByFirst = await firstIds;
    const claimedBySecond = await dataSource.transaction(async (manager) =>
      (await repos.outbox.claimOutbox(manager, 6)).map((entry) => entry.id),
    );
    releaseFirst();
    await first;
    expect(claimedByFirst).toHaveLength(6);
    expect(claimedBySecond).toHaveLength(4);
    expect(claimedBySecond.filter((id) => claimedByFirst.includes(id))).toEqual([]);
  });

  it('never moves a message backwards: a late broker confirm does not undo "delivered"', async () => {
    const id = uuidV7();
    await dataSource.transaction((manager) => repos.outbound.insertOutbound(manager, outbound(id)));
    const applied = await repos.outbound.recordReceipt({
      messageId: id,
      status: 'delivered',
      reason: null,
      receipt: Buffer.from('r'),
      detail: 'receipt r',
      at: new Date(),
    });
    expect(applied).toBe(true);
    await dataSource.transaction((manager) =>
      repos.outbound.markSent(manager, [id], new Date(), 60_000),
    );
    expect((await repos.outbound.findOutbound(id))?.status).toBe('delivered');
    const again = await repos.outbound.recordReceipt({
      messageId: id,
      status: 'rejected',
      reason: 'x',
      receipt: Buffer.from('r2'),
      detail: 'receipt r2',
      at: new Date(),
    });
    expect(again).toBe(false);
    expect((await repos.outbound.findOutbound(id))?.receipt?.toString()).toBe('r');
    const timeline = await repos.evidence.timeline(id, 'outbound');
    expect(timeline.map((entry) => entry.type)).toEqual(['delivered']);
    expect(timeline[0]?.signed?.toString()).toBe('r');
  });

  it('stores the first of two copies of one envelope in a batch, and tells that caller it won', async () => {
    const base = {
      threadId: uuidV7(),
      inReplyTo: null,
      kind: 'mla_request',
      fromState: 'AT',
      fromAuthority: 'at-central-authority',
      toAuthority: 'fr-central-authority',
      status: 'delivered' as const,
      envelope: Buffer.from('x'),
      envelopeDigest: 'd',
      receiptId: uuidV7(),
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 1000),
      receivedAt: new Date(),
    };
    const id = uuidV7();
    const copy = (receipt: string) => ({
      row: { ...base, id, receipt: Buffer.from(receipt) },
      receiptRoutingKey: 'AT',
      leaseUntil: new Date(),
    });
    // The first call is written alone; the next ones arrive while it is in flight and share a batch.
    const [, first, second] = await Promise.all([
      repos.inbound.storeDelivered({ ...copy('lead'), row: { ...copy('lead').row, id: uuidV7() } }),
      repos.inbound.storeDelivered(copy('first')),
      repos.inbound.storeDelivered(copy('second')),
    ]);
    expect(first).not.toBeNull();
    expect(second).toBeNull();
    const [stored] = (await dataSource.query(
      'SELECT convert_from(receipt, $2) AS receipt FROM inbound_message WHERE id = $1',
      [id, 'UTF8'],
    )) as Array<{ receipt: string }>;
    // The caller told it won is the copy whose receipt is stored, and queued for publishing.
    expect(stored?.receipt).toBe('first');
    const [queued] = (await dataSource.query(
      'SELECT convert_from(payload, $2) AS payload FROM outbox WHERE message_id = $1',
      [id, 'UTF8'],
    )) as Array<{ payload: string }>;
    expect(queued?.payload).toBe('first');
  });

  it('accepts many submits in one group commit: each message with its evidence and outbox entry', async () => {
    const ids = Array.from({ length: 25 }, () => uuidV7());
    await Promise.all(
      ids.map((id) =>
        repos.outbound.acceptOutbound({
          row: outbound(id),
          routingKey: 'FR',
          detail: null,
          retryOf: null,
          leaseUntil: new Date(),
        }),
      ),
    );
    const [counts] = (await dataSource.query(
      `SELECT (SELECT count(*)::int FROM outbound_message WHERE id = ANY($1::uuid[])) AS messages,
              (SELECT count(*)::int FROM evidence WHERE message_id = ANY($1::uuid[]) AND type = 'submitted') AS evidence,
              (SELECT count(*)::int FROM outbox WHERE message_id = ANY($1::uuid[]) AND payload_type = 'envelope') AS outbox`,
      [ids],
    )) as Array<Record<string, number>>;
    expect(counts).toEqual({ messages: 25, evidence: 25, outbox: 25 });
    // A clash fails only its own submit, not the others written with it.
    const clash = await Promise.allSettled([
      repos.outbound.acceptOutbound({
        row: outbound(ids[0]!),
        routingKey: 'FR',
        detail: null,
        retryOf: null,
        leaseUntil: new Date(),
      }),
      repos.outbound.acceptOutbound({
        row: outbound(uuidV7()),
        routingKey: 'FR',
        detail: null,
        retryOf: null,
        leaseUntil: new Date(),
      }),
    ]);
    expect(clash.map((outcome) => outcome.status)).toEqual(['rejected', 'fulfilled']);
  });

  it('leaves a fresh entry to its own relay until the lease runs out, then any relay claims it', async () => {
    await dataSource.query('DELETE FROM outbox');
    const id = uuidV7();
    const outboxId = await repos.outbound.acceptOutbound({
      row: outbound(id),
      routingKey: 'FR',
      detail: null,
      retryOf: null,
      leaseUntil: new Date(Date.now() + 60_000),
    });
    expect(outboxId).toMatch(/^\d+$/);
    const claim = () =>
      dataSource.transaction(async (manager) =>
        (await repos.outbox.claimOutbox(manager, 10)).map((entry) => entry.id),
      );
    expect(await claim()).toEqual([]);
    // The writer died before publishing: once the lease has run out, the safety net takes it.
    await dataSource.query(`UPDATE outbox SET available_at = now() - interval '1 second'`);
    expect(await claim()).toEqual([outboxId]);
  });

  it('keeps one copy of an envelope: the outbox entry reads it from the message, byte for byte', async () => {
    await dataSource.query('DELETE FROM outbox');
    const id = uuidV7();
    const row = {
      ...outbound(id),
      envelope: Buffer.from('eyJhbGciOiJFZERTQSJ9.e30.c2ln', 'ascii'),
    };
    await repos.outbound.acceptOutbound({
      row,
      routingKey: 'FR',
      detail: null,
      retryOf: null,
      leaseUntil: new Date(Date.now() - 1000),
    });
    expect(
      await dataSource.query(`SELECT payload FROM outbox WHERE message_id = $1`, [id]),
    ).toEqual([{ payload: null }]);
    const claimed = await dataSource.transaction((manager) =>
      repos.outbox.claimOutbox(manager, 10),
    );
    expect(claimed.map((entry) => [entry.messageId, entry.payload.toString('latin1')])).toEqual([
      [id, row.envelope.toString('latin1')],
    ]);
    expect((await repos.outbound.findOutbound(id))!.envelope!.equals(row.envelope)).toBe(true);
  });

  it('registers a large attachment transfer in the same transaction as its message, or not at all', async () => {
    const id = uuidV7();
    const transfer = (envelopeId: string) =>
      transferInsert({
        envelopeId,
        routingKey: 'FR',
        fromState: 'AT',
        attachments: [{ attachmentId: uuidV7(), chunks: 2 }],
        totalBytes: 2048,
        at: new Date(),
      });
    const item = (
      row: ReturnType<typeof outbound>,
      together: { text: string; values: unknown[] },
    ) => ({
      row,
      routingKey: 'FR',
      detail: null,
      retryOf: null,
      leaseUntil: new Date(Date.now() - 1000),
      together,
    });
    await repos.outbound.acceptOutbound(item(outbound(id), transfer(id)));
    // Both there, and the database holds the envelope until the chunks are confirmed.
    expect(
      await dataSource.query(
        `SELECT (SELECT status FROM attachment_transfer WHERE envelope_id = $1) AS transfer,
                (SELECT available_at > now() + interval '1 year' FROM outbox WHERE message_id = $1) AS held`,
        [id],
      ),
    ).toEqual([{ transfer: 'pending', held: true }]);
    // The message fails (its id is taken): its transfer is rolled back with it.
    const orphan = uuidV7();
    await expect(
      repos.outbound.acceptOutbound(item(outbound(id), transfer(orphan))),
    ).rejects.toMatchObject({
      code: '23505',
    });
    expect(
      await dataSource.query(
        `SELECT count(*)::int AS n FROM attachment_transfer WHERE envelope_id = $1`,
        [orphan],
      ),
    ).toEqual([{ n: 0 }]);
    // The pool is still healthy afterwards.
    expect(await repos.outbound.findOutbound(id)).not.toBeNull();
  });

  it('refuses to store an envelope that is not ASCII, failing that submit alone', async () => {
    const bad = { ...outbound(uuidV7()), envelope: Buffer.from([0x65, 0xff, 0x00]) };
    const good = outbound(uuidV7());
    const results = await Promise.allSettled(
      [bad, good].map((row) =>
        repos.outbound.acceptOutbound({
          row,
          routingKey: 'FR',
          detail: null,
          retryOf: null,
          leaseUntil: new Date(),
        }),
      ),
    );
    expect(results[0]).toMatchObject({
      status: 'rejected',
      reason: { message: 'the envelope to store is not ASCII (a compact JWS is)' },
    });
    expect(results[1]!.status).toBe('fulfilled');
  });

  it('pages outbound messages newest first with a keyset cursor', async () => {
    await dataSource.query('DELETE FROM outbound_message');
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const id = uuidV7(Date.now() + index);
      ids.push(id);
      await dataSource.transaction((manager) =>
        repos.outbound.insertOutbound(manager, outbound(id)),
      );
    }
    const firstPage = await repos.outbound.listOutbound(3);
    expect(firstPage.map((row) => row.id)).toEqual(ids.slice(2).reverse());
    const secondPage = await repos.outbound.listOutbound(3, firstPage[2]!.id);
    expect(secondPage.map((row) => row.id)).toEqual(ids.slice(0, 2).reverse());
  });
});
