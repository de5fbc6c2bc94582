import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  CertificateVerifier,
  readCertificatesPem,
  sha256Thumbprint,
  suiteOfKey,
} from '@comity/pki';
import { signDirectory, verifySignedDirectory, type DirectoryDocument } from '@comity/protocol';

/** Signs a directory document (JSON) with the directory signer's key; the output is what nodes load. */
export function signDirectoryFile(options: {
  document: string;
  key: string;
  certificate: string;
  out: string;
}): string {
  const document = JSON.parse(readFileSync(options.document, 'utf8')) as DirectoryDocument;
  const key = createPrivateKey(readFileSync(options.key));
  const certificate = new X509Certificate(readFileSync(options.certificate));
  const suite = suiteOfKey(key, 'signing');
  if (!suite) throw new Error(`${options.key} holds no signing key`);
  writeFileSync(options.out, `${signDirectory(document, { key, certificate, suite })}\n`);
  return `signed directory version ${document.version} (valid until ${document.expires}) written to ${options.out}`;
}

/**
 * Adds a certificate to the document's revocation list and makes it a new edition (a higher
 * version, issued now); sign it afterwards. Nodes refuse messages signed with it, and refuse
 * to encrypt to it, as soon as they load the new edition.
 */
export function revokeInDirectoryFile(options: {
  document: string;
  certificate: string;
  reason: string;
  validDays: number;
}): string {
  const document = JSON.parse(readFileSync(options.document, 'utf8')) as DirectoryDocument;
  const certificate = new X509Certificate(readFileSync(options.certificate));
  const now = new Date();
  const sha256 = sha256Thumbprint(certificate);
  document.revokedCertificates = [
    ...(document.revokedCertificates ?? []).filter((entry) => entry.sha256 !== sha256),
    { sha256, revokedAt: now.toISOString(), reason: options.reason },
  ];
  document.version = Math.max(document.version + 1, Math.floor(now.getTime() / 1000));
  document.issued = now.toISOString();
  document.expires = new Date(now.getTime() + options.validDays * 86_400_000).toISOString();
  writeFileSync(options.document, `${JSON.stringify(document, null, 2)}\n`);
  return `revoked ${certificate.subject.replace(/\n/g, ', ')} (${sha256}); directory version ${document.version}: sign it to publish`;
}

/** Verifies a signed directory against the trust anchor and describes it. */
export function inspectDirectoryFile(options: { file: string; anchor: string }): string[] {
  const verifier = new CertificateVerifier(
    readCertificatesPem(readFileSync(options.anchor, 'utf8')),
  );
  const directory = verifySignedDirectory(readFileSync(options.file, 'utf8'), verifier, new Date());
  const lines = [
    `directory of ${directory.federation}: version ${directory.validity.version}, issued ${directory.validity.issued}, expires ${directory.validity.expires}`,
    'signature: valid (the federation directory signer, under the trust anchor)',
  ];
  for (const state of directory.allStates()) {
    lines.push(
      `${state.code} ${state.name}: routing key ${state.routingKey}${state.brokerUser ? `, broker user ${state.brokerUser}` : ''}`,
    );
    for (const authority of state.authorities) {
      lines.push(
        `  ${authority.id}: ${authority.name} [${authority.types.join(', ')}] accepts ${authority.requestKinds.join(', ')}`,
      );
    }
  }
  for (const revoked of directory.revokedCertificates()) {
    lines.push(`revoked ${revoked.sha256} at ${revoked.revokedAt}: ${revoked.reason}`);
  }
  return lines;
}
