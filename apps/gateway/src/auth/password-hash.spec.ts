import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountRegistry } from './accounts';
import {
  UNKNOWN_ACCOUNT_HASH,
  hashPassword,
  isPasswordHash,
  verifyPassword,
} from './password-hash';

describe('password hashes (scrypt)', () => {
  it('verifies the password it hashed and nothing else; salts differ', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', hash)).toBe(false);
    expect(await hashPassword('correct horse battery staple')).not.toBe(hash);
    expect(await verifyPassword('', UNKNOWN_ACCOUNT_HASH)).toBe(false);
  });

  it.each([
    [
      'a cost too low',
      'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    ],
    [
      'a cost that would exhaust memory',
      'scrypt$67108864$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    ],
    [
      'N not a power of two',
      'scrypt$30000$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    ],
    ['a plain SHA-256', 'n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg'],
  ])('refuses %s as a stored hash', async (_name, hash) => {
    expect(isPasswordHash(hash)).toBe(false);
    expect(await verifyPassword('anything', hash)).toBe(false);
  });
});

describe('AccountRegistry', () => {
  const file = (document: unknown): string => {
    const path = join(mkdtempSync(join(tmpdir(), 'comity-accounts-')), 'accounts.json');
    writeFileSync(path, JSON.stringify(document));
    return path;
  };

  it('reads accounts, and names what is wrong in a bad file', async () => {
    const passwordHash = await hashPassword('x');
    const registry = AccountRegistry.fromFile(
      file({
        accounts: [
          { username: 'fr-clerk', role: 'clerk', authority: 'fr-central-authority', passwordHash },
        ],
      }),
    );
    expect(registry.find('fr-clerk')).toMatchObject({
      role: 'clerk',
      authority: 'fr-central-authority',
    });
    expect(() => AccountRegistry.fromFile(file({ people: [] }))).toThrow(
      'must hold {"accounts": [...]}',
    );
    expect(() =>
      AccountRegistry.fromFile(
        file({ accounts: [{ username: 'fr-clerk', role: 'clerk', passwordHash }] }),
      ),
    ).toThrow("accounts[0].authority must name the clerk's authority");
    expect(() =>
      AccountRegistry.fromFile(
        file({ accounts: [{ username: 'op', role: 'operator', passwordHash: 'secret' }] }),
      ),
    ).toThrow('accounts[0].passwordHash must be a scrypt hash');
    expect(() =>
      AccountRegistry.fromFile(
        file({
          accounts: [
            { username: 'op', role: 'operator', passwordHash },
            { username: 'op', role: 'auditor', passwordHash },
          ],
        }),
      ),
    ).toThrow('accounts[1].username repeats op');
  });
});
