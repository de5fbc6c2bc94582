import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsNotEmpty, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import {
  ATTACHMENT_FILENAME,
  CONTENT_LIMITS,
  LARGE_ATTACHMENT_LIMITS,
  MEDIA_TYPE,
} from '@comity/protocol';

export class CreateAttachmentDto {
  @ApiProperty({ example: 'bank-statements-2019-2024.zip' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(CONTENT_LIMITS.attachmentFilenameChars)
  @Matches(ATTACHMENT_FILENAME, {
    message: 'filename must be a plain file name (no path, no control characters)',
  })
  filename!: string;

  @ApiProperty({ example: 'application/zip' })
  @IsString()
  @Matches(MEDIA_TYPE, { message: 'mediaType must be a media type such as application/zip' })
  mediaType!: string;

  @ApiProperty({
    example: 1073741824,
    description: "Bytes of the whole file; at most the node's limit (COMITY_MAX_ATTACHMENT_BYTES)",
  })
  @IsInt()
  @Min(1)
  @Max(LARGE_ATTACHMENT_LIMITS.maxBytes)
  size!: number;
}

export class AttachmentIdParamDto {
  @IsUUID(7)
  id!: string;
}

export class ChunkParamDto {
  @IsUUID(7)
  id!: string;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(LARGE_ATTACHMENT_LIMITS.maxChunks - 1)
  index!: number;
}

export class MessageAttachmentParamDto {
  @IsUUID()
  id!: string;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(LARGE_ATTACHMENT_LIMITS.attachments - 1)
  index!: number;
}
