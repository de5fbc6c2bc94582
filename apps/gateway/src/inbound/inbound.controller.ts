import { Controller, Get, Param, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal, Roles } from '../auth/roles.decorator';
import { MessageDetailView, MessagePageView } from '../common/message-views';
import { MessageIdParamDto, PageQueryDto } from '../common/page-query.dto';
import { InboundService } from './inbound.service';

@ApiTags('inbound messages')
@Controller('v1/inbound-messages')
export class InboundController {
  constructor(private readonly inbound: InboundService) {}

  @Get()
  @Roles('clerk', 'operator', 'auditor')
  @ApiOperation({ summary: 'List delivered requests, newest first (metadata only)' })
  @ApiOkResponse({ type: MessagePageView })
  list(
    @Query() query: PageQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<MessagePageView> {
    return this.inbound.list(principal, query.limit, query.before);
  }

  @Get(':id')
  @Roles('clerk', 'operator', 'auditor')
  @ApiOperation({ summary: 'A delivered request, decrypted and signature-checked' })
  @ApiOkResponse({ type: MessageDetailView })
  get(
    @Param() { id }: MessageIdParamDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<MessageDetailView> {
    return this.inbound.get(id, principal);
  }

  @Get(':id/envelope')
  @Roles('clerk', 'auditor')
  @ApiOperation({ summary: 'The exact envelope bytes received' })
  async envelope(
    @Param() { id }: MessageIdParamDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<StreamableFile> {
    const { bytes, mediaType } = await this.inbound.envelope(id, principal);
    return new StreamableFile(bytes, {
      type: mediaType,
      disposition: `attachment; filename="${id}.envelope.json"`,
    });
  }

  @Get(':id/receipt')
  @Roles('clerk', 'auditor')
  @ApiOperation({ summary: 'The receipt this node signed for it (compact JWS)' })
  async receipt(
    @Param() { id }: MessageIdParamDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<StreamableFile> {
    const bytes = await this.inbound.receipt(id, principal);
    return new StreamableFile(bytes, {
      type: 'application/jose',
      disposition: `attachment; filename="${id}.receipt.jws"`,
    });
  }
}
