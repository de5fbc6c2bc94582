import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
  StreamableFile,
} from '@nestjs/common';
import type { Response } from 'express';
import {
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal, Roles } from '../auth/roles.decorator';
import { MessageDetailView, MessagePageView } from '../common/message-views';
import { MessageIdParamDto, PageQueryDto } from '../common/page-query.dto';
import { OutboundService } from './outbound.service';
import { SubmitRequestDto } from './submit-request.dto';

@ApiTags('outbound messages')
@Controller('v1/outbound-messages')
export class OutboundController {
  constructor(private readonly outbound: OutboundService) {}

  @Post()
  @Roles('clerk')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Submit a request: sealed, stored and queued for sending before this answers',
  })
  @ApiCreatedResponse({ type: MessageDetailView })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Any unique string (e.g. a UUID) per request. Retrying a submit with the same key returns the message the first attempt created (200) instead of sending a second request.',
  })
  @ApiOkResponse({
    type: MessageDetailView,
    description: 'A retry: the message created by the first submit with this Idempotency-Key',
  })
  async submit(
    @Body() request: SubmitRequestDto,
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<MessageDetailView> {
    if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,200}$/.test(idempotencyKey)) {
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: ['Idempotency-Key must be 1 to 200 printable ASCII characters'],
      });
    }
    const { message, created } = await this.outbound.submit(request, principal, idempotencyKey);
    response.status(created ? 201 : 200);
    return message;
  }

  @Get()
  @Roles('clerk', 'operator', 'auditor')
  @ApiOperation({ summary: 'List sent requests, newest first' })
  @ApiOkResponse({ type: MessagePageView })
  list(
    @Query() query: PageQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<MessagePageView> {
    return this.outbound.list(principal, query.limit, query.before);
  }

  @Get(':id')
  @Roles('clerk', 'operator', 'auditor')
  @ApiOperation({ summary: 'A sent request with its status, timeline and content' })
  @ApiOkResponse({ type: MessageDetailView })
  get(
    @Param() { id }: MessageIdParamDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<MessageDetailView> {
    return this.outbound.get(id, principal);
  }

  @Get(':id/envelope')
  @Roles('clerk', 'auditor')
  @ApiOperation({ summary: 'The exact sealed envelope bytes that were sent' })
  async envelope(
    @Param() { id }: MessageIdParamDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<StreamableFile> {
    const { bytes, mediaType } = await this.outbound.envelope(id, principal);
    return new StreamableFile(bytes, {
      type: mediaType,
      disposition: `attachment; filename="${id}.envelope.json"`,
    });
  }

  @Get(':id/receipt')
  @Roles('clerk', 'auditor')
  @ApiOperation({ summary: "The recipient's signed receipt (compact JWS)" })
  async receipt(
    @Param() { id }: MessageIdParamDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<StreamableFile> {
    const bytes = await this.outbound.receipt(id, principal);
    return new StreamableFile(bytes, {
      type: 'application/jose',
      disposition: `attachment; filename="${id}.receipt.jws"`,
    });
  }

  @Get(':id/non-delivery-evidence')
  @Roles('clerk', 'auditor')
  @ApiOperation({
    summary:
      "This node's signed non-delivery evidence, once a request expired or was unroutable (compact JWS)",
  })
  async nonDeliveryEvidence(
    @Param() { id }: MessageIdParamDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<StreamableFile> {
    const bytes = await this.outbound.nonDeliveryEvidence(id, principal);
    return new StreamableFile(bytes, {
      type: 'application/jose',
      disposition: `attachment; filename="${id}.non-delivery.jws"`,
    });
  }
}
