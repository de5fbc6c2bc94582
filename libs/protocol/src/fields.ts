import { ProtocolError, type ReasonCode } from './protocol-error';

/**
 * Small readers for untrusted JSON. Each names the field it rejects, so a peer (or the
 * operator reading the quarantine) knows exactly what was wrong.
 */
export class FieldReader {
  constructor(
    private readonly reason: ReasonCode,
    private readonly prefix: string,
  ) {}

  /** A reader for a nested object, whose messages name the full path (`header.to.state`). */
  nested(field: string): FieldReader {
    return new FieldReader(this.reason, `${this.prefix}.${field}`);
  }

  fail(field: string, expectation: string): never {
    throw new ProtocolError(this.reason, `${this.prefix}.${field} ${expectation}`);
  }

  object(source: Record<string, unknown>, field: string): Record<string, unknown> {
    const value = source[field];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(field, 'must be an object');
    }
    return value as Record<string, unknown>;
  }

  string(
    source: Record<string, unknown>,
    field: string,
    pattern?: RegExp,
    maxChars = 1024,
  ): string {
    const value = source[field];
    if (typeof value !== 'string') this.fail(field, 'must be a string');
    if (value.length > maxChars) this.fail(field, `must be at most ${maxChars} characters`);
    if (pattern && !pattern.test(value)) this.fail(field, `must match ${pattern}`);
    return value;
  }

  optionalString(
    source: Record<string, unknown>,
    field: string,
    pattern?: RegExp,
    maxChars = 1024,
  ): string | null {
    return source[field] === undefined || source[field] === null
      ? null
      : this.string(source, field, pattern, maxChars);
  }

  oneOf<T extends string>(source: Record<string, unknown>, field: string, values: readonly T[]): T {
    const value = source[field];
    if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
      this.fail(field, `must be one of ${values.join(', ')}`);
    }
    return value as T;
  }

  /** A UTC timestamp, returned exactly as written (what was signed), after checking it is a real instant. */
  timestamp(source: Record<string, unknown>, field: string): string {
    const text = this.string(source, field, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/);
    const date = new Date(text);
    // Date rolls impossible days over (2026-02-30 becomes 2026-03-02): insist on a round trip.
    if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 19) !== text.slice(0, 19)) {
      this.fail(field, 'must be a valid UTC timestamp');
    }
    return text;
  }

  integer(source: Record<string, unknown>, field: string, min: number, max: number): number {
    const value = source[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(field, `must be an integer from ${min} to ${max}`);
    }
    return value;
  }

  onlyMembers(source: Record<string, unknown>, allowed: readonly string[], where = ''): void {
    for (const key of Object.keys(source)) {
      if (!allowed.includes(key)) {
        throw new ProtocolError(
          this.reason,
          `${this.prefix}${where ? `.${where}` : ''} has an unknown member "${key}"`,
        );
      }
    }
  }
}
