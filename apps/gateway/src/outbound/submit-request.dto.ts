import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBase64,
  IsIn,
  IsISO8601,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import {
  ATTACHMENT_FILENAME,
  AUTHORITY_ID,
  CONTENT_LIMITS,
  LARGE_ATTACHMENT_LIMITS,
  MEDIA_TYPE,
  MESSAGE_KINDS_V1,
  STATE_CODE,
  URGENCIES,
  type MessageKind,
  type Urgency,
} from '@comity/protocol';

export class RecipientDto {
  @ApiProperty({ example: 'FR', description: 'ISO 3166 alpha-2 code of the recipient State' })
  @IsString()
  @Matches(STATE_CODE, { message: 'state must be an ISO 3166 alpha-2 code such as FR' })
  state!: string;

  @ApiProperty({
    example: 'fr-central-authority',
    description: 'Authority id from the federation directory',
  })
  @IsString()
  @Matches(AUTHORITY_ID, {
    message: 'authority must be an authority id from the directory',
  })
  authority!: string;
}

export class InlineAttachmentDto {
  @ApiProperty({ example: 'letter-rogatory.pdf' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(CONTENT_LIMITS.attachmentFilenameChars)
  @Matches(ATTACHMENT_FILENAME, {
    message: 'filename must be a plain file name (no path, no control characters)',
  })
  filename!: string;

  @ApiProperty({ example: 'application/pdf' })
  @IsString()
  @Matches(MEDIA_TYPE, { message: 'mediaType must be a media type such as application/pdf' })
  mediaType!: string;

  @ApiProperty({ description: 'The file, standard base64' })
  @IsBase64({}, { message: 'data must be standard base64' })
  data!: string;
}

export class SubmitRequestDto {
  @ApiProperty({
    enum: MESSAGE_KINDS_V1,
    example: 'mla_request',
    description: 'A request, or a free message; case messages are sent as actions on their case',
  })
  @IsIn(MESSAGE_KINDS_V1, {
    message: `kind must be one of ${MESSAGE_KINDS_V1.join(', ')} (case messages: POST /v1/cases/{id}/actions)`,
  })
  kind!: MessageKind;

  @ApiProperty({
    example: 'at-central-authority',
    description: "The sending authority, one of this State's in the directory",
  })
  @IsString()
  @Matches(AUTHORITY_ID, { message: 'senderAuthority must be an authority id from the directory' })
  senderAuthority!: string;

  @ApiProperty({ type: RecipientDto })
  @ValidateNested()
  @Type(() => RecipientDto)
  recipient!: RecipientDto;

  @ApiProperty({ example: 'UNCAC art. 46; bilateral MLA treaty of 2004' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(CONTENT_LIMITS.legalBasisChars)
  legalBasis!: string;

  @ApiProperty({ enum: URGENCIES, example: 'urgent' })
  @IsIn(URGENCIES)
  urgency!: Urgency;

  @ApiPropertyOptional({
    example: '2027-01-31',
    description: 'Date by which execution is requested',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'deadline must be a date such as 2027-01-31' })
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'deadline must be a date such as 2027-01-31' })
  deadline?: string;

  @ApiProperty({ example: 'Bank records of account AT00 1234' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(CONTENT_LIMITS.subjectChars)
  subject!: string;

  @ApiPropertyOptional({
    example: 'The Central Authority of Austria requests ...',
    description:
      'The request in free text; required unless `request` is given, and then not allowed (its free text goes in request.freeText)',
  })
  @ValidateIf((dto: SubmitRequestDto) => dto.request === undefined || dto.body !== undefined)
  @IsString()
  @IsNotEmpty()
  @MaxLength(CONTENT_LIMITS.bodyChars)
  body?: string;

  @ApiPropertyOptional({
    description:
      'A structured request (protocol §9; requests only): the named fields of UNCAC art. 46(15). Checked for completeness against the table of GET /v1/requests/form; the body is rendered from it',
    type: 'object',
    additionalProperties: true,
  })
  @IsOptional()
  @IsObject({ message: 'request must be an object (a structured request)' })
  request?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: [InlineAttachmentDto],
    description: 'Small files inline (5 MiB in all)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(CONTENT_LIMITS.attachments)
  @ValidateNested({ each: true })
  @Type(() => InlineAttachmentDto)
  attachments?: InlineAttachmentDto[];

  @ApiPropertyOptional({
    type: [String],
    description:
      'Large files sent by reference: ids of completed uploads (POST /v1/attachments) of this clerk, at most 10',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(LARGE_ATTACHMENT_LIMITS.attachments)
  @IsUUID(7, { each: true, message: 'each attachmentRefs entry must be an attachment id (UUIDv7)' })
  attachmentRefs?: string[];

  @ApiPropertyOptional({ description: 'Thread this message belongs to; defaults to its own id' })
  @IsOptional()
  @IsUUID(7)
  threadId?: string;

  @ApiPropertyOptional({ description: 'The message this one answers' })
  @IsOptional()
  @IsUUID(7)
  inReplyTo?: string;
}
