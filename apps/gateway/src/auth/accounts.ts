import { readFileSync } from 'node:fs';
import { AUTHORITY_ID } from '@comity/protocol';
import { isPasswordHash } from './password-hash';
import { ROLES, type Principal, type Role } from './principal';

export interface Account extends Principal {
  passwordHash: string;
}

/**
 * The people who may sign in to the workspace: `{"accounts": [{"username", "role",
 * "authority"?, "passwordHash"}]}`, hashes only (`comity accounts hash` makes one). Machines
 * keep their API keys.
 */
export class AccountRegistry {
  private readonly byName = new Map<string, Account>();

  constructor(accounts: Account[]) {
    for (const account of accounts) this.byName.set(account.id, account);
  }

  static empty(): AccountRegistry {
    return new AccountRegistry([]);
  }

  static fromFile(path: string): AccountRegistry {
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new Error(`COMITY_ACCOUNTS: cannot read ${path} (${(error as Error).message})`, {
        cause: error,
      });
    }
    const accounts = (document as { accounts?: unknown }).accounts;
    if (!Array.isArray(accounts)) {
      throw new Error(`COMITY_ACCOUNTS: ${path} must hold {"accounts": [...]}`);
    }
    const seen = new Set<string>();
    return new AccountRegistry(
      accounts.map((raw, index) => {
        const entry = raw as Record<string, unknown>;
        const where = `COMITY_ACCOUNTS: ${path}: accounts[${index}]`;
        if (
          typeof entry.username !== 'string' ||
          !/^[a-z0-9][a-z0-9._-]{1,63}$/.test(entry.username)
        )
          throw new Error(`${where}.username must be a lower-case name of 2 to 64 characters`);
        if (seen.has(entry.username))
          throw new Error(`${where}.username repeats ${entry.username}`);
        seen.add(entry.username);
        if (!ROLES.includes(entry.role as Role))
          throw new Error(`${where}.role must be one of ${ROLES.join(', ')}`);
        if (
          entry.role === 'clerk' &&
          (typeof entry.authority !== 'string' || !AUTHORITY_ID.test(entry.authority))
        ) {
          throw new Error(`${where}.authority must name the clerk's authority`);
        }
        if (!isPasswordHash(entry.passwordHash)) {
          throw new Error(`${where}.passwordHash must be a scrypt hash (scrypt$N$r$p$salt$hash)`);
        }
        return {
          id: entry.username,
          role: entry.role as Role,
          authority: entry.role === 'clerk' ? (entry.authority as string) : null,
          passwordHash: entry.passwordHash,
        };
      }),
    );
  }

  find(username: string): Account | undefined {
    return this.byName.get(username);
  }
}
