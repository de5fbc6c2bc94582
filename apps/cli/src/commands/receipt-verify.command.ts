import { readFileSync } from 'node:fs';
import { CertificateVerifier, readCertificatesPem } from '@comity/pki';
import { ProtocolError, verifyReceiptOffline } from '@comity/protocol';

export interface ReceiptCheck {
  valid: boolean;
  lines: string[];
}

/**
 * Offline: no database, no node, no network. Reads the receipt, the envelope it claims to
 * answer and the federation trust anchor, and says whether the receipt proves delivery.
 */
export function checkReceiptFiles(paths: {
  receipt: string;
  envelope: string;
  anchor: string;
}): ReceiptCheck {
  let verifier: CertificateVerifier;
  let receipt: Buffer;
  let envelope: Buffer;
  try {
    verifier = new CertificateVerifier(readCertificatesPem(readFileSync(paths.anchor, 'utf8')));
    receipt = readFileSync(paths.receipt);
    envelope = readFileSync(paths.envelope);
  } catch (error) {
    return {
      valid: false,
      lines: [`invalid: cannot read the inputs: ${(error as Error).message}`],
    };
  }
  try {
    const result = verifyReceiptOffline({
      envelope,
      receipt: trimTrailingNewline(receipt),
      verifier,
    });
    const { statement, signer } = result.receipt;
    const { header } = result.envelope;
    const lines = [
      `valid: receipt ${statement.id} says "${statement.status}"${statement.reason ? ` (${statement.reason})` : ''}`,
      `  envelope   ${header.id} (${header.kind}) from ${header.from.state}/${header.from.authority} to ${header.to.state}/${header.to.authority}`,
      `  digest     sha-256 ${statement.envelopeDigest} matches the envelope file`,
      `  signed by  ${signer.state} gateway (${signer.certificate.subject.replace(/\n/g, ', ')}) at ${statement.time}`,
    ];
    if (statement.status !== 'delivered') {
      lines[0] = `invalid as proof of delivery: the receipt is authentic but records a rejection (${statement.reason ?? 'no reason'})`;
    }
    // Exit 0 only for what a script means by "verified": an authentic proof of delivery.
    return { valid: statement.status === 'delivered', lines };
  } catch (error) {
    if (error instanceof ProtocolError)
      return { valid: false, lines: [`invalid: ${error.reason}: ${error.message}`] };
    return { valid: false, lines: [`invalid: ${(error as Error).message}`] };
  }
}

function trimTrailingNewline(bytes: Buffer): Buffer {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end -= 1;
  return bytes.subarray(0, end);
}
