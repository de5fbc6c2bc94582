import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { AUTHORITY_ID, MESSAGE_KINDS, STATE_CODE } from '@comity/protocol';
import { OUTBOUND_STATUSES } from '../persistence/entities/outbound-message.entity';

/** `<envelope id>` or `<envelope id>:<rank>` (a `nextCursor`; see `MessageCursor`). */
const MESSAGE_CURSOR =
  /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(:[0-9]{1,19})?$/;

/** `limit` of an operations page: 1 to 200, 50 by default. */
const PageLimit = () =>
  applyDecorators(
    ApiPropertyOptional({ default: 50, minimum: 1, maximum: 200 }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(1),
    Max(200),
  );

/** Message search: every field optional, combined with AND; newest first, keyset-paginated. */
export class MessageSearchQueryDto {
  @ApiPropertyOptional({ enum: ['outbound', 'inbound'] })
  @IsOptional()
  @IsIn(['outbound', 'inbound'])
  direction?: 'outbound' | 'inbound';

  @ApiPropertyOptional({ description: 'Envelope id (UUID)' })
  @IsOptional()
  @IsUUID('all', { message: 'id must be an envelope id (a UUID)' })
  id?: string;

  @ApiPropertyOptional({ description: 'Peer State (ISO 3166 alpha-2)' })
  @IsOptional()
  @Matches(STATE_CODE, { message: 'state must be an ISO 3166 alpha-2 code such as FR' })
  state?: string;

  @ApiPropertyOptional({ description: 'An authority id, on either side' })
  @IsOptional()
  @Matches(AUTHORITY_ID, { message: 'authority must be an authority id from the directory' })
  authority?: string;

  @ApiPropertyOptional({ enum: MESSAGE_KINDS })
  @IsOptional()
  @IsIn(MESSAGE_KINDS, { message: `kind must be one of ${MESSAGE_KINDS.join(', ')}` })
  kind?: string;

  @ApiPropertyOptional({ enum: OUTBOUND_STATUSES })
  @IsOptional()
  @IsIn(OUTBOUND_STATUSES, { message: `status must be one of ${OUTBOUND_STATUSES.join(', ')}` })
  status?: string;

  @ApiPropertyOptional({ description: 'Created at or after (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 time' })
  since?: string;

  @ApiPropertyOptional({ description: 'Created before (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'until must be an ISO 8601 time' })
  until?: string;

  @PageLimit()
  limit: number = 50;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' })
  @IsOptional()
  @Matches(MESSAGE_CURSOR, { message: 'before must be the nextCursor of a previous page' })
  before?: string;
}

export class QuarantineQueryDto {
  @ApiPropertyOptional({ enum: ['held', 'released', 'discarded', 'all'], default: 'held' })
  @IsOptional()
  @IsIn(['held', 'released', 'discarded', 'all'])
  status: 'held' | 'released' | 'discarded' | 'all' = 'held';

  @PageLimit()
  limit: number = 50;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' })
  @IsOptional()
  @Matches(/^[0-9]{1,18}$/, { message: 'before must be the nextCursor of a previous page' })
  before?: string;
}

export class MessageLocatorDto {
  @IsIn(['outbound', 'inbound'], { message: 'direction must be outbound or inbound' })
  direction!: 'outbound' | 'inbound';

  @IsUUID('all', { message: 'id must be an envelope id (a UUID)' })
  id!: string;
}

export class QuarantineIdDto {
  @Matches(/^[0-9]{1,18}$/, { message: 'id must be the number of a quarantined message' })
  id!: string;
}

/** Every operator action says why: the reason goes to the audit log and the message's timeline. */
export class OperatorReasonDto {
  @ApiProperty({ minLength: 3, maxLength: 500, example: 'directory v8 raised the size limit' })
  @IsString()
  @MinLength(3, { message: 'reason must say why, in at least 3 characters' })
  @MaxLength(500)
  reason!: string;
}
