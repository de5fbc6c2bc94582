import { join } from 'node:path';
import { devFederationLayout } from '@comity/pki';
import type { DevCertificates } from '../../apps/cli/src/federation/dev-certificates';
import { DEV_STATES } from '../../apps/cli/src/federation/dev-directory';
import { repoRoot } from '../../apps/cli/src/federation/repo-root';

/** The test federation's PKI, issued once by jest's global setup and reused by every file. */
export const TEST_PKI_DIRECTORY = join(repoRoot(__dirname), 'test-output', 'pki');

/**
 * The paths of the test PKI. Only read here: the global setup wrote it before the files ran
 * in parallel, and writing it again from several workers at once could tear the files.
 */
export function testPki(): Promise<DevCertificates> {
  return Promise.resolve({
    layout: devFederationLayout(
      TEST_PKI_DIRECTORY,
      DEV_STATES.map((state) => state.code),
    ),
    directoryPath: join(TEST_PKI_DIRECTORY, 'directory.jws'),
    directoryDocumentPath: join(TEST_PKI_DIRECTORY, 'directory.json'),
  });
}
