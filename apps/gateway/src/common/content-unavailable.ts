import { ConflictException } from '@nestjs/common';
import { ProtocolError } from '@comity/protocol';

/** Stored content that cannot be opened with the keys this node holds now: say why, never a bare 500. */
export function contentUnavailable(id: string, error: unknown): Error {
  if (!(error instanceof ProtocolError))
    return error instanceof Error ? error : new Error(String(error));
  return new ConflictException(
    `the content of message ${id} cannot be opened: ${error.reason}: ${error.message}`,
  );
}
