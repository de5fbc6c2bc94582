import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { AuditLog, type AuditEventView } from './audit-log.service';
import { Roles } from './roles.decorator';

export class AuditQueryDto {
  @ApiPropertyOptional({ default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit: number = 100;

  @ApiPropertyOptional({ description: 'The id of the last event of the previous page' })
  @IsOptional()
  @Matches(/^[0-9]{1,18}$/)
  before?: string;
}

@ApiTags('audit')
@Roles('auditor')
@Controller('v1/audit-events')
export class AuditController {
  constructor(private readonly audit: AuditLog) {}

  @Get()
  @ApiOperation({
    summary: 'The audit log, newest first: every refused API call and every operator action',
  })
  list(@Query() query: AuditQueryDto): Promise<AuditEventView[]> {
    return this.audit.list(query.limit, query.before);
  }
}
