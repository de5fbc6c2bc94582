import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  Min,
} from 'class-validator';
import { REQUEST_KINDS, type RequestKind } from '@comity/protocol';

export class SaveDraftDto {
  @ApiProperty({ enum: REQUEST_KINDS })
  @IsIn(REQUEST_KINDS, { message: `kind must be one of ${REQUEST_KINDS.join(', ')}` })
  kind!: RequestKind;

  @ApiPropertyOptional({ description: 'A name for the list (templates: required)', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;

  @ApiProperty({ description: 'The writer’s form as the workspace keeps it; sealed at rest' })
  @IsObject({ message: 'form must be an object' })
  form!: Record<string, unknown>;

  @ApiPropertyOptional({
    description:
      'On update: the revision this save starts from; a newer one on the server is a 409',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  revision?: number;
}

export class DraftIdParamDto {
  @IsUUID(7, { message: 'id must be a draft id (UUIDv7)' })
  id!: string;
}

export class DraftView {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['draft', 'template'] }) purpose!: 'draft' | 'template';
  @ApiProperty({ enum: REQUEST_KINDS }) kind!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'Who wrote it' }) owner!: string;
  @ApiProperty() revision!: number;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
  @ApiPropertyOptional({ description: 'The form (absent in lists)' })
  form?: Record<string, unknown>;
}
