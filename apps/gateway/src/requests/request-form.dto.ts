import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { AUTHORITY_ID, REQUEST_KINDS, type RequestKind } from '@comity/protocol';
import { RecipientDto } from '../outbound/submit-request.dto';

/** A structured request being written: what the check and the letter of request need. */
export class RequestFormDto {
  @ApiProperty({ enum: REQUEST_KINDS, example: 'mla_request' })
  @IsIn(REQUEST_KINDS, { message: `kind must be one of ${REQUEST_KINDS.join(', ')}` })
  kind!: RequestKind;

  @ApiPropertyOptional({ type: RecipientDto, description: 'The counterpart, once chosen' })
  @IsOptional()
  @ValidateNested()
  @Type(() => RecipientDto)
  recipient?: RecipientDto;

  @ApiProperty({ description: 'The structured request (protocol §9), complete or not' })
  @IsObject({ message: 'request must be an object (a structured request)' })
  request!: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'File names attached so far (documents must name them)' })
  @IsOptional()
  @IsString({ each: true })
  filenames?: string[];
}

/** What the letter of request prints besides the structured request. */
export class LetterFormDto extends RequestFormDto {
  @ApiProperty({ example: 'at-central-authority' })
  @IsString()
  @Matches(AUTHORITY_ID, { message: 'senderAuthority must be an authority id from the directory' })
  senderAuthority!: string;

  @ApiProperty({ example: 'Bank records of account FR76 1234' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(300)
  subject!: string;

  @ApiPropertyOptional({ example: 'UNCAC art. 46' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  legalBasis?: string;

  @ApiPropertyOptional({ enum: ['routine', 'urgent', 'immediate'] })
  @IsOptional()
  @IsIn(['routine', 'urgent', 'immediate'])
  urgency?: 'routine' | 'urgent' | 'immediate';

  @ApiPropertyOptional({ example: '2027-01-31' })
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'deadline must be a date such as 2027-01-31' })
  deadline?: string;
}
