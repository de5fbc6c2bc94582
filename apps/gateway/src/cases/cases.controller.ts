import { Body, Controller, Get, Header, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal, Roles } from '../auth/roles.decorator';
import { MessageIdParamDto } from '../common/page-query.dto';
import { CaseStatistics } from './case-statistics.service';
import { CaseDetailView, CasePageView } from './case-views';
import { CaseActionDto, CaseListQueryDto, StatisticsQueryDto } from './cases.dto';
import { CasesService } from './cases.service';

@ApiTags('cases')
@Controller('v1')
export class CasesController {
  constructor(
    private readonly cases: CasesService,
    private readonly statistics: CaseStatistics,
  ) {}

  @Get('cases')
  @Roles('clerk', 'operator', 'auditor')
  @ApiOperation({
    summary: 'Cases, most urgent and soonest due first (clerks: their authority, with subjects)',
  })
  @ApiOkResponse({ type: CasePageView })
  list(
    @Query() query: CaseListQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<CasePageView> {
    return this.cases.list(query, principal);
  }

  @Get('cases/:id')
  @Roles('clerk', 'operator', 'auditor')
  @ApiOperation({ summary: 'A case: its state, next step, and every message in order' })
  @ApiOkResponse({ type: CaseDetailView })
  get(
    @Param() { id }: MessageIdParamDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<CaseDetailView> {
    return this.cases.get(id, principal);
  }

  @Post('cases/:id/actions')
  @Roles('clerk')
  @HttpCode(201)
  @ApiOperation({
    summary:
      'Send a case message (acknowledgement, refusal, ...): 409 naming the state if not allowed now',
  })
  act(
    @Param() { id }: MessageIdParamDto,
    @Body() action: CaseActionDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<{ case: CaseDetailView; messageId: string }> {
    return this.cases.act(id, action, principal);
  }

  @Get('statistics')
  @Roles('clerk', 'operator', 'auditor')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Requests, outcomes and times by direction, State and kind (JSON or CSV)',
  })
  async report(
    @Query() query: StatisticsQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<unknown> {
    const report = await this.statistics.report(query, principal);
    if (query.format === 'csv') {
      response.setHeader('Content-Type', 'text/csv; charset=utf-8');
      return CaseStatistics.csv(report);
    }
    return report;
  }
}
