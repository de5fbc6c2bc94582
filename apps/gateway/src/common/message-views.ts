import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { RequestContent } from '@comity/protocol';

export class PartyView {
  @ApiProperty() state!: string;
  @ApiProperty() authority!: string;
}

export class EvidenceView {
  @ApiProperty({ example: 'delivered' }) type!: string;
  @ApiProperty() at!: string;
  @ApiPropertyOptional({ nullable: true }) reason!: string | null;
  @ApiPropertyOptional({ nullable: true }) detail!: string | null;
}

export class MessageSummaryView {
  @ApiProperty() id!: string;
  @ApiProperty() kind!: string;
  @ApiProperty() thread!: string;
  @ApiPropertyOptional({ nullable: true }) inReplyTo!: string | null;
  @ApiProperty({ type: PartyView }) from!: PartyView;
  @ApiProperty({ type: PartyView }) to!: PartyView;
  @ApiProperty({ example: 'delivered' }) status!: string;
  @ApiPropertyOptional({ nullable: true }) statusReason!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() expiresAt!: string;
  @ApiProperty({ description: 'SHA-256 (base64url) of the exact envelope bytes' })
  envelopeDigest!: string;
}

export class MessageDetailView extends MessageSummaryView {
  @ApiProperty({ type: [EvidenceView] }) timeline!: EvidenceView[];
  @ApiPropertyOptional({ description: 'The decrypted, signature-checked content' })
  content?: RequestContent;
}

export class MessagePageView {
  @ApiProperty({ type: [MessageSummaryView] }) items!: MessageSummaryView[];
  @ApiPropertyOptional({ nullable: true, description: 'Pass as `before` to get the next page' })
  nextCursor!: string | null;
}

/** What a timeline entry needs of a stored evidence (the repository's rows have more). */
interface StoredEvidence {
  type: string;
  at: Date;
  reason: string | null;
  detail: string | null;
}

export function timelineOf(evidences: StoredEvidence[]): EvidenceView[] {
  return evidences.map((evidence) => ({
    type: evidence.type,
    at: evidence.at.toISOString(),
    reason: evidence.reason,
    detail: evidence.detail,
  }));
}

/** One page of a keyset-paginated list fetched with `limit + 1` rows: the extra row means "more". */
export function pageOf<T>(
  rows: T[],
  limit: number,
  view: (row: T) => MessageSummaryView,
): MessagePageView {
  const items = rows.slice(0, limit).map(view);
  return { items, nextCursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
}
