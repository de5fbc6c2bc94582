import { request as httpRequest } from 'node:http';
import { connect, type ChannelModel, type GetMessage } from 'amqplib';
import { Client } from 'pg';
import { GatewayApiError } from '../../apps/cli/src/gateway-client';
import { AttachmentClient, GeneratedFile, type UploadView } from '../support/large-attachments';
import { quarantineReasonOf } from '../support/quarantine';
import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';

const KIB = 1024;
const MIB = 1024 * KIB;
const CHUNK = 256 * KIB;
const WINDOW = 16;

/**
 * Large evidence files by reference, end to end through three gateway processes: a resumable
 * chunked upload, chunks published ahead of their envelope and verified by the receiver before
 * it signs a receipt, the exact bytes downloaded by the recipient clerk, a sender killed in the
 * middle of a transfer, and a chunk tampered with on the broker.
 */
describe('large attachments: chunked upload, transfer, verification, download', () => {
  let world: TestFederation;
  let broker: ChannelModel;
  let atDatabase: Client;
  /** 64 MiB and a bit: 257 chunks of 256 KiB, the last one short. */
  const file = new GeneratedFile(64 * MIB + 12_345, 'large-attachments-e2e');
  let upload: UploadView;

  beforeAll(async () => {
    world = await startTestFederation('large-attachments', {
      COMITY_ATTACHMENT_CHUNK_BYTES: String(CHUNK),
      COMITY_MAX_ATTACHMENT_BYTES: String(128 * MIB),
      COMITY_TRANSFER_WINDOW: String(WINDOW),
      // Slow enough that a transfer can be interrupted in the middle (64 MiB in about 2 s).
      COMITY_TRANSFER_MAX_BYTES_PER_SECOND: String(32 * MIB),
      // An envelope whose chunks are missing is refused after 4 s (instead of 2 minutes).
      COMITY_ATTACHMENT_WAIT_SECONDS: '4',
    });
    broker = await connect(world.amqpUrl);
    atDatabase = new Client({ connectionString: world.databaseUrls.AT });
    await atDatabase.connect();
  }, 120_000);

  afterAll(async () => {
    await atDatabase?.end();
    await broker?.close();
    await world?.stop();
  }, 60_000);

  const clerk = (state: string) =>
    new AttachmentClient(world.federation.node(state).url, world.apiKey(state, 'central-clerk'));

  async function transferOf(envelopeId: string) {
    const { rows } = await atDatabase.query<{
      confirmed_chunks: number;
      total_chunks: number;
      runs: number;
      resumed_from: number | null;
      status: string;
    }>(
      `SELECT confirmed_chunks, total_chunks, runs, resumed_from, status FROM attachment_transfer WHERE envelope_id = $1`,
      [envelopeId],
    );
    return rows[0];
  }

  async function chunksReceived(state: string): Promise<Record<string, number>> {
    const text = await fetch(`${world.federation.node(state).url}/metrics`, {
      headers: { authorization: `Bearer ${world.apiKey(state, 'operator')}` },
    }).then((response) => response.text());
    const counts: Record<string, number> = {};
    for (const match of text.matchAll(
      /^comity_attachment_chunks_received_total\{outcome="([^"]+)"\} (\d+)/gm,
    )) {
      counts[match[1]!] = Number(match[2]);
    }
    return counts;
  }

  it('uploads 64 MiB in chunks, resumes an interrupted upload, and FR’s clerk downloads the exact bytes', async () => {
    const austria = clerk('AT');
    upload = await austria.create({
      filename: 'bank-records-2019-2024.bin',
      mediaType: 'application/octet-stream',
      size: file.size,
    });
    expect(upload).toMatchObject({ chunkSize: CHUNK, chunks: 257, status: 'uploading' });
    expect(upload.missingChunks).toEqual([[0, 256]]);

    // The first upload breaks off after 100 chunks, the last of them cut in the middle.
    await expect(
      austria.uploadMissing(upload, file, {
        parallel: 1,
        onChunk: (index) => {
          if (index === 100) throw new Error('connection lost');
        },
      }),
    ).rejects.toThrow('connection lost');
    expect(await putHalfAndDrop(austria, upload.id, 100, file.slice(100 * CHUNK, CHUNK))).toBe(
      'dropped',
    );
    const interrupted = await austria.status(upload.id);
    expect(interrupted.receivedChunks).toBe(100);
    expect(interrupted.missingChunks).toEqual([[100, 256]]);
    await expect(austria.complete(upload.id)).rejects.toMatchObject({ status: 409 });

    // Resumed: only the missing chunks go, a few in parallel.
    expect(await austria.uploadMissing(interrupted, file, { parallel: 3 })).toBe(157);
    // A chunk sent again with the same bytes is accepted as already there; other bytes are refused.
    expect(await austria.putChunk(upload.id, 5, file.slice(5 * CHUNK, CHUNK))).toMatchObject({
      stored: false,
    });
    await expect(austria.putChunk(upload.id, 5, Buffer.alloc(CHUNK, 7))).rejects.toMatchObject({
      status: 409,
    });
    await expect(austria.putChunk(upload.id, 6, Buffer.alloc(CHUNK + 1))).rejects.toMatchObject({
      status: 413,
    });
    const completed = await austria.complete(upload.id);
    expect(completed).toMatchObject({ status: 'complete', receivedChunks: 257, missingChunks: [] });
    expect(completed.sha256).toBe(file.sha256());

    const at = world.client('AT');
    const submitted = await at.submit(
      mlaRequest({ subject: 'Bank records (large file)', attachmentRefs: [upload.id] }),
    );
    const delivered = await at.waitForStatus(
      submitted.id,
      ['delivered', 'rejected', 'failed'],
      60_000,
    );
    expect(delivered.status).toBe('delivered');
    const transfer = await transferOf(submitted.id);
    expect(transfer).toMatchObject({ status: 'done', confirmed_chunks: 257, runs: 1 });

    const received = await world.client('FR').inbound(submitted.id);
    const [reference] = received.content?.largeAttachments as Array<Record<string, unknown>>;
    expect(reference).toMatchObject({
      id: upload.id,
      filename: 'bank-records-2019-2024.bin',
      size: file.size,
      chunks: 257,
      sha256: file.sha256(),
      key: '(withheld)',
    });

    const download = await clerk('FR').download(
      `/v1/inbound-messages/${submitted.id}/attachments/0`,
    );
    expect(download.bytes).toBe(file.size);
    expect(download.sha256).toBe(file.sha256());
    expect(download.headers.get('content-length')).toBe(String(file.size));
    expect(download.headers.get('repr-digest')).toBe(
      `sha-256=:${Buffer.from(file.sha256(), 'base64url').toString('base64')}:`,
    );
    // The sender's clerk reads its own copy; nobody else reads either.
    const own = await austria.download(`/v1/outbound-messages/${submitted.id}/attachments/0`);
    expect(own.sha256).toBe(file.sha256());
    await expect(
      clerk('KE').download(`/v1/inbound-messages/${submitted.id}/attachments/0`),
    ).rejects.toMatchObject({ status: 404 });
    const frOperator = await fetch(
      `${world.federation.node('FR').url}/v1/inbound-messages/${submitted.id}/attachments/0`,
      { headers: { authorization: `Bearer ${world.apiKey('FR', 'operator')}` } },
    );
    expect(frOperator.status).toBe(403);
    expect((await chunksReceived('FR')).stored).toBe(257);
  }, 60_000);

  it('refuses files over the size limit, and references that are not complete uploads of the clerk', async () => {
    await expect(
      clerk('AT').create({
        filename: 'too-big.bin',
        mediaType: 'application/zip',
        size: 129 * MIB,
      }),
    ).rejects.toMatchObject({ status: 413 });
    const unfinished = await clerk('AT').create({
      filename: 'unfinished.bin',
      mediaType: 'application/zip',
      size: MIB,
    });
    const refused = await world
      .client('AT')
      .submit(mlaRequest({ attachmentRefs: [unfinished.id] }))
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(GatewayApiError);
    expect((refused as GatewayApiError).status).toBe(400);
    expect((refused as GatewayApiError).message).toContain('is not complete');
    // Another authority's clerk of the same State does not see the upload at all.
    const other = new AttachmentClient(
      world.federation.node('AT').url,
      world.apiKey('AT', 'extradition-clerk'),
    );
    await expect(other.status(upload.id)).rejects.toMatchObject({ status: 404 });
  });

  it('resumes a transfer after the sender is killed mid-publish, without sending the confirmed chunks again', async () => {
    const at = world.client('AT');
    // The same upload, sent again in a new request: a new envelope, a new transfer of its chunks.
    const submitted = await at.submit(
      mlaRequest({ subject: 'The same records, again', attachmentRefs: [upload.id] }),
    );
    const before = await chunksReceived('FR');
    const deadline = Date.now() + 20_000;
    let progress = await transferOf(submitted.id);
    while ((progress?.confirmed_chunks ?? 0) < 60 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      progress = await transferOf(submitted.id);
    }
    await world.federation.node('AT').stop('SIGKILL');
    const atKill = await transferOf(submitted.id);
    expect(atKill!.status).toBe('pending');
    expect(atKill!.confirmed_chunks).toBeGreaterThanOrEqual(60);
    expect(atKill!.confirmed_chunks).toBeLessThan(257);

    world.federation.node('AT').start();
    await world.federation.node('AT').waitUntilReady();
    const delivered = await at.waitForStatus(
      submitted.id,
      ['delivered', 'rejected', 'failed'],
      60_000,
    );
    expect(delivered.status).toBe('delivered');
    const after = await transferOf(submitted.id);
    expect(after).toMatchObject({
      status: 'done',
      runs: 2,
      resumed_from: atKill!.confirmed_chunks,
    });

    // FR received each chunk once, but for at most a window of them published again after the
    // restart (confirmed by the broker but not yet recorded, or in flight, when AT died).
    const counts = await chunksReceived('FR');
    const stored = (counts.stored ?? 0) - (before.stored ?? 0);
    const duplicates = (counts.duplicate ?? 0) - (before.duplicate ?? 0);
    expect(stored).toBe(257);
    expect(duplicates).toBeLessThanOrEqual(WINDOW + 4);
    const download = await clerk('FR').download(
      `/v1/inbound-messages/${submitted.id}/attachments/0`,
    );
    expect(download.sha256).toBe(file.sha256());
  }, 60_000);

  it('refuses with a signed negative receipt an envelope whose chunk was tampered with on the broker, and one whose chunk was taken away', async () => {
    const small = new GeneratedFile(MIB + 100, 'tampered');
    const austria = clerk('AT');
    const ledger = await austria.create({
      filename: 'ledger.bin',
      mediaType: 'application/octet-stream',
      size: small.size,
    });
    await austria.uploadMissing(ledger, small);
    await austria.complete(ledger.id);

    // FR is away while two requests' chunks and envelopes wait in its inbox; someone on the
    // broker takes them and puts them back: one chunk of the first altered, one of the second gone.
    await world.federation.node('FR').stop();
    const at = world.client('AT');
    const altered = await at.submit(mlaRequest({ subject: 'Ledger', attachmentRefs: [ledger.id] }));
    await at.waitForStatus(altered.id, ['sent'], 20_000);
    const shortened = await at.submit(
      mlaRequest({ subject: 'Ledger again', attachmentRefs: [ledger.id] }),
    );
    await at.waitForStatus(shortened.id, ['sent'], 20_000);
    const channel = await broker.createConfirmChannel();
    const taken: GetMessage[] = [];
    for (let message = await channel.get('comity.inbox.FR'); message;) {
      taken.push(message);
      message = await channel.get('comity.inbox.FR');
    }
    // Chunks first, the envelope last, for each request.
    expect(taken.map((message) => message.properties.type)).toEqual([
      ...['chunk', 'chunk', 'chunk', 'chunk', 'chunk', 'envelope'],
      ...['chunk', 'chunk', 'chunk', 'chunk', 'chunk', 'envelope'],
    ]);
    for (const message of taken) {
      const headers = message.properties.headers ?? {};
      const of = headers['x-comity-envelope-id'] as string | undefined;
      const index = headers['x-comity-chunk-index'] as number | undefined;
      if (of === shortened.id && index === 3) continue;
      const body = Buffer.from(message.content);
      if (of === altered.id && index === 2) body[1000]! ^= 0x01;
      channel.publish('comity.transmit', 'FR', body, {
        persistent: true,
        type: message.properties.type as string,
        messageId: message.properties.messageId as string,
        contentType: message.properties.contentType as string,
        userId: message.properties.userId as string,
        headers,
      });
    }
    await channel.waitForConfirms();
    for (const message of taken) channel.ack(message);
    await channel.close();

    world.federation.node('FR').start();
    await world.federation.node('FR').waitUntilReady();
    const refused = await at.waitForStatus(altered.id, ['delivered', 'rejected', 'failed'], 30_000);
    expect(refused.status).toBe('rejected');
    expect(refused.statusReason).toBe('attachment-chunk-digest-mismatch');
    expect(refused.timeline.at(-1)?.detail).toContain('signed by FR');
    await expect(world.client('FR').inbound(altered.id)).rejects.toMatchObject({ status: 404 });

    // The missing chunk never comes: after COMITY_ATTACHMENT_WAIT_SECONDS the envelope is refused.
    const incomplete = await at.waitForStatus(
      shortened.id,
      ['delivered', 'rejected', 'failed'],
      30_000,
    );
    expect(incomplete.status).toBe('rejected');
    expect(incomplete.statusReason).toBe('attachment-incomplete');
  }, 60_000);

  it('quarantines a chunk message without the headers that place it', async () => {
    const channel = await broker.createConfirmChannel();
    channel.publish('comity.transmit', 'FR', Buffer.alloc(100), {
      persistent: true,
      type: 'chunk',
      messageId: 'chunk-without-headers',
    });
    await channel.waitForConfirms();
    await channel.close();
    expect(await quarantineReasonOf(world, 'FR', 'chunk-without-headers')).toBe('malformed-chunk');
  });
});

/** Sends half of a chunk's declared body, then drops the connection (an interrupted PUT). */
function putHalfAndDrop(
  client: AttachmentClient,
  id: string,
  index: number,
  bytes: Buffer,
): Promise<string> {
  return new Promise((resolve) => {
    const request = httpRequest(`${client.baseUrl}/v1/attachments/${id}/chunks/${index}`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${client.apiKey}`,
        'content-type': 'application/octet-stream',
        'content-length': bytes.length,
      },
    });
    request.on('error', () => resolve('dropped'));
    request.on('response', (response) => resolve(`answered ${response.statusCode}`));
    request.write(bytes.subarray(0, bytes.length / 2), () => {
      setTimeout(() => {
        request.destroy();
        resolve('dropped');
      }, 200);
    });
  });
}
