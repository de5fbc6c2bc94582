import { Body, Controller, Get, HttpCode, Post, Res, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import {
  ASSISTANCE_TYPES,
  ASSISTANCE_TYPE_LABELS,
  DOCUMENT_ROLES,
  PERSON_ROLES,
  PROCEEDING_NATURES,
  REQUEST_KINDS,
  requirementTable,
} from '@comity/protocol';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal, Roles } from '../auth/roles.decorator';
import { LetterService } from './letter.service';
import { RequestCheckService, type RequestCheck } from './request-check.service';
import { LetterFormDto, RequestFormDto } from './request-form.dto';

/**
 * The request writer's server side: the form's vocabulary and requirement table, the
 * completeness check while writing, and the printable letter of request.
 */
@ApiTags('request writer')
@Roles('clerk')
@Controller('v1/requests')
export class RequestFormsController {
  constructor(
    private readonly checks: RequestCheckService,
    private readonly letters: LetterService,
  ) {}

  @Get('form')
  @ApiOperation({
    summary: 'The vocabulary of structured requests and the table of required fields (protocol §9)',
  })
  form(): Record<string, unknown> {
    return {
      kinds: REQUEST_KINDS,
      assistanceTypes: ASSISTANCE_TYPES.map((id) => ({ id, label: ASSISTANCE_TYPE_LABELS[id] })),
      proceedingNatures: PROCEEDING_NATURES,
      personRoles: PERSON_ROLES,
      documentRoles: DOCUMENT_ROLES,
      requirements: requirementTable(),
    };
  }

  @Post('check')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'What a structured request still lacks (refused on sending until empty) and warnings (language, directory)',
  })
  @ApiOkResponse({
    description: '{ missing: [{field, label, rule}], warnings: [string], preview: string }',
  })
  check(@Body() form: RequestFormDto): RequestCheck {
    return this.checks.check(form);
  }

  @Post('letter')
  @HttpCode(200)
  @ApiOperation({ summary: 'The letter of request as PDF, rendered from the structured request' })
  @ApiProduces('application/pdf')
  async letter(
    @Body() form: LetterFormDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StreamableFile> {
    const pdf = await this.letters.render(form, principal);
    response.setHeader('Content-Type', 'application/pdf');
    response.setHeader('Content-Disposition', 'inline; filename="letter-of-request.pdf"');
    response.setHeader('Cache-Control', 'no-store');
    return new StreamableFile(pdf);
  }
}
