import { createHash, generateKeyPairSync } from 'node:crypto';
import { connect, type ChannelModel } from 'amqplib';
import { Client } from 'pg';
import { encodeBase64Url, encryptJweCompact, parseJwsCompact } from '@comity/jose';
import { x5cOf } from '@comity/pki';
import { CONTENT_TYPE, uuidV7 } from '@comity/protocol';
import {
  DAY_MS,
  createTestFederation,
  envelopeWithContent,
  flipBase64UrlChar,
  issueSigningCertificate,
  partsOf,
  rogueSigningChain,
  routingFor,
  sealFor,
  signRaw,
  signRoutingHeader,
  wrapEnvelope,
  type TestFederation as Fixture,
} from '../../libs/protocol/test-support/federation';
import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';
import { TEST_PKI_DIRECTORY } from '../support/test-pki';
import { quarantineReasons } from '../support/quarantine';

const MAX_ENVELOPE_BYTES = 256 * 1024;

/**
 * A hostile State, a hostile party on the broker: crafted messages published straight into a
 * gateway's inbox. Unauthenticated ones must land in quarantine with a precise reason; ones from
 * an authenticated sender must be refused with a signed negative receipt carrying the reason.
 * Nothing may be stored as delivered, and the node must keep serving.
 */
describe('hostile input published into FR’s inbox', () => {
  let world: TestFederation;
  let f: Fixture;
  let broker: ChannelModel;
  let frDatabase: Client;
  const quarantineExpected = new Map<string, string>();
  const rejectionExpected = new Map<string, { envelopeId: string; reason: string }>();

  beforeAll(async () => {
    world = await startTestFederation('hostile', {
      COMITY_MAX_ENVELOPE_BYTES: String(MAX_ENVELOPE_BYTES),
    });
    f = await createTestFederation(['AT', 'FR', 'KE'], TEST_PKI_DIRECTORY);
    broker = await connect(world.amqpUrl);
    frDatabase = new Client({ connectionString: world.databaseUrls.FR });
    await frDatabase.connect();
  }, 120_000);

  afterAll(async () => {
    await frDatabase?.end();
    await broker?.close();
    await world?.stop();
  }, 60_000);

  async function publish(state: string, bytes: Buffer, type = 'envelope'): Promise<string> {
    const messageId = `hostile-${uuidV7()}`;
    const channel = await broker.createConfirmChannel();
    channel.publish('comity.transmit', state, bytes, { persistent: true, type, messageId });
    await channel.waitForConfirms();
    await channel.close();
    return messageId;
  }

  const genuine = () => sealFor(f, 'AT', 'FR');
  /** AT's genuine envelope to FR with its outer protected header re-signed with extra members. */
  const withOuterHeader = (overrides: Record<string, unknown>): Buffer => {
    const sealed = genuine();
    return wrapEnvelope({
      headerJws: signRoutingHeader(sealed.header, at().signer, overrides),
      contentJwe: partsOf(sealed.bytes).contentJwe,
    });
  };
  const at = () => f.states.AT;

  /** Unauthenticated: no one to answer; the operator finds it in quarantine with this reason. */
  const quarantined: Array<[string, () => Promise<Buffer> | Buffer, string]> = [
    ['alg: none', () => withOuterHeader({ alg: 'none' }), 'algorithm-not-allowed'],
    [
      'an algorithm outside the allow-list (RS256 by an RSA gateway)',
      () => {
        const sealed = sealFor(f, 'KE', 'FR');
        return wrapEnvelope({
          headerJws: signRaw(
            { alg: 'RS256', typ: 'comity-envelope+jws', x5c: f.states.KE.signer.x5c },
            JSON.stringify(sealed.header),
            f.states.KE.signer.key,
          ),
          contentJwe: partsOf(sealed.bytes).contentJwe,
        });
      },
      'algorithm-not-allowed',
    ],
    [
      'HMAC keyed with the sender’s public key',
      () => {
        const sealed = genuine();
        const publicKeyBytes = at().signingCertificate.publicKey.export({
          format: 'der',
          type: 'spki',
        });
        return wrapEnvelope({
          headerJws: signRaw(
            { alg: 'HS256', typ: 'comity-envelope+jws', x5c: at().signer.x5c },
            JSON.stringify(sealed.header),
            publicKeyBytes,
          ),
          contentJwe: partsOf(sealed.bytes).contentJwe,
        });
      },
      'algorithm-not-allowed',
    ],
    [
      'an x5c chain that does not reach the trust anchor',
      async () => {
        const sealed = genuine();
        return wrapEnvelope({
          headerJws: signRoutingHeader(sealed.header, at().signer, {
            x5c: await rogueSigningChain(at(), f.now),
          }),
          contentJwe: partsOf(sealed.bytes).contentJwe,
        });
      },
      'certificate-untrusted',
    ],
    [
      'a self-signed x5c',
      () => {
        const sealed = genuine();
        return wrapEnvelope({
          headerJws: signRoutingHeader(sealed.header, at().signer, {
            x5c: [f.anchor.raw.toString('base64')],
          }),
          contentJwe: partsOf(sealed.bytes).contentJwe,
        });
      },
      'certificate-untrusted',
    ],
    [
      'an expired signing certificate',
      async () => {
        const expired = await issueSigningCertificate(at(), {
          notBefore: new Date(f.now.getTime() - 10 * DAY_MS),
          notAfter: new Date(f.now.getTime() - DAY_MS),
        });
        const sealed = genuine();
        return wrapEnvelope({
          headerJws: signRoutingHeader(sealed.header, at().signer, {
            x5c: x5cOf([expired, at().stateCa.certificate]),
          }),
          contentJwe: partsOf(sealed.bytes).contentJwe,
        });
      },
      'certificate-expired',
    ],
    [
      'a sender in the header that differs from the certificate',
      () => {
        const sealed = genuine();
        return envelopeWithContent(
          { ...sealed.header, from: { state: 'KE', authority: 'ke-central-authority' } },
          partsOf(sealed.bytes).contentJwe,
          at().signer,
        );
      },
      'sender-mismatch',
    ],
    [
      'a tampered routing header',
      () => {
        const parts = partsOf(genuine().bytes);
        const [h, p, s] = parts.headerJws.split('.');
        return wrapEnvelope({
          headerJws: `${h}.${flipBase64UrlChar(p!, 20)}.${s}`,
          contentJwe: parts.contentJwe,
        });
      },
      'invalid-signature',
    ],
    [
      'a tampered signature',
      () => {
        const parts = partsOf(genuine().bytes);
        const [h, p, s] = parts.headerJws.split('.');
        return wrapEnvelope({
          headerJws: `${h}.${p}.${flipBase64UrlChar(s!, 10)}`,
          contentJwe: parts.contentJwe,
        });
      },
      'invalid-signature',
    ],
    ['a truncated body', () => genuine().bytes.subarray(0, 500), 'malformed-envelope'],
    [
      'a body that is not JSON',
      () => Buffer.from('%PDF-1.7 definitely not an envelope'),
      'malformed-envelope',
    ],
    [
      'a message over the size limit',
      () => Buffer.alloc(MAX_ENVELOPE_BYTES + 1, 0x41),
      'envelope-too-large',
    ],
    [
      'an embedded jwk header',
      () =>
        withOuterHeader({
          jwk: at().signingCertificate.publicKey.export({ format: 'jwk' }),
        }),
      'forbidden-header',
    ],
    [
      'a jku header',
      () =>
        withOuterHeader({
          jku: 'https://attacker.example/keys',
        }),
      'forbidden-header',
    ],
    [
      'an x5u header',
      () =>
        withOuterHeader({
          x5u: 'https://attacker.example/chain.pem',
        }),
      'forbidden-header',
    ],
    [
      'an unknown crit header',
      () => withOuterHeader({ crit: ['exp'], exp: 1 }),
      'forbidden-header',
    ],
  ];

  /** From an authenticated sender (AT's real key): refused with a signed negative receipt. */
  const rejected: Array<[string, () => { bytes: Buffer; envelopeId: string }, string]> = [
    [
      'the wrong recipient (addressed to KE)',
      () => {
        const s = sealFor(f, 'AT', 'KE');
        return { bytes: s.bytes, envelopeId: s.header.id };
      },
      'wrong-recipient',
    ],
    [
      'an expired envelope',
      () => {
        const s = sealFor(f, 'AT', 'FR', {
          created: new Date(f.now.getTime() - 3 * DAY_MS).toISOString(),
          expires: new Date(f.now.getTime() - DAY_MS).toISOString(),
        });
        return { bytes: s.bytes, envelopeId: s.header.id };
      },
      'envelope-expired',
    ],
    [
      'an envelope valid for longer than 400 days',
      () => {
        const s = sealFor(f, 'AT', 'FR', {
          created: f.now.toISOString(),
          expires: new Date(f.now.getTime() + 401 * DAY_MS).toISOString(),
        });
        return { bytes: s.bytes, envelopeId: s.header.id };
      },
      'envelope-lifetime-too-long',
    ],
    [
      'a sender authority not in the directory',
      () => {
        const s = sealFor(f, 'AT', 'FR', {
          from: { state: 'AT', authority: 'at-ministry-of-silence' },
        });
        return { bytes: s.bytes, envelopeId: s.header.id };
      },
      'unknown-authority',
    ],
    [
      'a recipient authority not in the directory',
      () => {
        const s = sealFor(f, 'AT', 'FR', {
          to: { state: 'FR', authority: 'fr-ministry-of-silence' },
        });
        return { bytes: s.bytes, envelopeId: s.header.id };
      },
      'unknown-authority',
    ],
    [
      'a kind the recipient authority does not accept (extradition to the MLA authority)',
      () => {
        const s = sealFor(f, 'AT', 'FR', { kind: 'extradition_request' });
        return { bytes: s.bytes, envelopeId: s.header.id };
      },
      'kind-not-accepted',
    ],
    ...(['ciphertext', 'IV', 'tag', 'encrypted key'] as const).map(
      (part): [string, () => { bytes: Buffer; envelopeId: string }, string] => [
        `a tampered ${part} (in transit: the signed digest no longer matches)`,
        () => {
          const s = genuine();
          const pieces = partsOf(s.bytes).contentJwe.split('.');
          const index = { 'encrypted key': 1, IV: 2, ciphertext: 3, tag: 4 }[part];
          pieces[index] = flipBase64UrlChar(pieces[index]!, 3);
          return {
            bytes: wrapEnvelope({
              headerJws: partsOf(s.bytes).headerJws,
              contentJwe: pieces.join('.'),
            }),
            envelopeId: s.header.id,
          };
        },
        'content-digest-mismatch',
      ],
    ),
    [
      'a tampered ciphertext signed by its sender (the digest matches, decryption fails)',
      () => {
        const s = genuine();
        const pieces = partsOf(s.bytes).contentJwe.split('.');
        pieces[3] = flipBase64UrlChar(pieces[3]!, 3);
        return {
          bytes: envelopeWithContent(s.header, pieces.join('.'), at().signer),
          envelopeId: s.header.id,
        };
      },
      'decryption-failed',
    ],
    [
      'a compressed (zip) JWE',
      () => {
        const s = genuine();
        // Our own JOSE code refuses to produce zip; an attacker's would not.
        const pieces = partsOf(s.bytes).contentJwe.split('.');
        const jweHeader = JSON.parse(Buffer.from(pieces[0]!, 'base64url').toString()) as Record<
          string,
          unknown
        >;
        pieces[0] = encodeBase64Url(Buffer.from(JSON.stringify({ ...jweHeader, zip: 'DEF' })));
        const jwe = pieces.join('.');
        return { bytes: envelopeWithContent(s.header, jwe, at().signer), envelopeId: s.header.id };
      },
      'forbidden-header',
    ],
    [
      'an ephemeral key on the wrong curve',
      () => {
        const s = genuine();
        const pieces = partsOf(s.bytes).contentJwe.split('.');
        const jweHeader = JSON.parse(Buffer.from(pieces[0]!, 'base64url').toString()) as Record<
          string,
          unknown
        >;
        jweHeader.epk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
          format: 'jwk',
        });
        pieces[0] = encodeBase64Url(Buffer.from(JSON.stringify(jweHeader)));
        return {
          bytes: envelopeWithContent(s.header, pieces.join('.'), at().signer),
          envelopeId: s.header.id,
        };
      },
      'decryption-failed',
    ],
    [
      'an invalid ephemeral key (not a curve point encoding)',
      () => {
        const s = genuine();
        const pieces = partsOf(s.bytes).contentJwe.split('.');
        const jweHeader = JSON.parse(Buffer.from(pieces[0]!, 'base64url').toString()) as Record<
          string,
          unknown
        >;
        jweHeader.epk = { kty: 'OKP', crv: 'X25519', x: encodeBase64Url(Buffer.alloc(31, 7)) };
        pieces[0] = encodeBase64Url(Buffer.from(JSON.stringify(jweHeader)));
        return {
          bytes: envelopeWithContent(s.header, pieces.join('.'), at().signer),
          envelopeId: s.header.id,
        };
      },
      'decryption-failed',
    ],
    [
      'content signed for another recipient (re-wrapped)',
      () => {
        const forKenya = sealFor(f, 'AT', 'KE');
        const routing = routingFor(f, 'AT', 'FR', {
          id: forKenya.header.id,
          thread: forKenya.header.id,
        });
        const jwe = encryptJweCompact(
          Buffer.from(forKenya.contentJws),
          f.states.FR.encryptionCertificate.publicKey,
          {
            alg: 'ECDH-ES+A256KW',
            enc: 'A256GCM',
            cty: CONTENT_TYPE,
            'x5t#S256': f.states.FR.decryption.thumbprint,
          },
        );
        return {
          bytes: envelopeWithContent({ v: 1, ...routing, contentDigest: '' }, jwe, at().signer),
          envelopeId: routing.id,
        };
      },
      'content-binding-mismatch',
    ],
  ];

  it('sends every case in, quarantining the unauthenticated and answering the authenticated with signed negative receipts', async () => {
    const inboundBefore = (await frDatabase.query('SELECT count(*)::int AS n FROM inbound_message'))
      .rows[0] as { n: number };
    for (const [name, make, reason] of quarantined) {
      quarantineExpected.set(await publish('FR', await make()), `${name} → ${reason}`);
    }
    for (const [name, make, reason] of rejected) {
      const { bytes, envelopeId } = make();
      rejectionExpected.set(name, { envelopeId, reason });
      await publish('FR', bytes);
    }

    // Quarantine: each message set aside with its precise reason.
    const seen = await quarantineReasons(world, 'FR', [...quarantineExpected.keys()]);
    const outcomes = [...quarantineExpected].map(
      ([messageId, expectation]) =>
        `${expectation.split(' → ')[0]} → ${seen.get(messageId) ?? 'not quarantined'}`,
    );
    expect(outcomes).toEqual([...quarantineExpected.values()]);

    // Rejections: recorded with the reason and a negative receipt signed by FR, bound to the bytes.
    const rejectedOutcomes: string[] = [];
    for (const [name, { envelopeId }] of rejectionExpected) {
      let row: { reason: string; receipt: Buffer; envelope_digest: string } | undefined;
      for (let tries = 0; tries < 100 && !row; tries += 1) {
        row = (
          await frDatabase.query(
            'SELECT reason, receipt, envelope_digest FROM inbound_rejection WHERE envelope_id = $1',
            [envelopeId],
          )
        ).rows[0] as typeof row;
        if (!row) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (!row) {
        rejectedOutcomes.push(`${name} → no rejection recorded`);
        continue;
      }
      const receipt = parseJwsCompact(row.receipt);
      const statement = JSON.parse(receipt.payload.toString()) as {
        status: string;
        reason: string;
        envelopeDigest: string;
        from: { state: string };
      };
      expect(statement.status).toBe('rejected');
      expect(statement.from.state).toBe('FR');
      expect(statement.envelopeDigest).toBe(row.envelope_digest);
      const signer = world.verifier.verifyChain(
        receipt.header.x5c as string[],
        'signing',
        new Date(),
      );
      expect(signer.state).toBe('FR');
      rejectedOutcomes.push(`${name} → ${statement.reason}`);
    }
    expect(rejectedOutcomes).toEqual(
      [...rejectionExpected].map(([name, { reason }]) => `${name} → ${reason}`),
    );

    // Nothing stored as delivered.
    const inboundAfter = (await frDatabase.query('SELECT count(*)::int AS n FROM inbound_message'))
      .rows[0] as { n: number };
    expect(inboundAfter.n).toBe(inboundBefore.n);
  }, 120_000);

  it('answers a replayed, delivered envelope with the receipt it already gave, and stores it once', async () => {
    const austria = world.client('AT');
    const { id } = await austria.submit(mlaRequest({ subject: 'To be replayed' }));
    await austria.waitForStatus(id, ['delivered']);
    const envelope = await austria.envelope(id);
    const receiptBefore = await fetch(
      `${world.federation.node('FR').url}/v1/inbound-messages/${id}/receipt`,
      { headers: world.client('FR').authorization },
    ).then((r) => r.arrayBuffer());
    await publish('FR', envelope);
    await publish('FR', envelope);
    let duplicates = 0;
    for (let tries = 0; tries < 100 && duplicates < 2; tries += 1) {
      duplicates = (await world.client('FR').inbound(id)).timeline.filter(
        (e) => e.type === 'duplicate',
      ).length;
      if (duplicates < 2) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(duplicates).toBe(2);
    const rows = (await frDatabase.query('SELECT receipt FROM inbound_message WHERE id = $1', [id]))
      .rows as Array<{ receipt: Buffer }>;
    expect(rows).toHaveLength(1);
    expect(Buffer.from(receiptBefore).equals(rows[0]!.receipt)).toBe(true);
  });

  it('quarantines receipts that are not for an envelope AT sent, bind the wrong digest, or come from a third State', async () => {
    const austria = world.client('AT');
    const { id } = await austria.submit(mlaRequest({ subject: 'Receipts under attack' }));
    const delivered = await austria.waitForStatus(id, ['delivered']);
    const { issueReceipt } = await import('@comity/protocol');
    const cases: Array<[string, Buffer, string]> = [
      [
        'a receipt for an envelope never sent',
        issueReceipt({
          signer: f.states.FR.signer,
          envelopeId: uuidV7(),
          envelopeDigest: delivered.envelopeDigest,
          senderState: 'AT',
          status: 'delivered',
          now: new Date(),
        }).bytes,
        'receipt-envelope-mismatch',
      ],
      [
        'a receipt with the wrong digest',
        issueReceipt({
          signer: f.states.FR.signer,
          envelopeId: id,
          envelopeDigest: encodeBase64Url(createHash('sha256').update('other bytes').digest()),
          senderState: 'AT',
          status: 'delivered',
          now: new Date(),
        }).bytes,
        'receipt-digest-mismatch',
      ],
      [
        'a receipt signed by a third State',
        issueReceipt({
          signer: f.states.KE.signer,
          envelopeId: id,
          envelopeDigest: delivered.envelopeDigest,
          senderState: 'AT',
          status: 'rejected',
          reason: 'decryption-failed',
          now: new Date(),
        }).bytes,
        'receipt-signer-mismatch',
      ],
    ];
    const expected = new Map<string, string>();
    for (const [name, bytes, reason] of cases)
      expected.set(await publish('AT', bytes, 'receipt'), `${name} → ${reason}`);
    const seen = await quarantineReasons(world, 'AT', [...expected.keys()]);
    expect(
      [...expected].map(
        ([messageId, expectation]) =>
          `${expectation.split(' → ')[0]} → ${seen.get(messageId) ?? 'not quarantined'}`,
      ),
    ).toEqual([...expected.values()]);
    expect((await austria.outbound(id)).status).toBe('delivered');
  });

  it('answers hostile API input with 4xx naming the problem, never a 500', async () => {
    const url = `${world.federation.node('AT').url}/v1/outbound-messages`;
    const post = (body: string, contentType = 'application/json') =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': contentType, ...world.client('AT').authorization },
        body,
      });
    const cases: Array<[string, Promise<Response>, number]> = [
      ['malformed JSON', post('{"kind": "mla_request",'), 400],
      ['a JSON array', post('[1,2,3]'), 400],
      ['JSON null', post('null'), 400],
      [
        'wrong types',
        post(JSON.stringify(mlaRequest({ subject: 42, attachments: 'none', recipient: 'FR' }))),
        400,
      ],
      ['a prototype-pollution key', post('{"__proto__":{"admin":true},"kind":"mla_request"}'), 400],
      [
        'a subject over 300 characters',
        post(JSON.stringify(mlaRequest({ subject: 'x'.repeat(301) }))),
        400,
      ],
      [
        '300 emoji (600 UTF-16 units) as the subject',
        post(JSON.stringify(mlaRequest({ subject: '😀'.repeat(300) }))),
        400,
      ],
      [
        'a body over 8 MB',
        post(JSON.stringify(mlaRequest({ body: 'x'.repeat(9 * 1024 * 1024) }))),
        413,
      ],
      ['deeply nested JSON', post(`${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`), 400],
      ['text/plain', post('kind=mla_request', 'text/plain'), 400],
      [
        'a path-traversal file name',
        post(
          JSON.stringify(
            mlaRequest({
              attachments: [
                { filename: '../../etc/passwd', mediaType: 'text/plain', data: 'eA==' },
              ],
            }),
          ),
        ),
        400,
      ],
      [
        'a SQL-shaped id in the path',
        fetch(`${url}/${encodeURIComponent("' OR 1=1 --")}`, {
          headers: world.client('AT').authorization,
        }),
        400,
      ],
      [
        'an id of another form',
        fetch(`${url}/00000000-0000-0000-0000-000000000000/envelope`, {
          headers: world.client('AT').authorization,
        }),
        404,
      ],
    ];
    const outcomes = await Promise.all(
      cases.map(async ([name, response]) => `${name} → ${(await response).status}`),
    );
    expect(outcomes).toEqual(cases.map(([name, , status]) => `${name} → ${status}`));

    // Injection-shaped text is only text: accepted, stored as data, delivered verbatim.
    const shaped = `Robert'); DROP TABLE inbound_message;-- <script>alert(1)</script> \${jndi:ldap://x}`;
    const { id } = await world.client('AT').submit(mlaRequest({ subject: shaped }));
    await world.client('AT').waitForStatus(id, ['delivered']);
    expect((await world.client('FR').inbound(id)).content?.subject).toBe(shaped);
  });

  it('still serves: healthy, and a genuine request is delivered after all of it', async () => {
    for (const state of ['AT', 'FR']) {
      expect((await fetch(`${world.federation.node(state).url}/health`)).status).toBe(200);
    }
    const { id } = await world.client('AT').submit(mlaRequest({ subject: 'After the attacks' }));
    expect(
      (await world.client('AT').waitForStatus(id, ['delivered', 'rejected', 'failed'])).status,
    ).toBe('delivered');
  });
});
