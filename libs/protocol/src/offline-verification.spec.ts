import { createHash, generateKeyPairSync } from 'node:crypto';
import { CertificateVerifier, issueCertificate } from '@comity/pki';
import {
  DAY_MS,
  createTestFederation,
  envelopeWithContent,
  partsOf,
  protocolErrorOf,
  sealFor,
  type StateCode,
  type TestFederation,
} from '../test-support/federation';
import {
  ProtocolError,
  issueReceipt,
  verifyReceiptOffline,
  type ReasonCode,
  type SealedEnvelope,
} from './index';

let f: TestFederation;
let envelope: SealedEnvelope;
let receipt: Buffer;

beforeAll(async () => {
  f = await createTestFederation();
  envelope = sealFor(f, 'AT', 'FR');
  receipt = receiptFor(envelope);
});

afterAll(() => f.dispose());

function receiptFor(sealed: SealedEnvelope, signer: StateCode = 'FR'): Buffer {
  return issueReceipt({
    signer: f.states[signer].signer,
    envelopeId: sealed.header.id,
    envelopeDigest: sealed.digest,
    senderState: sealed.header.from.state,
    status: 'delivered',
    now: f.now,
  }).bytes;
}

function offlineReason(
  envelopeBytes: Buffer,
  receiptBytes: Buffer = receipt,
  verifier = f.verifier,
): ReasonCode {
  return protocolErrorOf(() =>
    verifyReceiptOffline({ envelope: envelopeBytes, receipt: receiptBytes, verifier }),
  ).reason;
}

describe('verifyReceiptOffline: the two files and the trust anchor', () => {
  it('accepts an envelope and the receipt for exactly its bytes', () => {
    const result = verifyReceiptOffline({
      envelope: envelope.bytes,
      receipt,
      verifier: f.verifier,
    });
    expect(result.envelope.header).toEqual(envelope.header);
    expect(result.envelope.sender.state).toBe('AT');
    expect(result.receipt.signer.state).toBe('FR');
    expect(result.receipt.statement.envelopeDigest).toBe(
      createHash('sha256').update(envelope.bytes).digest('base64url'),
    );
  });

  it('accepts the RSA suite in either role', () => {
    for (const [from, to] of [
      ['AT', 'KE'],
      ['KE', 'AT'],
    ] as const) {
      const sealed = sealFor(f, from, to);
      const result = verifyReceiptOffline({
        envelope: sealed.bytes,
        receipt: receiptFor(sealed, to),
        verifier: f.verifier,
      });
      expect(result.receipt.signer.state).toBe(to);
    }
  });

  it('refuses the envelope with any single byte changed', () => {
    const text = envelope.bytes.toString('latin1');
    const accepted: number[] = [];
    const step = Math.max(1, Math.floor(text.length / 150));
    for (let index = 0; index < text.length; index += step) {
      const changed = Buffer.from(envelope.bytes);
      // Stay inside the base64url alphabet where possible so the change reaches past parsing.
      changed[index] = text[index] === 'A' ? 0x42 : text[index] === '"' ? 0x27 : 0x41;
      try {
        verifyReceiptOffline({ envelope: changed, receipt, verifier: f.verifier });
        accepted.push(index);
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('refuses the same envelope re-serialized with whitespace → malformed-envelope (one byte form only)', () => {
    // Semantically identical JSON, different bytes: only the canonical form is an envelope.
    const spaced = Buffer.from(JSON.stringify(JSON.parse(envelope.bytes.toString()), null, 1));
    expect(offlineReason(spaced)).toBe('malformed-envelope');
  });

  it('refuses a receipt for a different envelope → receipt-envelope-mismatch', () => {
    const other = sealFor(f, 'AT', 'FR');
    expect(offlineReason(envelope.bytes, receiptFor(other))).toBe('receipt-envelope-mismatch');
  });

  it('refuses a receipt for the same id but other bytes (a re-sent, re-sealed envelope) → receipt-digest-mismatch', () => {
    const resealed = sealFor(f, 'AT', 'FR', {
      id: envelope.header.id,
      thread: envelope.header.thread,
    });
    expect(resealed.header.id).toBe(envelope.header.id);
    expect(offlineReason(envelope.bytes, receiptFor(resealed))).toBe('receipt-digest-mismatch');
  });

  it('refuses a receipt signed by a State other than the recipient → receipt-signer-mismatch', () => {
    expect(offlineReason(envelope.bytes, receiptFor(envelope, 'KE'))).toBe(
      'receipt-signer-mismatch',
    );
    expect(offlineReason(envelope.bytes, receiptFor(envelope, 'AT'))).toBe(
      'receipt-signer-mismatch',
    );
  });

  it('refuses a receipt with one byte changed', () => {
    const changed = Buffer.from(receipt);
    const index = changed.lastIndexOf('.'.charCodeAt(0)) + 5;
    changed[index] = changed[index] === 0x41 ? 0x42 : 0x41;
    expect(offlineReason(envelope.bytes, changed)).toBe('invalid-signature');
  });

  it('refuses an envelope whose content was swapped, even with a header re-signed by the sender', () => {
    const other = sealFor(f, 'AT', 'FR');
    const swapped = Buffer.from(
      JSON.stringify({
        ...JSON.parse(envelope.bytes.toString()),
        content: partsOf(other.bytes).contentJwe,
      }),
    );
    expect(offlineReason(swapped)).toBe('content-digest-mismatch');
    const resigned = envelopeWithContent(
      envelope.header,
      partsOf(other.bytes).contentJwe,
      f.states.AT.signer,
    );
    expect(offlineReason(resigned)).toBe('receipt-digest-mismatch');
  });

  it('refuses both files under another trust anchor → certificate-untrusted', async () => {
    const keys = generateKeyPairSync('ed25519');
    const otherRoot = await issueCertificate({
      profile: 'federation-root',
      subject: { commonName: 'Comity Federation Root CA' },
      publicKey: keys.publicKey,
      selfSigningKey: keys.privateKey,
      notBefore: new Date(f.now.getTime() - DAY_MS),
      notAfter: new Date(f.now.getTime() + DAY_MS),
    });
    expect(offlineReason(envelope.bytes, receipt, new CertificateVerifier([otherRoot]))).toBe(
      'certificate-untrusted',
    );
  });

  it('checks the envelope chain at the creation it claims: a date before the certificates → certificate-not-yet-valid', () => {
    const early = sealFor(f, 'AT', 'FR', {
      created: new Date(f.now.getTime() - 30 * DAY_MS).toISOString(),
      expires: new Date(f.now.getTime() - 29 * DAY_MS).toISOString(),
    });
    expect(offlineReason(early.bytes, receiptFor(early))).toBe('certificate-not-yet-valid');
  });

  it('refuses garbage in either file with a ProtocolError', () => {
    expect(offlineReason(Buffer.from('not an envelope'))).toBe('malformed-envelope');
    expect(offlineReason(envelope.bytes, Buffer.from('not a receipt'))).toBe('malformed-receipt');
  });
});
