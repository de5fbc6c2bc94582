import {
  DAY_MS,
  authorityOf,
  createTestFederation,
  receiveContextFor,
  testDirectory,
  protocolErrorOf,
  sealFor,
  type StateCode,
  type TestFederation,
} from '../test-support/federation';
import {
  MAX_ENVELOPE_LIFETIME_MS,
  receiveEnvelope,
  type ProtocolError,
  type FederationDirectory,
  type ReasonCode,
} from './index';

/**
 * Refusals a receiving gateway answers with a signed negative receipt once the sender is
 * authenticated: an authority the directory does not know, a kind the recipient authority does
 * not accept, an envelope valid for longer than the protocol allows (docs/protocol.md §3.4,
 * steps 10 and 11). Every envelope here is genuinely sealed and signed by AT's gateway.
 */
let f: TestFederation;
let directory: FederationDirectory;

beforeAll(async () => {
  f = await createTestFederation(['AT', 'FR']);
  directory = testDirectory(f);
});

afterAll(() => f.dispose());

/** What a receiving gateway does: the receive pipeline; a refusal is thrown, to read its reason. */
async function receive(bytes: Buffer, self: StateCode = 'FR') {
  const verdict = await receiveEnvelope(bytes, receiveContextFor(f, self, directory));
  if (verdict.verdict === 'accepted') return verdict.envelope;
  if (verdict.verdict === 'refused') throw verdict.error;
  throw new Error(`expected a verdict on the directory, got ${verdict.verdict}`);
}

/** The refusal `receive` ends in (the test fails if it accepts). */
async function refusalOf(bytes: Buffer): Promise<ProtocolError> {
  const outcome = await receive(bytes).then(
    () => null,
    (error: unknown) => error,
  );
  return protocolErrorOf(() => {
    if (outcome) throw outcome;
  });
}

async function reasonOf(bytes: Buffer): Promise<ReasonCode> {
  return (await refusalOf(bytes)).reason;
}

describe('the directory: parties and kinds', () => {
  it('accepts a request to an authority that takes its kind (the control case)', async () => {
    const sealed = sealFor(f, 'AT', 'FR', {
      kind: 'extradition_request',
      to: { state: 'FR', authority: 'fr-extradition-authority' },
    });
    expect((await receive(sealed.bytes)).header.id).toBe(sealed.header.id);
    expect((await receive(sealFor(f, 'AT', 'FR').bytes)).statement.kind).toBe('mla_request');
  });

  it('refuses a sender authority the directory does not list: unknown-authority', async () => {
    const sealed = sealFor(f, 'AT', 'FR', {
      from: { state: 'AT', authority: 'at-ministry-of-silence' },
    });
    const error = await refusalOf(sealed.bytes);
    expect(error.reason).toBe('unknown-authority');
    expect(error.message).toContain('from.authority');
  });

  it('refuses a recipient authority the directory does not list: unknown-authority', async () => {
    const sealed = sealFor(f, 'AT', 'FR', {
      to: { state: 'FR', authority: 'fr-ministry-of-silence' },
    });
    const error = await refusalOf(sealed.bytes);
    expect(error.reason).toBe('unknown-authority');
    expect(error.message).toContain('to.authority');
  });

  it('refuses an authority of another State named as the recipient: unknown-authority', async () => {
    // AT's central authority exists, but it is not one of FR's.
    const sealed = sealFor(f, 'AT', 'FR', {
      to: { state: 'FR', authority: authorityOf('AT') },
    });
    expect(await reasonOf(sealed.bytes)).toBe('unknown-authority');
  });

  it('refuses a kind the recipient authority does not accept: kind-not-accepted', async () => {
    // An extradition request sent to the MLA central authority, which does not take them.
    const sealed = sealFor(f, 'AT', 'FR', { kind: 'extradition_request' });
    expect(await reasonOf(sealed.bytes)).toBe('kind-not-accepted');
    // ... and an MLA request sent to the extradition authority.
    const other = sealFor(f, 'AT', 'FR', {
      kind: 'mla_request',
      to: { state: 'FR', authority: 'fr-extradition-authority' },
    });
    expect(await reasonOf(other.bytes)).toBe('kind-not-accepted');
  });

  it('refuses a kind no authority of the State accepts: kind-not-accepted', async () => {
    const sealed = sealFor(f, 'AT', 'FR', { kind: 'asset_recovery_request' });
    expect(await reasonOf(sealed.bytes)).toBe('kind-not-accepted');
  });
});

describe('envelope lifetime', () => {
  const validFor = (lifetimeMs: number) =>
    sealFor(f, 'AT', 'FR', {
      created: f.now.toISOString(),
      expires: new Date(f.now.getTime() + lifetimeMs).toISOString(),
    });

  it('is at most 400 days', async () => {
    expect(MAX_ENVELOPE_LIFETIME_MS).toBe(400 * DAY_MS);
  });

  it('accepts an envelope valid for exactly the maximum', async () => {
    const sealed = validFor(MAX_ENVELOPE_LIFETIME_MS);
    expect((await receive(sealed.bytes)).header.expires).toBe(sealed.header.expires);
  });

  it.each([
    ['one millisecond more than the maximum', 1],
    ['401 days', DAY_MS],
    ['ten years', 10 * 365 * DAY_MS - MAX_ENVELOPE_LIFETIME_MS],
  ])('refuses an envelope valid for %s: envelope-lifetime-too-long', async (_name, beyond) => {
    const sealed = validFor(MAX_ENVELOPE_LIFETIME_MS + beyond);
    const error = await refusalOf(sealed.bytes);
    expect(error.reason).toBe('envelope-lifetime-too-long');
    expect(error.message).toContain('400 days');
  });

  it('measures the lifetime from created, not from now', async () => {
    // Created a day ago and valid for 400 days from then: within the maximum, still fresh.
    const created = f.now.getTime() - DAY_MS;
    const within = sealFor(f, 'AT', 'FR', {
      created: new Date(created).toISOString(),
      expires: new Date(created + MAX_ENVELOPE_LIFETIME_MS).toISOString(),
    });
    expect((await receive(within.bytes)).header.id).toBe(within.header.id);
    // Created a day ago and expiring 400 days from now: 401 days in all.
    const beyond = sealFor(f, 'AT', 'FR', {
      created: new Date(created).toISOString(),
      expires: new Date(f.now.getTime() + MAX_ENVELOPE_LIFETIME_MS).toISOString(),
    });
    expect(await reasonOf(beyond.bytes)).toBe('envelope-lifetime-too-long');
  });
});
