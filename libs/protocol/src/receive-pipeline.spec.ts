import {
  createTestFederation,
  partsOf,
  receiveContextFor,
  sealFor,
  testDirectory,
  wrapEnvelope,
  type TestFederation,
} from '../test-support/federation';
import { peekEnvelopeId, receiveEnvelope, type FederationDirectory } from './index';

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
  it('accepts a good envelope: opened, with its signed content bound to the header', () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const verdict = receiveEnvelope(sealed.bytes, receiveContextFor(f, 'FR', directory));
    expect(verdict.verdict).toBe('accepted');
    if (verdict.verdict !== 'accepted') return;
    expect(verdict.envelope.header.id).toBe(sealed.header.id);
    expect(verdict.envelope.statement.envelopeId).toBe(sealed.header.id);
    expect(verdict.envelope.digest).toBe(sealed.digest);
  });

  it('quarantines bytes that are no envelope, and an envelope larger than the limit', () => {
    expect(
      receiveEnvelope(Buffer.from('not an envelope'), receiveContextFor(f, 'FR', directory)),
    ).toMatchObject({ verdict: 'quarantined', reason: 'malformed-envelope' });
    const sealed = sealFor(f, 'AT', 'FR');
    expect(
      receiveEnvelope(
        sealed.bytes,
        receiveContextFor(f, 'FR', directory, { maxEnvelopeBytes: sealed.bytes.length - 1 }),
      ),
    ).toMatchObject({ verdict: 'quarantined', reason: 'envelope-too-large' });
  });

  it('quarantines a signed envelope published through another account than its State’s', () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const context = receiveContextFor(f, 'FR', withBrokerUsers, { brokerUser: 'comity-fr' });
    expect(receiveEnvelope(sealed.bytes, context)).toMatchObject({
      verdict: 'quarantined',
      reason: 'broker-user-mismatch',
    });
    expect(
      receiveEnvelope(
        sealed.bytes,
        receiveContextFor(f, 'FR', withBrokerUsers, { brokerUser: 'comity-at' }),
      ).verdict,
    ).toBe('accepted');
  });

  it('refuses, for a signed negative receipt, an envelope addressed to another State', () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const verdict = receiveEnvelope(sealed.bytes, receiveContextFor(f, 'AT', directory));
    expect(verdict.verdict).toBe('refused');
    if (verdict.verdict !== 'refused') return;
    expect(verdict.error.reason).toBe('wrong-recipient');
    expect(verdict.envelope.header.id).toBe(sealed.header.id);
  });

  it('refuses an envelope whose content is not the one its header signs', () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const other = sealFor(f, 'AT', 'FR');
    const bytes = wrapEnvelope({
      headerJws: partsOf(sealed.bytes).headerJws,
      contentJwe: partsOf(other.bytes).contentJwe,
    });
    expect(receiveEnvelope(bytes, receiveContextFor(f, 'FR', directory))).toMatchObject({
      verdict: 'refused',
      error: { reason: 'content-digest-mismatch' },
    });
  });

  it('answers the same bytes again as a duplicate, even once expired; other bytes under the id as a conflict', () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const later = new Date(Date.parse(sealed.header.expires) + 3_600_000);
    const again = receiveEnvelope(
      sealed.bytes,
      receiveContextFor(f, 'FR', directory, {
        alreadyDelivered: { envelopeDigest: sealed.digest },
        now: later,
      }),
    );
    // The certificate chain is checked at `now`: an expired envelope is still within it here.
    expect(again.verdict).toBe('duplicate');
    const conflict = receiveEnvelope(
      sealed.bytes,
      receiveContextFor(f, 'FR', directory, { alreadyDelivered: { envelopeDigest: 'other' } }),
    );
    expect(conflict).toMatchObject({
      verdict: 'refused',
      error: { reason: 'duplicate-envelope-conflict' },
    });
  });
});

describe('peekEnvelopeId', () => {
  it('reads the id an envelope claims, and null for bytes that are no envelope', () => {
    const sealed = sealFor(f, 'AT', 'FR');
    expect(peekEnvelopeId(sealed.bytes)).toBe(sealed.header.id);
    expect(peekEnvelopeId(Buffer.from('{"not":"an envelope"}'))).toBeNull();
    expect(peekEnvelopeId(Buffer.alloc(0))).toBeNull();
  });
});
