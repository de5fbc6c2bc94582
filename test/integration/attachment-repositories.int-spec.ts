import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { uuidV7 } from '@comity/protocol';
import { repositoriesOf, type Repositories } from '../support/repositories';
import { migratedDatabase, type MigratedDatabase } from '../support/migrated-database';

/** The SQL of large attachments, on a real PostgreSQL migrated like a node's. */
describe('the attachment repositories on a real PostgreSQL', () => {
  let database: MigratedDatabase;
  let dataSource: DataSource;
  let repos: Repositories;

  beforeAll(async () => {
    database = await migratedDatabase('comity_attachments');
    dataSource = database.dataSource;
    repos = repositoriesOf(dataSource);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  async function upload(chunks: Buffer[]): Promise<string> {
    const id = uuidV7();
    const now = new Date();
    await repos.uploads.insertAttachment({
      id,
      authority: 'at-central-authority',
      createdBy: 'central-clerk',
      filename: 'a.bin',
      mediaType: 'application/octet-stream',
      size: chunks.reduce((sum, chunk) => sum + chunk.length, 0),
      chunkSize: chunks[0]!.length,
      chunks: chunks.length,
      wrappedKey: 'wrapped',
      status: 'uploading',
      sha256: null,
      createdAt: now,
      updatedAt: now,
      completedAt: null,
    });
    for (const [index, chunk] of chunks.entries()) {
      expect(await repos.uploads.insertChunk(id, index, chunk, `digest-${index}`, now)).toBeNull();
    }
    return id;
  }

  it('reads sealed chunks back byte for byte through the binary COPY, by index range', async () => {
    // Every byte value, sizes around the COPY framing, one empty-ish and one of 2 MiB.
    const chunks = [
      Buffer.from(Array.from({ length: 256 }, (_, value) => value)),
      randomBytes(1),
      randomBytes(65_536 + 3),
      randomBytes(2 * 1024 * 1024 + 16),
      randomBytes(17),
    ];
    const id = await upload(chunks);
    const all = await repos.uploads.readChunks(id, 0, 10);
    expect(all.map((chunk) => chunk.index)).toEqual([0, 1, 2, 3, 4]);
    all.forEach((chunk, index) => expect(chunk.sealed.equals(chunks[index]!)).toBe(true));
    const middle = await repos.uploads.readChunks(id, 2, 2);
    expect(middle.map((chunk) => chunk.index)).toEqual([2, 3]);
    expect(await repos.uploads.readChunks(id, 5, 4)).toEqual([]);
    expect(await repos.uploads.chunkIndexes(id)).toEqual([0, 1, 2, 3, 4]);
  });

  it('stores an uploaded chunk once; the same index again reports the digest already there', async () => {
    const id = await upload([randomBytes(32)]);
    expect(await repos.uploads.insertChunk(id, 0, randomBytes(32), 'another', new Date())).toBe(
      'digest-0',
    );
    expect(await repos.uploads.completeAttachment(id, 'sha', new Date())).toBe(true);
    expect(await repos.uploads.completeAttachment(id, 'sha', new Date())).toBe(false);
  });

  it('holds an envelope in the outbox while its transfer is pending, and releases it when the transfer completes', async () => {
    const envelopeId = uuidV7();
    const plain = uuidV7();
    await repos.transfers.insertTransfer({
      envelopeId,
      routingKey: 'FR',
      fromState: 'AT',
      attachments: [{ attachmentId: uuidV7(), chunks: 3 }],
      totalBytes: 3000,
      at: new Date(),
    });
    for (const messageId of [envelopeId, plain]) {
      await dataSource.query(
        `INSERT INTO outbox (message_id, payload_type, routing_key, payload, available_at, attempts)
         VALUES ($1, 'envelope', 'FR', '\\x00', now(), 0), ($1, 'receipt', 'FR', '\\x00', now(), 0)`,
        [messageId],
      );
    }
    const availability = async (messageId: string) =>
      (
        (await dataSource.query(
          `SELECT payload_type, available_at <= now() AS due FROM outbox WHERE message_id = $1 ORDER BY payload_type`,
          [messageId],
        )) as Array<{ payload_type: string; due: boolean }>
      ).map((row) => `${row.payload_type}:${row.due ? 'due' : 'held'}`);
    // Only the envelope of the message whose chunks are still going is held.
    expect(await availability(envelopeId)).toEqual(['envelope:held', 'receipt:due']);
    expect(await availability(plain)).toEqual(['envelope:due', 'receipt:due']);

    expect(await repos.transfers.startRun(envelopeId)).toEqual({ confirmed: 0, runs: 1 });
    await repos.transfers.recordConfirmed(envelopeId, 2);
    await repos.transfers.recordConfirmed(envelopeId, 1); // a late, lower value never moves it back
    expect(await repos.transfers.startRun(envelopeId)).toEqual({ confirmed: 2, runs: 2 });
    expect((await repos.transfers.findTransfer(envelopeId))?.resumedFrom).toBe(2);

    expect(await repos.transfers.completeTransfer(envelopeId)).toBe(true);
    expect(await repos.transfers.completeTransfer(envelopeId)).toBe(false);
    expect(await availability(envelopeId)).toEqual(['envelope:due', 'receipt:due']);
    expect(await repos.transfers.findTransfer(envelopeId)).toMatchObject({
      status: 'done',
      confirmedChunks: 3,
      messageStatus: null,
    });
  });

  it('keeps received chunks once per sender, counts what is pending, finds the first missing one', async () => {
    const envelopeId = uuidV7();
    const chunk = (index: number, fromState = 'AT', bytes = randomBytes(100)) =>
      repos.inboundChunks.storeInboundChunk({
        fromState,
        envelopeId,
        attachmentIndex: 0,
        chunkIndex: index,
        sealed: bytes,
        at: new Date(),
      });
    expect(await chunk(0)).toBe(true);
    expect(await chunk(2)).toBe(true);
    expect(await chunk(0)).toBe(false); // a duplicate: the first copy stays
    expect(await chunk(1, 'KE')).toBe(true); // another State's chunk is not AT's
    expect(await repos.inboundChunks.pendingBytes('AT')).toBe(200);
    expect(await repos.inboundChunks.pendingBytes('KE')).toBe(100);
    expect(await repos.inboundChunks.presentChunks('AT', envelopeId, [3])).toEqual([
      { present: 2, firstMissing: 1 },
    ]);
    expect(await chunk(1)).toBe(true);
    expect(await repos.inboundChunks.presentChunks('AT', envelopeId, [3])).toEqual([
      { present: 3, firstMissing: null },
    ]);
    const read = await repos.inboundChunks.readInboundChunks('AT', envelopeId, 0, 0, 3);
    expect(read.map((item) => item.index)).toEqual([0, 1, 2]);

    const first = await repos.inboundChunks.envelopeWaitingSince(
      'AT',
      envelopeId,
      new Date('2030-01-01'),
    );
    const second = await repos.inboundChunks.envelopeWaitingSince(
      'AT',
      envelopeId,
      new Date('2031-01-01'),
    );
    expect(second).toEqual(first);
  });

  it('sweeps the chunks of refused envelopes and of orphans, and keeps those of delivered ones', async () => {
    const delivered = uuidV7();
    const refused = uuidV7();
    const orphan = uuidV7();
    for (const envelopeId of [delivered, refused, orphan]) {
      await repos.inboundChunks.storeInboundChunk({
        fromState: 'AT',
        envelopeId,
        attachmentIndex: 0,
        chunkIndex: 0,
        sealed: randomBytes(10),
        at: new Date(),
      });
    }
    await dataSource.query(
      `INSERT INTO inbound_message (id, thread_id, kind, from_state, from_authority, to_authority, status, envelope,
                                    envelope_digest, receipt_id, receipt, created_at, expires_at, received_at)
       VALUES ($1, $1, 'mla_request', 'AT', 'at-central-authority', 'fr-central-authority', 'delivered', '\\x00',
               'd', $2, '\\x00', now(), now() + interval '1 day', now())`,
      [delivered, uuidV7()],
    );
    await dataSource.query(
      `INSERT INTO inbound_rejection (envelope_id, from_state, reason, envelope_digest, envelope, receipt, received_at)
       VALUES ($1, 'AT', 'attachment-chunk-digest-mismatch', 'd', '\\x00', '\\x00', now())`,
      [refused],
    );
    await dataSource.query(
      `UPDATE inbound_chunk_set SET last_at = now() - interval '2 days' WHERE envelope_id = $1`,
      [orphan],
    );
    const remaining = async () =>
      (
        (await dataSource.query(
          `SELECT envelope_id FROM inbound_chunk WHERE envelope_id = ANY($1::uuid[]) ORDER BY envelope_id`,
          [[delivered, refused, orphan]],
        )) as Array<{ envelope_id: string }>
      ).map((row) => row.envelope_id);
    expect(await remaining()).toHaveLength(3);
    await repos.inboundChunks.sweepInbound(new Date(Date.now() - 86_400_000));
    expect(await remaining()).toEqual([delivered]);
    // A delivered envelope's chunks are not pending any more.
    expect(await repos.inboundChunks.pendingBytes('AT')).toBe(300);
  });
});
