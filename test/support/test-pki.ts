import { join } from 'node:path';
import {
  ensureDevCertificates,
  type DevCertificates,
} from '../../apps/cli/src/federation/dev-certificates';
import { DEV_STATES } from '../../apps/cli/src/federation/dev-directory';
import { repoRoot } from '../../apps/cli/src/federation/repo-root';

/** The test federation's PKI, issued once by jest's global setup and reused by every file. */
export const TEST_PKI_DIRECTORY = join(repoRoot(__dirname), 'test-output', 'pki');

export function testPki(): Promise<DevCertificates> {
  return ensureDevCertificates(TEST_PKI_DIRECTORY, DEV_STATES);
}
