import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  encryptToCertificate,
  readEnvelopeParts,
  sealEnvelope,
  serializeEnvelope,
  uuidV7,
  type SealedEnvelope,
} from '@comity/protocol';
import { sampleContent } from '../../libs/protocol/test-support/federation';
import { Clock } from '../../apps/gateway/src/common/clock';
import { SenderCopies } from '../../apps/gateway/src/content/sender-copies';
import { SenderCopyKeyRepository } from '../../apps/gateway/src/persistence/sender-copy-key.repository';
import { repositoriesOf } from '../support/repositories';
import { FederationTrust } from '../../apps/gateway/src/trust/federation-trust';
import {
  atGatewayConfig,
  migratedDatabase,
  type MigratedDatabase,
} from '../support/migrated-database';

/**
 * The sender's own sealed copies on a real database: written by one process, opened by another
 * (the data key fetched and unwrapped, as after a restart or on a replica), the earlier form
 * still opened, and every copy that cannot be opened answered with a 409 that says why.
 */
describe('SenderCopies', () => {
  let database: MigratedDatabase;
  let dataSource: DataSource;
  let store: SenderCopyKeyRepository;
  let trust: FederationTrust;
  const clock = new Clock();

  beforeAll(async () => {
    Logger.overrideLogger(false);
    database = await migratedDatabase('comity_copies');
    dataSource = database.dataSource;
    const config = await atGatewayConfig(database.url);
    store = repositoriesOf(dataSource).senderCopyKeys;
    trust = new FederationTrust(config, clock);
  });

  afterAll(async () => {
    await database?.dispose();
  });

  function seal(subject: string): SealedEnvelope {
    const id = uuidV7();
    const now = new Date();
    return sealEnvelope({
      routing: {
        id,
        kind: 'mla_request',
        from: { state: 'AT', authority: 'at-central-authority' },
        to: { state: 'FR', authority: 'fr-central-authority' },
        created: now.toISOString(),
        expires: new Date(now.getTime() + 3_600_000).toISOString(),
        thread: id,
        inReplyTo: null,
      },
      content: sampleContent({ subject }),
      signer: trust.signing,
      recipient: trust.recipientEncryptionCertificate('FR'),
    });
  }

  const row = (sealed: SealedEnvelope, senderCopy: string) => ({
    id: sealed.header.id,
    envelope: sealed.bytes,
    createdAt: new Date(sealed.header.created),
    senderCopy,
  });

  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => 'opened',
      (error: { getStatus?: () => number; message: string }) =>
        `${error.getStatus?.()} ${error.message}`,
    );

  it('opens in another process what one process sealed: the data key comes from the database', async () => {
    const writer = new SenderCopies(store, trust, clock);
    const first = seal('First');
    const second = seal('Second');
    const copies = [await writer.seal(first.contentKey), await writer.seal(second.contentKey)];
    // One data key for both, stored wrapped; each copy well under 200 bytes.
    expect(await dataSource.query('SELECT count(*)::int AS n FROM sender_copy_key')).toEqual([
      { n: 1 },
    ]);
    for (const copy of copies) expect(copy.length).toBeLessThan(200);

    const reader = new SenderCopies(store, trust, clock);
    expect((await reader.open(row(first, copies[0]!))).subject).toBe('First');
    expect((await reader.open(row(second, copies[1]!))).subject).toBe('Second');
    expect((await writer.open(row(first, copies[0]!))).subject).toBe('First');
  });

  it('still opens a copy of the earlier form (the signed content encrypted to the node itself)', async () => {
    const sealed = seal('Earlier form');
    const legacy = encryptToCertificate(
      Buffer.from(sealed.contentJws, 'ascii'),
      trust.ownEncryptionCertificate(),
    );
    const reader = new SenderCopies(store, trust, clock);
    expect((await reader.open(row(sealed, legacy))).subject).toBe('Earlier form');
  });

  it('answers 409 with the reason for a copy it cannot open, and opens the next good one', async () => {
    const copies = new SenderCopies(store, trust, clock);
    const sealed = seal('Kept');
    const copy = await copies.seal(sealed.contentKey);
    const header = (kid: string) =>
      Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid })).toString('base64url');
    const withKid = (kid: string) => copy.replace(/^[^.]+/, header(kid));

    // A data key this database never held; a kid that is not even a key id.
    expect(await refusal(copies.open(row(sealed, withKid(uuidV7()))))).toMatch(
      /^409 the content of message .* cannot be opened: wrong-recipient-key: .*is not in this node's database$/,
    );
    expect(await refusal(copies.open(row(sealed, withKid('../x'))))).toMatch(
      /^409 .*: malformed-content: the sealed copy's data key id is not a UUID$/,
    );
    // Another message's copy: its content key does not open this envelope.
    const other = seal('Other');
    expect(await refusal(copies.open(row(sealed, await copies.seal(other.contentKey))))).toMatch(
      /^409 .*: decryption-failed: /,
    );
    // The stored envelope changed in its content JWE's encrypted-key part (not covered by the
    // content encryption): the signed digest catches it.
    const { headerJws, contentJwe } = readEnvelopeParts(sealed.bytes);
    const parts = contentJwe.split('.');
    const encryptedKey = Buffer.from(parts[1]!, 'base64url');
    encryptedKey[0] = encryptedKey[0]! ^ 1;
    parts[1] = encryptedKey.toString('base64url');
    const changed = {
      ...row(sealed, copy),
      envelope: Buffer.from(serializeEnvelope(headerJws, parts.join('.'))),
    };
    expect(await refusal(copies.open(changed))).toMatch(/^409 .*: content-digest-mismatch: /);

    expect((await copies.open(row(sealed, copy))).subject).toBe('Kept');
  });
});
