import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDevFederation, suiteOfKey, type DevFederationLayout } from '@comity/pki';
import { signDirectory, type DirectoryDocument } from '@comity/protocol';
import { ensureDevAccounts } from './dev-accounts';
import { ensureDevApiKeys } from './dev-api-keys';
import { buildDevDirectory, type DevStateDescription } from './dev-directory';

export interface DevCertificates {
  layout: DevFederationLayout;
  /** The signed directory (compact JWS) every gateway loads. */
  directoryPath: string;
  /** The same directory unsigned, for people to read. */
  directoryDocumentPath: string;
}

/**
 * Issues (or keeps) the development PKI and writes a new edition of the directory beside it,
 * signed by the development directory signer.
 */
export async function ensureDevCertificates(
  directory: string,
  states: DevStateDescription[],
): Promise<DevCertificates> {
  const layout = await createDevFederation({
    directory,
    states: states.map(({ code, suite }) => ({ code, suite })),
  });
  for (const state of states) {
    const stateDirectory = join(layout.states[state.code]!.signingCertificate, '..');
    ensureDevApiKeys(stateDirectory, state.code);
    await ensureDevAccounts(stateDirectory, state.code);
  }
  const document = buildDevDirectory(layout, states);
  const directoryDocumentPath = join(directory, 'directory.json');
  writeFileSync(directoryDocumentPath, `${JSON.stringify(document, null, 2)}\n`);
  const directoryPath = join(directory, 'directory.jws');
  writeSignedDirectory(layout, document, directoryPath);
  return { layout, directoryPath, directoryDocumentPath };
}

/** Signs a directory document with the development directory signer and writes it to `path`. */
export function writeSignedDirectory(
  layout: DevFederationLayout,
  document: DirectoryDocument,
  path: string,
): void {
  const key = createPrivateKey(readFileSync(layout.directorySigner.key));
  const certificate = new X509Certificate(readFileSync(layout.directorySigner.certificate));
  const suite = suiteOfKey(key, 'signing');
  if (!suite) throw new Error(`${layout.directorySigner.key} holds no signing key`);
  writeFileSync(path, `${signDirectory(document, { key, certificate, suite })}\n`);
}
