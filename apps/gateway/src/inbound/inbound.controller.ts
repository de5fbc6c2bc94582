import { Controller, Get, Param, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MessageDetailView, MessagePageView } from '../common/message-views';
import { MessageIdParamDto, PageQueryDto } from '../common/page-query.dto';
import { InboundService } from './inbound.service';

@ApiTags('inbound messages')
@Controller('v1/inbound-messages')
export class InboundController {
  constructor(private readonly inbound: InboundService) {}

  @Get()
  @ApiOperation({ summary: 'List delivered requests, newest first (metadata only)' })
  @ApiOkResponse({ type: MessagePageView })
  list(@Query() query: PageQueryDto): Promise<MessagePageView> {
    return this.inbound.list(query.limit, query.before);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A delivered request, decrypted and signature-checked' })
  @ApiOkResponse({ type: MessageDetailView })
  get(@Param() { id }: MessageIdParamDto): Promise<MessageDetailView> {
    return this.inbound.get(id);
  }

  @Get(':id/envelope')
  @ApiOperation({ summary: 'The exact envelope bytes received' })
  async envelope(@Param() { id }: MessageIdParamDto): Promise<StreamableFile> {
    const { bytes, mediaType } = await this.inbound.envelope(id);
    return new StreamableFile(bytes, {
      type: mediaType,
      disposition: `attachment; filename="${id}.envelope.json"`,
    });
  }

  @Get(':id/receipt')
  @ApiOperation({ summary: 'The receipt this node signed for it (compact JWS)' })
  async receipt(@Param() { id }: MessageIdParamDto): Promise<StreamableFile> {
    const bytes = await this.inbound.receipt(id);
    return new StreamableFile(bytes, {
      type: 'application/jose',
      disposition: `attachment; filename="${id}.receipt.jws"`,
    });
  }
}
