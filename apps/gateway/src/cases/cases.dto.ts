import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsISO8601,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  AUTHORITY_ID,
  CASE_DETAIL_LIMITS,
  CASE_MESSAGE_KINDS,
  CASE_STATES,
  CONTENT_LIMITS,
  LARGE_ATTACHMENT_LIMITS,
  REFUSAL_GROUNDS,
  REQUEST_KINDS,
  STATE_CODE,
  type MessageKind,
  type RefusalGround,
} from '@comity/protocol';
import { InlineAttachmentDto } from '../outbound/submit-request.dto';

/** What a clerk may send on a case: the case messages, and a supplementary request or a reply. */
export const CASE_ACTION_KINDS = [
  ...CASE_MESSAGE_KINDS,
  'supplementary_information',
  'reply',
] as const satisfies readonly MessageKind[];
export type CaseActionKind = (typeof CASE_ACTION_KINDS)[number];

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export class CaseActionDto {
  @ApiProperty({ enum: CASE_ACTION_KINDS, example: 'acknowledgement' })
  @IsIn(CASE_ACTION_KINDS, { message: `kind must be one of ${CASE_ACTION_KINDS.join(', ')}` })
  kind!: CaseActionKind;

  @ApiPropertyOptional({ description: 'A message of this case this one answers' })
  @IsOptional()
  @IsUUID(undefined, { message: 'inReplyTo must be the id of a message of this case' })
  inReplyTo?: string;

  @ApiPropertyOptional({
    description: 'The message in words (a default sentence per kind when absent)',
    maxLength: CONTENT_LIMITS.bodyChars,
  })
  @IsOptional()
  @IsString()
  @MaxLength(CONTENT_LIMITS.bodyChars)
  note?: string;

  @ApiPropertyOptional({ description: "acknowledgement: the requested State's reference number" })
  @IsOptional()
  @IsString()
  @MaxLength(CASE_DETAIL_LIMITS.referenceChars)
  reference?: string;

  @ApiPropertyOptional({
    example: '2027-03-31',
    description:
      'acknowledgement, status_report: the estimated completion; postponement: the new estimate (required)',
  })
  @IsOptional()
  @Matches(DATE, { message: 'estimatedCompletion must be a date (YYYY-MM-DD)' })
  estimatedCompletion?: string;

  @ApiPropertyOptional({ example: '2027-02-15', description: 'information_request: needed by' })
  @IsOptional()
  @Matches(DATE, { message: 'respondBy must be a date (YYYY-MM-DD)' })
  respondBy?: string;

  @ApiPropertyOptional({ enum: REFUSAL_GROUNDS, isArray: true, description: 'refusal (required)' })
  @IsOptional()
  @IsArray()
  @IsIn(REFUSAL_GROUNDS, {
    each: true,
    message: `grounds must be from ${REFUSAL_GROUNDS.join(', ')}`,
  })
  grounds?: RefusalGround[];

  @ApiPropertyOptional({
    description: 'refusal and postponement (required), withdrawal: the reasons',
  })
  @IsOptional()
  @IsString()
  @MaxLength(CASE_DETAIL_LIMITS.reasonsChars)
  reasons?: string;

  @ApiPropertyOptional({ type: [InlineAttachmentDto], description: 'Results or documents, inline' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(CONTENT_LIMITS.attachments)
  @ValidateNested({ each: true })
  @Type(() => InlineAttachmentDto)
  attachments?: InlineAttachmentDto[];

  @ApiPropertyOptional({ description: 'Completed uploads sent with the message (large results)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(LARGE_ATTACHMENT_LIMITS.attachments)
  @IsUUID(7, { each: true, message: 'each attachmentRefs entry must be an attachment id (UUIDv7)' })
  attachmentRefs?: string[];
}

const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

/** What both the case list and the statistics filter on: direction, counterpart State, kind. */
export class CaseScopeQueryDto {
  @ApiPropertyOptional({
    enum: ['outbound', 'inbound'],
    description: 'outbound: this State requested',
  })
  @IsOptional()
  @IsIn(['outbound', 'inbound'])
  direction?: 'outbound' | 'inbound';

  @ApiPropertyOptional({ example: 'FR' })
  @IsOptional()
  @Matches(STATE_CODE, { message: 'state must be an ISO 3166 alpha-2 code such as FR' })
  state?: string;

  @ApiPropertyOptional({ enum: REQUEST_KINDS })
  @IsOptional()
  @IsIn(REQUEST_KINDS)
  kind?: string;
}

export class CaseListQueryDto extends CaseScopeQueryDto {
  @ApiPropertyOptional({ example: 'fr-central-authority' })
  @IsOptional()
  @Matches(AUTHORITY_ID, { message: 'authority must be an authority id' })
  authority?: string;

  @ApiPropertyOptional({ enum: CASE_STATES, name: 'caseState' })
  @IsOptional()
  @IsIn(CASE_STATES, { message: `caseState must be one of ${CASE_STATES.join(', ')}` })
  caseState?: string;

  @ApiPropertyOptional({
    description: 'Only cases whose next step is overdue (true) or not (false)',
  })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'overdue must be true or false' })
  overdue?: boolean;

  @ApiPropertyOptional({ description: 'Only cases whose next step is due before this instant' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'dueBefore must be an ISO 8601 date or instant' })
  dueBefore?: string;

  @ApiPropertyOptional({ description: 'Text in the subject (clerks only)' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit: number = 50;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' })
  @IsOptional()
  @Matches(/^[0-2]:[0-9]+:[0-9a-f-]{36}$/, {
    message: 'cursor must be a nextCursor from a previous page',
  })
  cursor?: string;
}

export class StatisticsQueryDto extends CaseScopeQueryDto {
  @ApiPropertyOptional({
    example: '2026-01-01',
    description: 'Cases opened from this date (inclusive)',
  })
  @IsOptional()
  @Matches(DATE, { message: 'from must be a date (YYYY-MM-DD)' })
  from?: string;

  @ApiPropertyOptional({ example: '2027-01-01', description: 'Cases opened before this date' })
  @IsOptional()
  @Matches(DATE, { message: 'to must be a date (YYYY-MM-DD)' })
  to?: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'], default: 'json' })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}
