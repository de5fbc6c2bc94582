import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { RequestContent } from '@comity/protocol';
import type { AttachmentRow } from '../persistence/attachment-upload.repository';

/** An upload as its clerk sees it: what is there, what is missing (to resume), and the digest once complete. */
export class AttachmentView {
  @ApiProperty() id!: string;
  @ApiProperty() filename!: string;
  @ApiProperty() mediaType!: string;
  @ApiProperty({ description: 'Bytes of the whole file' }) size!: number;
  @ApiProperty({ description: 'Bytes of each chunk to PUT (the last one holds the rest)' })
  chunkSize!: number;
  @ApiProperty({ description: 'Number of chunks: indexes 0 … chunks-1' }) chunks!: number;
  @ApiProperty({ enum: ['uploading', 'complete'] }) status!: 'uploading' | 'complete';
  @ApiProperty() receivedChunks!: number;
  @ApiProperty({
    description: 'Chunk indexes still to upload, as inclusive ranges [first, last]',
    example: [[3, 7]],
  })
  missingChunks!: Array<[number, number]>;
  @ApiPropertyOptional({
    nullable: true,
    description: 'base64url SHA-256 of the file, once complete',
  })
  sha256!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional({ nullable: true }) completedAt!: string | null;
}

export class ChunkStoredView {
  @ApiProperty() index!: number;
  @ApiProperty({ description: 'false when this chunk was already stored with the same bytes' })
  stored!: boolean;
}

export function attachmentView(row: AttachmentRow, present: number[]): AttachmentView {
  return {
    id: row.id,
    filename: row.filename,
    mediaType: row.mediaType,
    size: row.size,
    chunkSize: row.chunkSize,
    chunks: row.chunks,
    status: row.status,
    receivedChunks: present.length,
    missingChunks: missingRanges(present, row.chunks),
    sha256: row.sha256,
    createdAt: row.createdAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
  };
}

/** The indexes of 0..count-1 absent from the sorted list `present`, as inclusive ranges. */
export function missingRanges(present: number[], count: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let next = 0;
  for (const index of present) {
    if (index >= count) break;
    if (index > next) ranges.push([next, index - 1]);
    next = Math.max(next, index + 1);
  }
  if (next < count) ranges.push([next, count - 1]);
  return ranges;
}

/**
 * Content as the API shows it: large attachments without their file keys (the API streams
 * the decrypted file instead, at …/attachments/{index}). Keys stay inside the encrypted content.
 */
export function contentForView(content: RequestContent): RequestContent {
  if (!content.largeAttachments) return content;
  return {
    ...content,
    largeAttachments: content.largeAttachments.map((attachment) => ({
      ...attachment,
      key: '(withheld)',
    })),
  };
}
