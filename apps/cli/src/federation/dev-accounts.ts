import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashPassword } from '../../../gateway/src/auth/password-hash';

export type DevPerson = 'clerk' | 'extradition-clerk' | 'operator' | 'auditor';

/**
 * Development accounts of one State's workspace: a clerk for each of its two authorities, an
 * operator and an auditor, named `<state>-<person>`. The gateway gets only their scrypt hashes
 * (accounts.json); the passwords go to accounts.secret.json (mode 0600, DEVELOPMENT ONLY) for
 * the demo and the tests. Kept if they exist.
 */
export async function ensureDevAccounts(
  stateDirectory: string,
  state: string,
): Promise<{ accountsPath: string; secretsPath: string }> {
  const accountsPath = join(stateDirectory, 'accounts.json');
  const secretsPath = join(stateDirectory, 'accounts.secret.json');
  if (existsSync(accountsPath) && existsSync(secretsPath)) return { accountsPath, secretsPath };
  const lower = state.toLowerCase();
  const people: Array<{ person: DevPerson; role: string; authority?: string }> = [
    { person: 'clerk', role: 'clerk', authority: `${lower}-central-authority` },
    { person: 'extradition-clerk', role: 'clerk', authority: `${lower}-extradition-authority` },
    { person: 'operator', role: 'operator' },
    { person: 'auditor', role: 'auditor' },
  ];
  const secrets: Record<string, string> = {};
  const accounts = [];
  for (const { person, ...rest } of people) {
    const username = `${lower}-${person}`;
    const password = randomBytes(12).toString('base64url');
    secrets[username] = password;
    accounts.push({ username, ...rest, passwordHash: await hashPassword(password) });
  }
  writeFileSync(secretsPath, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(accountsPath, `${JSON.stringify({ accounts }, null, 2)}\n`, { mode: 0o644 });
  return { accountsPath, secretsPath };
}

/** A development account's username and password, from the State's secret file. */
export function devAccount(
  stateDirectory: string,
  state: string,
  person: DevPerson,
): { username: string; password: string } {
  const secrets = JSON.parse(
    readFileSync(join(stateDirectory, 'accounts.secret.json'), 'utf8'),
  ) as Record<string, string>;
  const username = `${state.toLowerCase()}-${person}`;
  const password = secrets[username];
  if (!password) throw new Error(`no development account ${username} in ${stateDirectory}`);
  return { username, password };
}
