import * as jose from 'jose';
import {
  createTestFederation,
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
} from './index';

let f: TestFederation;

beforeAll(async () => {
  f = await createTestFederation(['AT', 'FR', 'KE']);
});

afterAll(() => f.dispose());

const tamper = (token: string, part: number): string => {
  const parts = token.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[0] = bytes[0]! ^ 1;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
};

describe('the sender copy under a data key', () => {
  it('round-trips the signed content and names its data key', () => {
    const { contentJws } = sealFor(f, 'AT', 'FR');
    const key = newSenderCopyKey('0193a1b2-0000-7000-8000-000000000001');
    const copy = sealSenderCopy(contentJws, key);
    expect(senderCopyKeyId(copy)).toBe(key.id);
    expect(decryptSenderCopy(copy, { dataKey: key, self: f.states.AT.decryption })).toBe(
      contentJws,
    );
  });

  it('is a standard compact JWE (dir, A256GCM) that the jose library opens to the same bytes', async () => {
    const { contentJws } = sealFor(f, 'AT', 'FR');
    const key = newSenderCopyKey('k1');
    const copy = sealSenderCopy(contentJws, key);
    const opened = await jose.compactDecrypt(copy, key.secret.export());
    expect(opened.protectedHeader).toEqual({ alg: 'dir', enc: 'A256GCM', kid: 'k1' });
    expect(Buffer.from(opened.plaintext).toString('ascii')).toBe(contentJws);
  });

  it('refuses a copy under another data key, a tampered copy and a foreign header member', () => {
    const { contentJws } = sealFor(f, 'AT', 'FR');
    const key = newSenderCopyKey('k1');
    const copy = sealSenderCopy(contentJws, key);
    const self = f.states.AT.decryption;
    // Same kid, other secret: authentication fails.
    const impostor = { id: 'k1', secret: newSenderCopyKey('k1').secret };
    expect(protocolErrorOf(() => decryptSenderCopy(copy, { dataKey: impostor, self })).reason).toBe(
      'decryption-failed',
    );
    expect(
      protocolErrorOf(() => decryptSenderCopy(copy, { dataKey: newSenderCopyKey('k2'), self }))
        .reason,
    ).toBe('wrong-recipient-key');
    for (const part of [2, 3, 4]) {
      expect(
        protocolErrorOf(() => decryptSenderCopy(tamper(copy, part), { dataKey: key, self })).reason,
      ).toBe('decryption-failed');
    }
    const withZip = sealSenderCopy(contentJws, key).replace(
      /^[^.]+/,
      Buffer.from('{"alg":"dir","enc":"A256GCM","kid":"k1","zip":"DEF"}').toString('base64url'),
    );
    expect(protocolErrorOf(() => decryptSenderCopy(withZip, { dataKey: key, self })).reason).toBe(
      'forbidden-header',
    );
  });

  it('still opens a copy sealed to the certificate (the form before data keys)', () => {
    const { contentJws } = sealFor(f, 'AT', 'FR');
    const legacy = encryptToCertificate(
      Buffer.from(contentJws, 'ascii'),
      f.states.AT.encryptionCertificate,
    );
    expect(senderCopyKeyId(legacy)).toBeNull();
    expect(decryptSenderCopy(legacy, { dataKey: null, self: f.states.AT.decryption })).toBe(
      contentJws,
    );
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
