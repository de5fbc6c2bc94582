import { GoneException } from '@nestjs/common';

/** A stored message as far as its content goes: the envelope, unless it was purged. */
export interface StoredContent {
  id: string;
  envelope: Buffer | null;
  contentPurgedAt?: Date | null;
}

/** 410 Gone: the content was purged under the retention policy, and when. */
export function contentPurged(row: Pick<StoredContent, 'id' | 'contentPurgedAt'>): GoneException {
  const on = row.contentPurgedAt ? row.contentPurgedAt.toISOString() : 'an unrecorded date';
  return new GoneException(
    `the content of message ${row.id} was purged under the retention policy on ${on}; its metadata, receipt and evidence remain`,
  );
}

/** The envelope of a message whose content is still held; 410 Gone once it was purged. */
export function requireEnvelope(row: StoredContent): Buffer {
  if (row.envelope === null || row.contentPurgedAt) throw contentPurged(row);
  return row.envelope;
}
