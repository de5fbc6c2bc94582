import { NotFoundException } from '@nestjs/common';
import type { Principal } from './principal';

/** The authority whose messages a principal may see: its own for a clerk, all for the others. */
export function authorityScope(principal: Principal): string | undefined {
  return principal.role === 'clerk' ? (principal.authority ?? undefined) : undefined;
}

/**
 * Refuses a message outside the principal's scope as "not found": a clerk learns nothing about
 * other authorities' requests, not even that they exist.
 */
export function requireInScope(principal: Principal, authority: string, id: string): void {
  const scope = authorityScope(principal);
  if (scope !== undefined && scope !== authority) throw new NotFoundException(`no message ${id}`);
}

/** Only the clerk of the authority concerned reads content; operators and auditors never do. */
export function mayReadContent(principal: Principal): boolean {
  return principal.role === 'clerk';
}
