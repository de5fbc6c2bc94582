import { generateKeyPairSync } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import {
  cloudEventOf,
  newWebhookSecret,
  signWebhook,
  verifyWebhook,
  webhookSecretKey,
  type NodeEvent,
} from './webhooks';

const event: NodeEvent = {
  seq: 42,
  id: '0193a1b2-0000-7000-8000-000000000001',
  type: 'message.received',
  time: '2026-12-05T10:00:00.000Z',
  authority: 'fr-central-authority',
  subject: '0193a1b2-0000-7000-8000-0000000000aa',
  data: { messageId: '0193a1b2-0000-7000-8000-0000000000aa', kind: 'mla_request' },
};

describe('webhook signatures (Standard Webhooks)', () => {
  const body = JSON.stringify(cloudEventOf(event, 'urn:comity:FR'));
  const now = new Date('2026-12-05T10:00:05Z');
  const timestamp = Math.floor(now.getTime() / 1000);

  it('builds a CloudEvents 1.0 structured body with the sequence as an extension', () => {
    expect(JSON.parse(body)).toEqual({
      specversion: '1.0',
      id: event.id,
      source: 'urn:comity:FR',
      type: 'org.comity.message.received',
      time: event.time,
      subject: event.subject,
      datacontenttype: 'application/json',
      comityseq: 42,
      data: event.data,
    });
  });

  it('signs v1 so that the standardwebhooks library verifies it, and v1a with an Ed25519 key', () => {
    const secret = newWebhookSecret();
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const headers = signWebhook({
      id: event.id,
      timestamp,
      body,
      secrets: [secret],
      ed25519Key: privateKey,
    });
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]{44} v1a,[A-Za-z0-9+/=]{88}$/);
    const library = new Webhook(secret);
    // The library checks the timestamp against its own clock: sign for now there.
    const fresh = signWebhook({
      id: event.id,
      timestamp: Math.floor(Date.now() / 1000),
      body,
      secrets: [secret],
    });
    expect(library.verify(body, fresh)).toEqual(JSON.parse(body));
    expect(verifyWebhook({ headers, body, secret, now })).toEqual({ id: event.id, timestamp });
    expect(verifyWebhook({ headers, body, ed25519PublicKey: publicKey, now })).toEqual({
      id: event.id,
      timestamp,
    });
  });

  it('refuses a changed body, another secret, a stale timestamp and missing headers, naming which', () => {
    const secret = newWebhookSecret();
    const headers = signWebhook({ id: event.id, timestamp, body, secrets: [secret] });
    expect(() => verifyWebhook({ headers, body: `${body} `, secret, now })).toThrow(
      'no webhook-signature matches',
    );
    expect(() => verifyWebhook({ headers, body, secret: newWebhookSecret(), now })).toThrow(
      'no webhook-signature matches',
    );
    expect(() =>
      verifyWebhook({ headers, body, secret, now: new Date(now.getTime() + 600_000) }),
    ).toThrow('too far from now');
    expect(() =>
      verifyWebhook({ headers: { ...headers, 'webhook-id': undefined }, body, secret, now }),
    ).toThrow('webhook-id header is missing');
    expect(() =>
      verifyWebhook({ headers: { ...headers, 'webhook-timestamp': '1e9' }, body, secret, now }),
    ).toThrow('not whole seconds');
  });

  it('signs with every secret during a rotation; either verifies', () => {
    const [next, previous] = [newWebhookSecret(), newWebhookSecret()];
    const headers = signWebhook({ id: event.id, timestamp, body, secrets: [next, previous] });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [next, previous])
      expect(() => verifyWebhook({ headers, body, secret, now })).not.toThrow();
  });

  it('takes only whsec_ secrets of 24 to 64 bytes', () => {
    expect(webhookSecretKey(newWebhookSecret())).toHaveLength(32);
    expect(() => webhookSecretKey('abc')).toThrow('starts with whsec_');
    expect(() => webhookSecretKey('whsec_c2hvcnQ=')).toThrow('24 to 64 bytes');
    expect(() => webhookSecretKey('whsec_not base64!')).toThrow('24 to 64 bytes');
  });
});
