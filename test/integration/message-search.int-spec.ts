import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { uuidV7 } from '@comity/protocol';
import { repositoriesOf, type Repositories } from '../support/repositories';
import {
  messageCursorOf,
  parseMessageCursor,
  type MessageRecord,
} from '../../apps/gateway/src/persistence/message-search.repository';
import { migratedDatabase, type MigratedDatabase } from '../support/migrated-database';

/** The console's keyset pages over all three sources, with rows that share one envelope id. */
describe('MessageSearchRepository paging on a real PostgreSQL', () => {
  let database: MigratedDatabase;
  let dataSource: DataSource;
  let repos: Repositories;

  beforeAll(async () => {
    database = await migratedDatabase('comity_ops');
    dataSource = database.dataSource;
    repos = repositoriesOf(dataSource);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  async function delivered(id: string): Promise<void> {
    const now = new Date();
    await repos.inbound.storeDelivered({
      row: {
        id,
        threadId: id,
        inReplyTo: null,
        kind: 'mla_request',
        fromState: 'KE',
        fromAuthority: 'ke-central-authority',
        toAuthority: 'at-central-authority',
        status: 'delivered',
        envelope: Buffer.from('envelope'),
        envelopeDigest: 'digest',
        receiptId: uuidV7(),
        receipt: Buffer.from('receipt'),
        createdAt: now,
        expiresAt: new Date(now.getTime() + 60_000),
        receivedAt: now,
      },
      receiptRoutingKey: 'KE',
      leaseUntil: now,
    });
  }

  async function refused(envelopeId: string, reason: string): Promise<void> {
    await dataSource.transaction((manager) =>
      repos.inbound.insertRejection(manager, {
        envelopeId,
        fromState: 'KE',
        reason,
        envelopeDigest: 'digest',
        envelope: Buffer.from('envelope'),
        receipt: Buffer.from('receipt'),
        receivedAt: new Date(),
      }),
    );
  }

  async function allPages(limit: number, state?: string): Promise<MessageRecord[]> {
    const seen: MessageRecord[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page += 1) {
      const records = await repos.search.searchMessages({
        direction: 'inbound',
        state,
        limit: limit,
        before: cursor ? parseMessageCursor(cursor) : undefined,
      });
      seen.push(...records.slice(0, limit));
      if (records.length <= limit) return seen;
      cursor = messageCursorOf(records[limit - 1]!);
    }
    throw new Error('more than 100 pages');
  }

  it('pages through an envelope stored once and refused three times, each row once, whatever the page size', async () => {
    const older = uuidV7(Date.now() - 2000);
    const shared = uuidV7(Date.now() - 1000);
    const newer = uuidV7();
    await delivered(older);
    await delivered(shared);
    for (const reason of ['duplicate-envelope-conflict', 'invalid-signature', 'envelope-expired'])
      await refused(shared, reason);
    await refused(newer, 'invalid-signature');

    const everything = await repos.search.searchMessages({ direction: 'inbound', limit: 100 });
    const describe = (record: MessageRecord) =>
      `${record.id} ${record.status} ${record.statusReason ?? ''}`.trim();
    expect(everything.map(describe)).toEqual([
      `${newer} rejected invalid-signature`,
      `${shared} delivered`,
      // Refused copies newest first.
      `${shared} rejected envelope-expired`,
      `${shared} rejected invalid-signature`,
      `${shared} rejected duplicate-envelope-conflict`,
      `${older} delivered`,
    ]);
    for (const limit of [1, 2, 3, 4, 5])
      expect((await allPages(limit)).map(describe)).toEqual(everything.map(describe));
  });

  it('orders refused copies by their own serial, not by where they lie, with a peer filter too', async () => {
    await dataSource.query('DELETE FROM inbound_rejection');
    await dataSource.query('DELETE FROM inbound_message');
    const shared = uuidV7();
    // Inserted in the order 3, 1, 2: the table's physical order is not the rank order.
    for (const serial of [3_000_000, 1_000_000, 2_000_000]) {
      await dataSource.query(
        `INSERT INTO inbound_rejection (id, envelope_id, from_state, reason, envelope_digest, envelope, receipt, received_at)
         VALUES ($1, $2, 'KE', $3, 'digest', '\\x00', '\\x00', now())`,
        [serial, shared, `copy ${serial}`],
      );
    }
    const expected = ['copy 3000000', 'copy 2000000', 'copy 1000000'];
    const reasons = (records: MessageRecord[]) => records.map((record) => record.statusReason);
    expect(reasons(await repos.search.searchMessages({ direction: 'inbound', limit: 10 }))).toEqual(
      expected,
    );
    for (const limit of [1, 2]) {
      expect(reasons(await allPages(limit))).toEqual(expected);
      expect(reasons(await allPages(limit, 'KE'))).toEqual(expected);
    }
  });

  it('still takes a bare id as the cursor (rows below that id)', async () => {
    await delivered(uuidV7(Date.now() - 5000));
    await delivered(uuidV7(Date.now() - 4000));
    const records = await repos.search.searchMessages({ direction: 'inbound', limit: 100 });
    const middle = records[1]!;
    const below = await repos.search.searchMessages({
      direction: 'inbound',
      limit: 100,
      before: parseMessageCursor(middle.id),
    });
    expect(below.every((record) => record.id < middle.id)).toBe(true);
    expect(below.length).toBeGreaterThan(0);
  });
});
