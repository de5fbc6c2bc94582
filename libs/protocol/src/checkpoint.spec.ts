import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  checkpointText,
  parseSignedCheckpoint,
  signCheckpoint,
  verifySignedCheckpoint,
} from './checkpoint';
import { leafHash, rootOf } from './merkle-tree';

const ed25519 = generateKeyPairSync('ed25519');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const root = rootOf([leafHash(Buffer.from('a')), leafHash(Buffer.from('b'))]);
const checkpoint = { origin: 'comity.example/AT', size: 2, root };

describe.each([
  ['ed25519-x25519', ed25519],
  ['rsa', rsa],
] as const)('signed checkpoints (%s)', (suite, keys) => {
  const signer = { keyName: 'comity.example/AT', suite, key: keys.privateKey } as const;
  const verifier = { keyName: 'comity.example/AT', suite, key: keys.publicKey } as const;

  it('is a C2SP checkpoint in a signed note, and verifies', () => {
    const signed = signCheckpoint(checkpoint, signer);
    expect(
      signed.note.startsWith(
        `comity.example/AT\n2\n${root.toString('base64')}\n\n— comity.example/AT `,
      ),
    ).toBe(true);
    expect(verifySignedCheckpoint(signed.note, verifier)).toEqual(checkpoint);
  });

  it('refuses a note changed in one character, or signed by another key', () => {
    const { note } = signCheckpoint(checkpoint, signer);
    const grown = note.replace('\n2\n', '\n3\n');
    expect(() => verifySignedCheckpoint(grown, verifier)).toThrow('does not verify');
    const other = generateKeyPairSync('ed25519');
    expect(() =>
      verifySignedCheckpoint(note, { ...verifier, suite: 'ed25519-x25519', key: other.publicKey }),
    ).toThrow('carries no signature');
    expect(() =>
      verifySignedCheckpoint(note, { ...verifier, keyName: 'comity.example/FR' }),
    ).toThrow('carries no signature of comity.example/FR');
  });
});

describe('reading a signed checkpoint', () => {
  it('ignores the lines of other signers (a cosignature) and checks its own', () => {
    const a = signCheckpoint(checkpoint, {
      keyName: 'a',
      suite: 'ed25519-x25519',
      key: ed25519.privateKey,
    });
    const witness = generateKeyPairSync('ed25519');
    const b = signCheckpoint(checkpoint, {
      keyName: 'witness',
      suite: 'ed25519-x25519',
      key: witness.privateKey,
    });
    const both = a.note + b.note.slice(b.note.lastIndexOf('\n\n') + 2);
    expect(parseSignedCheckpoint(both).signatures.map((s) => s.keyName)).toEqual(['a', 'witness']);
    expect(
      verifySignedCheckpoint(both, {
        keyName: 'witness',
        suite: 'ed25519-x25519',
        key: witness.publicKey,
      }),
    ).toEqual(checkpoint);
  });

  it.each([
    ['no signature lines', `${checkpointText(checkpoint)}`, 'ends with signature lines'],
    ['a size that is not a number', 'o\nx\nAAAA\n\n— a AAAAAAA=\n', 'not a decimal number'],
    [
      'a short root',
      `o\n1\n${randomBytes(16).toString('base64')}\n\n— a AAAAAAA=\n`,
      'not a base64 SHA-256',
    ],
    [
      'a line without the dash',
      `${checkpointText(checkpoint)}\n- a AAAAAAA=\n`,
      'starts with an em dash',
    ],
    [
      'a control character',
      `${checkpointText(checkpoint)}\r\n— a AAAAAAA=\n`,
      'no control characters',
    ],
  ])('refuses %s', (_what, note, message) => {
    expect(() => parseSignedCheckpoint(note)).toThrow(message);
  });
});
