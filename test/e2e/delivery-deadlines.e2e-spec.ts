import { CertificateVerifier } from '@comity/pki';
import { parseJwsCompact, verifyJwsCompact } from '@comity/jose';
import { X509Certificate } from 'node:crypto';
import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';

/**
 * Receipt deadlines, retransmission and expiry, with the recipient's gateway down. Short
 * timeouts: receipts due after 1 s, supplementary_information valid for 12 s.
 */
describe('delivery deadlines: nothing waits for ever', () => {
  let world: TestFederation;

  beforeAll(async () => {
    world = await startTestFederation('deadlines', {
      COMITY_RECEIPT_TIMEOUT_SECONDS: '1',
      COMITY_RETRANSMIT_MAX_SECONDS: '2',
      COMITY_MESSAGE_TTLS: 'supplementary_information=12',
      COMITY_WATCHDOG_INTERVAL_MS: '200',
    });
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  it('retransmits the same envelope while the recipient is down, and it is delivered once when it returns', async () => {
    const france = world.federation.node('FR');
    await france.stop('SIGKILL');
    const austria = world.client('AT');
    const { id } = await austria.submit(mlaRequest({ subject: 'While FR is down' }));

    // The envelope waits in FR's durable inbox; without a receipt AT sends it again and again.
    const deadline = Date.now() + 20_000;
    let waiting = await austria.outbound(id);
    while (
      Date.now() < deadline &&
      waiting.timeline.filter((e) => e.type === 'retransmitted').length < 2
    ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      waiting = await austria.outbound(id);
    }
    expect(waiting.status).toBe('sent');
    expect(
      waiting.timeline.filter((e) => e.type === 'retransmitted').length,
    ).toBeGreaterThanOrEqual(2);
    const envelopeBefore = await austria.envelope(id);

    france.start();
    await france.waitUntilReady();
    const delivered = await austria.waitForStatus(id, ['delivered', 'rejected', 'failed'], 30_000);
    expect(delivered.status).toBe('delivered');
    expect(delivered.timeline.filter((e) => e.type === 'delivered')).toHaveLength(1);
    expect(await austria.envelope(id)).toEqual(envelopeBefore);

    // FR stored it once and answered every further copy with the same receipt.
    const received = await world.client('FR').inbound(id);
    expect(received.timeline.filter((e) => e.type === 'received')).toHaveLength(1);
    const duplicates = received.timeline.filter((e) => e.type === 'duplicate').length;
    const sent = delivered.timeline.filter((e) => e.type === 'sent').length;
    expect(sent).toBeGreaterThanOrEqual(3);
    // Every copy FR consumed after the first was recognised as a duplicate (copies still queued may follow).
    expect(duplicates).toBeLessThanOrEqual(sent - 1);
  }, 90_000);

  it('closes a request that expires undelivered with signed non-delivery evidence', async () => {
    const kenya = world.federation.node('KE');
    await kenya.stop('SIGKILL');
    try {
      const austria = world.client('AT');
      const { id } = await austria.submit(
        mlaRequest({
          kind: 'supplementary_information',
          recipient: { state: 'KE', authority: 'ke-central-authority' },
        }),
      );
      const failed = await austria.waitForStatus(id, ['failed', 'delivered', 'rejected'], 30_000);
      expect(failed.status).toBe('failed');
      expect(failed.statusReason).toBe('expired-undelivered');
      const evidence = failed.timeline.find((e) => e.type === 'failed');
      expect(evidence?.detail).toMatch(/non-delivery evidence/);
      expect(
        failed.timeline.filter((e) => e.type === 'retransmitted').length,
      ).toBeGreaterThanOrEqual(2);

      const signed = await fetch(
        `${world.federation.node('AT').url}/v1/outbound-messages/${id}/non-delivery-evidence`,
        { headers: world.client('AT').authorization },
      );
      expect(signed.status).toBe(200);
      const jws = await signed.text();
      const parsed = parseJwsCompact(jws);
      const chain = (parsed.header.x5c as string[]).map(
        (der) => new X509Certificate(Buffer.from(der, 'base64')),
      );
      const signer = (world.verifier as CertificateVerifier).verifyChain(
        chain,
        'signing',
        new Date(),
      );
      expect(signer.state).toBe('AT');
      verifyJwsCompact(parsed, signer.publicKey, { algorithms: ['EdDSA'] });
      expect(JSON.parse(parsed.payload.toString('utf8'))).toMatchObject({
        type: 'non-delivery',
        envelopeId: id,
        envelopeDigest: failed.envelopeDigest,
        reason: 'expired-undelivered',
        from: { state: 'AT' },
        to: { state: 'KE' },
      });
    } finally {
      kenya.start();
      await kenya.waitUntilReady();
    }
  }, 90_000);
});
