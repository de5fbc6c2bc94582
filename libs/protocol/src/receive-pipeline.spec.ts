import {
  createTestFederation,
  partsOf,
  receiveContextFor,
  sealFor,
  testDirectory,
  wrapEnvelope,
  type TestFederation,
} from '../test-support/federation';
import { receiveEnvelope, type FederationDirectory } from './index';

/**
 * The receive pipeline's verdicts (protocol §5), on envelopes genuinely sealed by AT's gateway
 * and received by FR's: each kind of failure ends in the verdict the node acts on.
 */
let f: TestFederation;
let directory: FederationDirectory;
let withBrokerUsers: FederationDirectory;

beforeAll(async () => {
  f = await createTestFederation(['AT', 'FR']);
  directory = testDirectory(f);
  withBrokerUsers = testDirectory(f, { brokerUsers: true });
});

afterAll(() => f.dispose());

describe('receiveEnvelope', () => {
  it('accepts a good envelope: opened, with its signed content bound to the header', async () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const verdict = await receiveEnvelope(sealed.bytes, receiveContextFor(f, 'FR', directory));
    expect(verdict.verdict).toBe('accepted');
    if (verdict.verdict !== 'accepted') return;
    expect(verdict.envelope.header.id).toBe(sealed.header.id);
    expect(verdict.envelope.statement.envelopeId).toBe(sealed.header.id);
    expect(verdict.envelope.digest).toBe(sealed.digest);
  });

  it('quarantines bytes that are no envelope, and an envelope larger than the limit', async () => {
    expect(
      await receiveEnvelope(Buffer.from('not an envelope'), receiveContextFor(f, 'FR', directory)),
    ).toMatchObject({ verdict: 'quarantined', reason: 'malformed-envelope' });
    const sealed = sealFor(f, 'AT', 'FR');
    expect(
      await receiveEnvelope(
        sealed.bytes,
        receiveContextFor(f, 'FR', directory, { maxEnvelopeBytes: sealed.bytes.length - 1 }),
      ),
    ).toMatchObject({ verdict: 'quarantined', reason: 'envelope-too-large' });
  });

  it('quarantines a signed envelope published through another account than its State’s', async () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const context = receiveContextFor(f, 'FR', withBrokerUsers, { brokerUser: 'comity-fr' });
    expect(await receiveEnvelope(sealed.bytes, context)).toMatchObject({
      verdict: 'quarantined',
      reason: 'broker-user-mismatch',
    });
    expect(
      (
        await receiveEnvelope(
          sealed.bytes,
          receiveContextFor(f, 'FR', withBrokerUsers, { brokerUser: 'comity-at' }),
        )
      ).verdict,
    ).toBe('accepted');
  });

  it('refuses, for a signed negative receipt, an envelope addressed to another State', async () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const verdict = await receiveEnvelope(sealed.bytes, receiveContextFor(f, 'AT', directory));
    expect(verdict.verdict).toBe('refused');
    if (verdict.verdict !== 'refused') return;
    expect(verdict.error.reason).toBe('wrong-recipient');
    expect(verdict.envelope.header.id).toBe(sealed.header.id);
  });

  it('refuses an envelope whose content is not the one its header signs', async () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const other = sealFor(f, 'AT', 'FR');
    const bytes = wrapEnvelope({
      headerJws: partsOf(sealed.bytes).headerJws,
      contentJwe: partsOf(other.bytes).contentJwe,
    });
    expect(await receiveEnvelope(bytes, receiveContextFor(f, 'FR', directory))).toMatchObject({
      verdict: 'refused',
      error: { reason: 'content-digest-mismatch' },
    });
  });

  it('answers the same bytes again as a duplicate, even once expired; other bytes under the id as a conflict', async () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const later = new Date(Date.parse(sealed.header.expires) + 3_600_000);
    const again = await receiveEnvelope(
      sealed.bytes,
      receiveContextFor(f, 'FR', directory, {
        alreadyDelivered: (id) =>
          Promise.resolve(id === sealed.header.id ? { envelopeDigest: sealed.digest } : null),
        now: later,
      }),
    );
    // The certificate chain is checked at `now`: an expired envelope is still within it here.
    expect(again.verdict).toBe('duplicate');
    const conflict = await receiveEnvelope(
      sealed.bytes,
      receiveContextFor(f, 'FR', directory, {
        alreadyDelivered: () => Promise.resolve({ envelopeDigest: 'other' }),
      }),
    );
    expect(conflict).toMatchObject({
      verdict: 'refused',
      error: { reason: 'duplicate-envelope-conflict' },
    });
  });
});

describe('the alreadyDelivered hook', () => {
  it('is asked only once the sender is authenticated: unauthenticated input is quarantined with its reason while the store is down', async () => {
    const lookups: string[] = [];
    const storeDown = (id: string): Promise<null> => {
      lookups.push(id);
      return Promise.reject(new Error('the database is down'));
    };
    const sealed = sealFor(f, 'AT', 'FR');
    const forged = wrapEnvelope({
      headerJws: partsOf(sealed.bytes).headerJws.replace(/.{4}$/, 'AAAA'),
      contentJwe: partsOf(sealed.bytes).contentJwe,
    });
    expect(
      await receiveEnvelope(
        forged,
        receiveContextFor(f, 'FR', directory, { alreadyDelivered: storeDown }),
      ),
    ).toMatchObject({ verdict: 'quarantined', reason: 'invalid-signature' });
    expect(
      await receiveEnvelope(
        sealed.bytes,
        receiveContextFor(f, 'FR', withBrokerUsers, {
          alreadyDelivered: storeDown,
          brokerUser: 'comity-fr',
        }),
      ),
    ).toMatchObject({ verdict: 'quarantined', reason: 'broker-user-mismatch' });
    expect(lookups).toEqual([]);
    // Authenticated: the store is asked, and its failure is thrown for the caller to retry.
    await expect(
      receiveEnvelope(
        sealed.bytes,
        receiveContextFor(f, 'FR', directory, { alreadyDelivered: storeDown }),
      ),
    ).rejects.toThrow('the database is down');
    expect(lookups).toEqual([sealed.header.id]);
  });
});
