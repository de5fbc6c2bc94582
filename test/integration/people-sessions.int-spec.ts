import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../apps/gateway/src/auth/audit-log.service';
import { hashPassword } from '../../apps/gateway/src/auth/password-hash';
import { PeopleSessions } from '../../apps/gateway/src/auth/people-sessions.service';
import type { Clock } from '../../apps/gateway/src/common/clock';
import type { GatewayConfig } from '../../apps/gateway/src/config/gateway-config';
import { AuditEventRepository } from '../../apps/gateway/src/persistence/audit-event.repository';
import { Database } from '../../apps/gateway/src/persistence/database';
import { PersonSessionRepository } from '../../apps/gateway/src/persistence/person-session.repository';
import { migratedDatabase, type MigratedDatabase } from '../support/migrated-database';

describe('people sessions in PostgreSQL under a controlled clock', () => {
  let database: MigratedDatabase;
  let now = new Date('2027-01-10T09:00:00Z');
  let people: PeopleSessions;

  beforeAll(async () => {
    database = await migratedDatabase('comity_people');
    const accountsPath = join(mkdtempSync(join(tmpdir(), 'comity-people-')), 'accounts.json');
    writeFileSync(
      accountsPath,
      JSON.stringify({
        accounts: [
          {
            username: 'at-clerk',
            role: 'clerk',
            authority: 'at-central-authority',
            passwordHash: await hashPassword('pw'),
          },
        ],
      }),
    );
    const clock = { now: () => now } as Clock;
    const db = new Database(database.dataSource);
    people = new PeopleSessions(
      {
        accountsPath,
        sessions: {
          idleMs: 30 * 60_000,
          maxMs: 8 * 3_600_000,
          lockoutFailures: 5,
          lockoutWindowMs: 15 * 60_000,
        },
      } as GatewayConfig,
      new PersonSessionRepository(db),
      new AuditLog(new AuditEventRepository(db), clock),
      clock,
    );
  }, 60_000);

  afterAll(async () => {
    await database?.dispose();
  });

  it('ends a session after 30 idle minutes, and after 8 hours however busy', async () => {
    const idle = await people.signIn('at-clerk', 'pw', null);
    expect(idle).not.toBeNull();
    now = new Date(now.getTime() + 29 * 60_000);
    expect((await people.check(idle!.token, 'GET', undefined)).ok).toBe(true);
    now = new Date(now.getTime() + 31 * 60_000); // last seen 29 min ago was written (> 1 min)
    expect((await people.check(idle!.token, 'GET', undefined)).ok).toBe(false);

    const busy = await people.signIn('at-clerk', 'pw', null);
    for (let hour = 0; hour < 8; hour += 1) {
      now = new Date(now.getTime() + 20 * 60_000);
      expect((await people.check(busy!.token, 'GET', undefined)).ok).toBe(true);
      now = new Date(now.getTime() + 20 * 60_000);
      expect((await people.check(busy!.token, 'GET', undefined)).ok).toBe(true);
      now = new Date(now.getTime() + 20 * 60_000);
      const check = await people.check(busy!.token, 'GET', undefined);
      if (hour < 7) expect(check.ok).toBe(true);
      else
        expect(check).toEqual({ ok: false, status: 401, reason: 'session expired: sign in again' });
    }
  });

  it('unlocks an account once its failures are older than the window', async () => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      expect(await people.signIn('at-clerk', 'wrong', null)).toBeNull();
    }
    expect(await people.signIn('at-clerk', 'pw', null)).toBeNull();
    now = new Date(now.getTime() + 16 * 60_000);
    expect(await people.signIn('at-clerk', 'pw', null)).not.toBeNull();
  });
});
