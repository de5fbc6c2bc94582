import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Issues the test PKI once, before the test files run in parallel (issuance is not
 * concurrency-safe), through the built CLI: jest's global setup does not see the path aliases.
 */
export default function globalSetup(): void {
  const root = join(__dirname, '..', '..');
  const cli = join(root, 'dist', 'apps', 'cli', 'src', 'main.js');
  if (!existsSync(cli))
    throw new Error(`${cli} is missing: run "npm run build" first (npm test does)`);
  execFileSync(process.execPath, [cli, 'certs', 'dev', '--dir', join(root, 'test-output', 'pki')], {
    stdio: 'ignore',
  });
}
