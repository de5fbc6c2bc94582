import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBase64Url } from '@comity/jose';
import { sha256Base64Url } from '@comity/protocol';

export type DevPrincipal = 'central-clerk' | 'extradition-clerk' | 'operator' | 'auditor';

/**
 * Development API keys of one State's gateway: a clerk for each of its two authorities, an
 * operator and an auditor. The gateway gets only the SHA-256 of each key (api-keys.json); the
 * keys themselves go to api-keys.secret.json (mode 0600, DEVELOPMENT ONLY) for the demo,
 * the CLI and the tests. Kept if they exist.
 */
export function ensureDevApiKeys(
  stateDirectory: string,
  state: string,
): { registryPath: string; secretsPath: string } {
  const registryPath = join(stateDirectory, 'api-keys.json');
  const secretsPath = join(stateDirectory, 'api-keys.secret.json');
  if (existsSync(registryPath) && existsSync(secretsPath)) return { registryPath, secretsPath };
  const lower = state.toLowerCase();
  const principals: Array<{ id: DevPrincipal; role: string; authority?: string }> = [
    { id: 'central-clerk', role: 'clerk', authority: `${lower}-central-authority` },
    { id: 'extradition-clerk', role: 'clerk', authority: `${lower}-extradition-authority` },
    { id: 'operator', role: 'operator' },
    { id: 'auditor', role: 'auditor' },
  ];
  const secrets: Record<string, string> = {};
  const registry = principals.map((principal) => {
    const key = `comity_${encodeBase64Url(randomBytes(32))}`;
    secrets[principal.id] = key;
    return { ...principal, id: `${lower}-${principal.id}`, keySha256: sha256Base64Url(key) };
  });
  writeFileSync(secretsPath, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(registryPath, `${JSON.stringify({ principals: registry }, null, 2)}\n`, {
    mode: 0o644,
  });
  return { registryPath, secretsPath };
}

/** A development API key, read from the State's secret file. */
export function devApiKey(stateDirectory: string, principal: DevPrincipal): string {
  const secrets = JSON.parse(
    readFileSync(join(stateDirectory, 'api-keys.secret.json'), 'utf8'),
  ) as Record<string, string>;
  const key = secrets[principal];
  if (!key) throw new Error(`no development API key for ${principal} in ${stateDirectory}`);
  return key;
}
