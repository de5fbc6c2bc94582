import { createDecipheriv } from 'node:crypto';
import * as jose from 'jose';
import {
  createTestFederation,
  partsOf,
  protocolErrorOf,
  sealFor,
  type TestFederation,
} from '../test-support/federation';
import {
  decryptSenderCopy,
  encryptToCertificate,
  newSenderCopyKey,
  sealSenderCopy,
  senderCopyKeyId,
  unwrapDataKey,
  wrapDataKey,
  type SealedEnvelope,
} from './index';

let f: TestFederation;

beforeAll(async () => {
  f = await createTestFederation(['AT', 'FR', 'KE']);
});

afterAll(() => f.dispose());

const contentJweOf = (sealed: SealedEnvelope): string => partsOf(sealed.bytes).contentJwe;

const tamper = (token: string, part: number): string => {
  const parts = token.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[0] = bytes[0]! ^ 1;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
};

describe('the sender copy: the envelope’s content key under a data key', () => {
  it.each(['FR', 'KE'] as const)(
    'opens the signed content of an envelope sent to %s, in under 200 bytes',
    (recipient) => {
      const sealed = sealFor(f, 'AT', recipient);
      const key = newSenderCopyKey('0193a1b2-0000-7000-8000-000000000001');
      const copy = sealSenderCopy(sealed.contentKey, key);
      expect(copy.length).toBeLessThan(200);
      expect(senderCopyKeyId(copy)).toBe(key.id);
      const self = f.states.AT.decryption;
      expect(decryptSenderCopy(copy, { dataKey: key, self }, contentJweOf(sealed))).toBe(
        sealed.contentJws,
      );
    },
  );

  it('is a standard compact JWE (dir, A256GCM) that the jose library opens to the content key, which opens the envelope’s JWE', async () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const key = newSenderCopyKey('k1');
    const copy = sealSenderCopy(sealed.contentKey, key);
    const opened = await jose.compactDecrypt(copy, key.secret.export());
    expect(opened.protectedHeader).toEqual({ alg: 'dir', enc: 'A256GCM', kid: 'k1' });
    expect(Buffer.from(opened.plaintext).equals(sealed.contentKey)).toBe(true);
    // The same key opens the envelope’s content JWE with node:crypto alone (no key management).
    const [header, , iv, ciphertext, tag] = contentJweOf(sealed).split('.');
    const decipher = createDecipheriv(
      'aes-256-gcm',
      sealed.contentKey,
      Buffer.from(iv!, 'base64url'),
    );
    decipher.setAAD(Buffer.from(header!, 'ascii'));
    decipher.setAuthTag(Buffer.from(tag!, 'base64url'));
    const plaintext = Buffer.concat([
      decipher.update(Buffer.from(ciphertext!, 'base64url')),
      decipher.final(),
    ]);
    expect(plaintext.toString('ascii')).toBe(sealed.contentJws);
  });

  it('refuses another data key, a tampered copy, a foreign header member and another envelope’s content', () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const contentJwe = contentJweOf(sealed);
    const key = newSenderCopyKey('k1');
    const copy = sealSenderCopy(sealed.contentKey, key);
    const self = f.states.AT.decryption;
    const open = (token: string, dataKey = key, jwe = contentJwe) =>
      protocolErrorOf(() => decryptSenderCopy(token, { dataKey, self }, jwe)).reason;
    // Same kid, other secret: authentication fails.
    expect(open(copy, { id: 'k1', secret: newSenderCopyKey('k1').secret })).toBe(
      'decryption-failed',
    );
    expect(open(copy, newSenderCopyKey('k2'))).toBe('wrong-recipient-key');
    for (const part of [2, 3, 4]) expect(open(tamper(copy, part))).toBe('decryption-failed');
    for (const part of [2, 3, 4])
      expect(open(copy, key, tamper(contentJwe, part))).toBe('decryption-failed');
    const withZip = copy.replace(
      /^[^.]+/,
      Buffer.from('{"alg":"dir","enc":"A256GCM","kid":"k1","zip":"DEF"}').toString('base64url'),
    );
    expect(open(withZip)).toBe('forbidden-header');
    // The content key of one envelope does not open another's content.
    expect(open(copy, key, contentJweOf(sealFor(f, 'AT', 'FR')))).toBe('decryption-failed');
    expect(() => sealSenderCopy(Buffer.alloc(16), key)).toThrow(
      'a content key is 32 bytes, not 16',
    );
  });

  it('still opens a copy of the earlier form (the content JWS encrypted to the node’s certificate)', () => {
    const sealed = sealFor(f, 'AT', 'FR');
    const legacy = encryptToCertificate(
      Buffer.from(sealed.contentJws, 'ascii'),
      f.states.AT.encryptionCertificate,
    );
    expect(senderCopyKeyId(legacy)).toBeNull();
    expect(
      decryptSenderCopy(
        legacy,
        { dataKey: null, self: f.states.AT.decryption },
        contentJweOf(sealed),
      ),
    ).toBe(sealed.contentJws);
  });
});

describe('the data key wrapped to the node’s own certificate', () => {
  it.each(['AT', 'KE'] as const)('unwraps to the same key (%s suite)', (state) => {
    const key = newSenderCopyKey('k1');
    const wrapped = wrapDataKey(key, f.states[state].encryptionCertificate);
    const unwrapped = unwrapDataKey('k1', wrapped, f.states[state].decryption);
    expect(unwrapped.secret.export().equals(key.secret.export())).toBe(true);
  });

  it('cannot be unwrapped by another node', () => {
    const wrapped = wrapDataKey(newSenderCopyKey('k1'), f.states.AT.encryptionCertificate);
    expect(protocolErrorOf(() => unwrapDataKey('k1', wrapped, f.states.FR.decryption)).reason).toBe(
      'wrong-recipient-key',
    );
  });

  it('refuses a wrapped value that is not a 32-byte key', () => {
    const wrapped = encryptToCertificate(Buffer.from('c2hvcnQ'), f.states.AT.encryptionCertificate);
    expect(protocolErrorOf(() => unwrapDataKey('k1', wrapped, f.states.AT.decryption)).reason).toBe(
      'malformed-content',
    );
  });
});
