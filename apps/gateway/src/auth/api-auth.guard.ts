import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { AuditLog } from './audit-log.service';
import {
  CSRF_HEADER,
  PeopleSessions,
  SESSION_COOKIE,
  cookieValue,
} from './people-sessions.service';
import { ApiKeyRegistry, type Principal, type Role } from './principal';
import { PUBLIC_KEY, ROLES_KEY } from './roles.decorator';

/** A token bucket per caller: `rate` requests a second, bursts up to twice that. */
class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly rate: number) {}

  take(caller: string, now: number): boolean {
    const capacity = this.rate * 2;
    const bucket = this.buckets.get(caller) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    if (this.buckets.size > 10_000) this.buckets.clear();
    this.buckets.set(caller, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

/**
 * Every API call but the public ones needs `Authorization: Bearer <API key>` of a principal
 * whose role the route allows. Refusals (401, 403, 429) are written to the audit log.
 */
@Injectable()
export class ApiAuthGuard implements CanActivate {
  private readonly registry: ApiKeyRegistry;
  private readonly limiter: RateLimiter;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly reflector: Reflector,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly people: PeopleSessions,
  ) {
    this.registry = ApiKeyRegistry.fromFile(config.apiKeysPath);
    this.limiter = new RateLimiter(config.http.rateLimitPerSecond);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const request = context
      .switchToHttp()
      .getRequest<Request & { principal?: Principal; sessionToken?: string }>();
    const action = `${request.method} ${request.route?.path ?? request.path}`;
    const client = request.ip ?? null;
    const header = request.headers.authorization;
    const key =
      typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    let principal = key ? this.registry.lookup(key) : undefined;
    // People signed in to the workspace: a session cookie (and its CSRF token to change anything).
    let sessionRefusal: { status: 401 | 403; reason: string } | null = null;
    const sessionToken = key ? undefined : cookieValue(request.headers.cookie, SESSION_COOKIE);
    if (!principal && sessionToken) {
      const csrf = request.headers[CSRF_HEADER];
      const checked = await this.people.check(
        sessionToken,
        request.method,
        typeof csrf === 'string' ? csrf : undefined,
      );
      if (checked.ok) {
        principal = checked.principal;
        request.sessionToken = sessionToken;
      } else {
        sessionRefusal = checked;
      }
    }

    if (!this.limiter.take(principal?.id ?? `ip:${client}`, this.clock.now().getTime())) {
      await this.audit.denial({
        principal: principal?.id ?? null,
        role: principal?.role ?? null,
        action,
        status: 429,
        reason: 'rate limit',
        client,
      });
      throw new HttpException(
        'Too many requests; slow down and retry',
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    if (!principal && sessionRefusal) {
      await this.audit.denial({
        principal: null,
        role: null,
        action,
        status: sessionRefusal.status,
        reason: sessionRefusal.reason,
        client,
      });
      throw sessionRefusal.status === 401
        ? new UnauthorizedException(sessionRefusal.reason)
        : new ForbiddenException(sessionRefusal.reason);
    }
    if (!principal) {
      const reason = key ? 'unknown API key' : 'no API key';
      await this.audit.denial({ principal: null, role: null, action, status: 401, reason, client });
      throw new UnauthorizedException(
        `${reason}: send Authorization: Bearer <API key>, or sign in (POST /v1/session)`,
      );
    }
    const roles = this.reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets) ?? [];
    if (!roles.includes(principal.role)) {
      const reason = `role ${principal.role} may not ${action}`;
      await this.audit.denial({
        principal: principal.id,
        role: principal.role,
        action,
        status: 403,
        reason,
        client,
      });
      throw new ForbiddenException(reason);
    }
    request.principal = principal;
    return true;
  }
}
