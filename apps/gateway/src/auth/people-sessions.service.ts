import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { PersonSessionRepository } from '../persistence/person-session.repository';
import { AccountRegistry } from './accounts';
import { AuditLog } from './audit-log.service';
import { UNKNOWN_ACCOUNT_HASH, verifyPassword } from './password-hash';
import type { Principal, Role } from './principal';

export const SESSION_COOKIE = 'comity_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface SignedIn {
  /** Goes to the person's browser in an HttpOnly cookie only; the node keeps its SHA-256. */
  token: string;
  principal: Principal;
  csrfToken: string;
  expiresAt: Date;
}

export type SessionCheck =
  | { ok: true; principal: Principal; csrfToken: string; expiresAt: Date }
  | { ok: false; status: 401 | 403; reason: string };

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * People signed in to the workspace: sign-in with a password (scrypt), server-side sessions
 * ended after idleness or a maximum age, a CSRF token per session required on every request
 * that changes something, and accounts locked for a while after repeated failures. Every
 * sign-in, failure, lockout and sign-out is in the audit log; passwords never are.
 */
@Injectable()
export class PeopleSessions {
  private readonly logger = new Logger(PeopleSessions.name);
  private readonly accounts: AccountRegistry;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly sessions: PersonSessionRepository,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {
    this.accounts = config.accountsPath
      ? AccountRegistry.fromFile(config.accountsPath)
      : AccountRegistry.empty();
  }

  /** A session for a person whose password matches, or null (the reason is in the audit log). */
  async signIn(
    username: string,
    password: string,
    client: string | null,
  ): Promise<SignedIn | null> {
    const now = this.clock.now();
    const { lockoutFailures, lockoutWindowMs, maxMs } = this.config.sessions;
    const account = this.accounts.find(username);
    const failures = await this.sessions.failuresSince(
      username,
      new Date(now.getTime() - lockoutWindowMs),
    );
    const locked = failures.count >= lockoutFailures;
    // Unknown names and locked accounts cost a hash too: the answer's timing tells nothing.
    const matches = await verifyPassword(
      password,
      locked || !account ? UNKNOWN_ACCOUNT_HASH : account.passwordHash,
    );
    if (!account || locked || !matches) {
      await this.sessions.recordFailure(username, now);
      const reason = locked
        ? `account locked after ${failures.count} failed sign-ins within ${lockoutWindowMs / 60_000} min`
        : account
          ? 'wrong password'
          : 'unknown username';
      if (!locked && account && failures.count + 1 >= lockoutFailures) {
        this.logger.warn(`account ${username} locked after ${failures.count + 1} failed sign-ins`);
      }
      await this.audit.denial({
        principal: username,
        role: account?.role ?? null,
        action: 'POST /v1/session',
        status: 401,
        reason,
        client,
      });
      return null;
    }
    await this.sessions.clearFailures(username);
    await this.sessions.removeExpired(now, new Date(now.getTime() - lockoutWindowMs));
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + maxMs);
    const principal: Principal = {
      id: account.id,
      role: account.role,
      authority: account.authority,
    };
    await this.sessions.create({
      tokenSha256: sha256(token),
      username: account.id,
      role: account.role,
      authority: account.authority,
      csrfToken,
      createdAt: now,
      lastSeenAt: now,
      expiresAt,
    });
    await this.audit.action({
      principal: account.id,
      role: account.role,
      action: 'POST /v1/session',
      outcome: 'signed in',
      reason: `from ${client ?? 'unknown'}`,
    });
    return { token, principal, csrfToken, expiresAt };
  }

  /**
   * The person behind a session cookie, for a request of `method`: refused when the session is
   * unknown, idle too long or too old, or (for a request that changes something) without its
   * CSRF token.
   */
  async check(
    token: string,
    method: string,
    csrfHeader: string | undefined,
  ): Promise<SessionCheck> {
    const now = this.clock.now();
    const session = await this.sessions.find(sha256(token));
    if (!session) return { ok: false, status: 401, reason: 'no such session: sign in again' };
    const idleUntil = session.lastSeenAt.getTime() + this.config.sessions.idleMs;
    if (session.expiresAt.getTime() <= now.getTime() || idleUntil <= now.getTime()) {
      await this.sessions.remove(session.tokenSha256);
      return { ok: false, status: 401, reason: 'session expired: sign in again' };
    }
    if (!SAFE_METHODS.has(method) && !(csrfHeader && sameSecret(csrfHeader, session.csrfToken))) {
      return {
        ok: false,
        status: 403,
        reason: `CSRF token missing or wrong: send the session's ${CSRF_HEADER} header`,
      };
    }
    // Kept alive by use, written at most once a minute.
    if (now.getTime() - session.lastSeenAt.getTime() > 60_000)
      await this.sessions.touch(session.tokenSha256, now);
    return {
      ok: true,
      principal: { id: session.username, role: session.role as Role, authority: session.authority },
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt,
    };
  }

  async signOut(token: string, principal: Principal): Promise<void> {
    await this.sessions.remove(sha256(token));
    await this.audit.action({
      principal: principal.id,
      role: principal.role,
      action: 'DELETE /v1/session',
      outcome: 'signed out',
      reason: '',
    });
  }
}

/** The value of one cookie in a Cookie header, if present. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}
