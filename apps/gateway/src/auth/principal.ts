import { readFileSync } from 'node:fs';
import { AUTHORITY_ID, sha256Base64Url } from '@comity/protocol';

export const ROLES = ['clerk', 'operator', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who is calling the API. A clerk acts for one authority and sees only its requests; an
 * operator sees metadata, never content; an auditor sees evidence and the audit log.
 */
export interface Principal {
  id: string;
  role: Role;
  /** The clerk's authority; absent for operators and auditors. */
  authority: string | null;
}

interface PrincipalEntry extends Principal {
  /** base64url SHA-256 of the API key: keys are 256-bit random, so a fast hash is enough at rest. */
  keySha256: string;
}

/** The API key file: principals with the SHA-256 of their key, never the key itself. */
export class ApiKeyRegistry {
  private readonly byDigest = new Map<string, Principal>();

  constructor(entries: PrincipalEntry[]) {
    for (const { keySha256, ...principal } of entries) this.byDigest.set(keySha256, principal);
  }

  static fromFile(path: string): ApiKeyRegistry {
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new Error(`COMITY_API_KEYS: cannot read ${path} (${(error as Error).message})`, {
        cause: error,
      });
    }
    const principals = (document as { principals?: unknown }).principals;
    if (!Array.isArray(principals))
      throw new Error(`COMITY_API_KEYS: ${path} must hold {"principals": [...]}`);
    return new ApiKeyRegistry(
      principals.map((raw, index) => {
        const entry = raw as Record<string, unknown>;
        const where = `COMITY_API_KEYS: ${path}: principals[${index}]`;
        if (typeof entry.id !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(entry.id))
          throw new Error(`${where}.id must be a plain name`);
        if (!ROLES.includes(entry.role as Role))
          throw new Error(`${where}.role must be one of ${ROLES.join(', ')}`);
        if (
          entry.role === 'clerk' &&
          (typeof entry.authority !== 'string' || !AUTHORITY_ID.test(entry.authority))
        ) {
          throw new Error(`${where}.authority must name the clerk's authority`);
        }
        if (typeof entry.keySha256 !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(entry.keySha256)) {
          throw new Error(`${where}.keySha256 must be the base64url SHA-256 of the key`);
        }
        return {
          id: entry.id,
          role: entry.role as Role,
          authority: entry.role === 'clerk' ? (entry.authority as string) : null,
          keySha256: entry.keySha256,
        };
      }),
    );
  }

  /** The principal holding this key, if any. */
  lookup(apiKey: string): Principal | undefined {
    return this.byDigest.get(sha256Base64Url(apiKey));
  }
}
