const UNIQUE_VIOLATION = '23505';

/**
 * A write refused because the row is already there (a unique constraint): the caller decides
 * what that means (the same submit twice, a second retry). Raised instead of the driver's code,
 * so nothing outside `persistence/` knows PostgreSQL's error codes.
 */
export class DuplicateError extends Error {
  override readonly name = 'DuplicateError';
  /** The SQLSTATE, kept for logs and diagnostics; callers test `instanceof DuplicateError`. */
  readonly code = UNIQUE_VIOLATION;

  constructor(
    message: string,
    /** The constraint that refused it, when the database named one. */
    readonly constraint: string | null,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The driver's unique-violation error as a DuplicateError; any other error unchanged. */
export function asDuplicateError(error: unknown): unknown {
  const fields = error as { code?: unknown; constraint?: unknown; message?: unknown } | null;
  if (fields?.code !== UNIQUE_VIOLATION) return error;
  return new DuplicateError(
    typeof fields.message === 'string' ? fields.message : 'duplicate key',
    typeof fields.constraint === 'string' ? fields.constraint : null,
    { cause: error },
  );
}
