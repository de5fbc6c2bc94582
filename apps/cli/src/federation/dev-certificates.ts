import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDevFederation, type DevFederationLayout } from '@comity/pki';
import { buildDevDirectory, type DevStateDescription } from './dev-directory';

export interface DevCertificates {
  layout: DevFederationLayout;
  directoryPath: string;
}

/** Issues (or keeps) the development PKI and writes the directory beside it. Idempotent. */
export async function ensureDevCertificates(
  directory: string,
  states: DevStateDescription[],
): Promise<DevCertificates> {
  const layout = await createDevFederation({
    directory,
    states: states.map(({ code, suite }) => ({ code, suite })),
  });
  const directoryPath = join(directory, 'directory.json');
  writeFileSync(directoryPath, `${JSON.stringify(buildDevDirectory(layout, states), null, 2)}\n`);
  return { layout, directoryPath };
}
