import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal, Roles } from '../auth/roles.decorator';
import { AuditLog } from '../auth/audit-log.service';
import { timelineOf } from '../common/message-views';
import { MessageIdParamDto } from '../common/page-query.dto';
import { EvidenceRepository } from '../persistence/evidence.repository';
import {
  MessageSearchRepository,
  messageCursorOf,
  parseMessageCursor,
  type MessageCursor,
  type MessageRecord,
} from '../persistence/message-search.repository';
import type { QuarantineRecord } from '../persistence/quarantine.repository';
import { OutboundService } from '../outbound/outbound.service';
import {
  MessageLocatorDto,
  MessageSearchQueryDto,
  OperatorReasonDto,
  QuarantineIdDto,
  QuarantineQueryDto,
} from './operations.dto';
import { OperationsOverview, type OperationsSnapshot } from './operations-overview.service';
import { QuarantineKeeper } from './quarantine-keeper.service';

/**
 * The operator's API, behind the console and `comity queues|quarantine`: metadata only, never
 * content. Operators act (retry, release, discard, each with a reason, each audited);
 * auditors only look.
 */
@ApiTags('operations')
@ApiBearerAuth()
@Controller('v1/operations')
export class OperationsController {
  constructor(
    private readonly overview: OperationsOverview,
    private readonly messageSearch: MessageSearchRepository,
    private readonly evidence: EvidenceRepository,
    private readonly quarantine: QuarantineKeeper,
    private readonly outbound: OutboundService,
    private readonly audit: AuditLog,
  ) {}

  @Get('overview')
  @Roles('operator', 'auditor')
  @ApiOperation({ summary: 'Components, queues, per-peer traffic, quarantine and alerts' })
  async getOverview(): Promise<Record<string, unknown>> {
    return overviewView(await this.overview.snapshot());
  }

  @Get('messages')
  @Roles('operator', 'auditor')
  @ApiOperation({ summary: 'Search messages in both directions, newest first (keyset pages)' })
  async search(@Query() query: MessageSearchQueryDto): Promise<Record<string, unknown>> {
    const records = await this.messageSearch.searchMessages({
      ...query,
      since: query.since ? new Date(query.since) : undefined,
      until: query.until ? new Date(query.until) : undefined,
      id: query.id?.toLowerCase(),
      before: query.before ? cursorIn(query.before) : undefined,
    });
    const page = records.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(messageView),
      nextCursor: records.length > query.limit && last ? messageCursorOf(last) : null,
    };
  }

  @Get('messages/:direction/:id')
  @Roles('operator', 'auditor')
  @ApiOperation({ summary: "One message's metadata and timeline" })
  async detail(@Param() { direction, id }: MessageLocatorDto): Promise<Record<string, unknown>> {
    const record = await this.messageSearch.findMessage(direction, id.toLowerCase());
    if (!record) throw new NotFoundException(`no ${direction} message ${id}`);
    const timeline = timelineOf(await this.evidence.timeline(record.id, direction));
    return {
      ...messageView(record),
      envelopeDigest: record.envelopeDigest,
      expiresAt: record.expiresAt.toISOString(),
      timeline,
    };
  }

  @Post('messages/:id/retry')
  @Roles('operator')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Send a failed or rejected message again, as a new envelope with the same content',
  })
  async retry(
    @Param() { id }: MessageIdParamDto,
    @Body() { reason }: OperatorReasonDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<Record<string, unknown>> {
    const message = await this.outbound.retry(id.toLowerCase(), reason, principal);
    await this.audit.action({
      principal: principal.id,
      role: principal.role,
      action: `retry ${id.toLowerCase()}`,
      outcome: `sent again as ${message.id}`,
      reason,
    });
    const record = await this.messageSearch.findMessage('outbound', message.id);
    return { retriedAs: message.id, message: record ? messageView(record) : message };
  }

  @Get('quarantine')
  @Roles('operator', 'auditor')
  @ApiOperation({ summary: 'Messages set aside by the inbox, with the reason (held by default)' })
  async listQuarantine(@Query() query: QuarantineQueryDto): Promise<Record<string, unknown>> {
    const records = await this.quarantine.list(query.status, query.limit + 1, query.before);
    const items = records.slice(0, query.limit).map(quarantineView);
    return {
      items,
      nextCursor: records.length > query.limit ? (items[items.length - 1]?.id ?? null) : null,
    };
  }

  @Post('quarantine/:id/release')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Process a held message again with every check in force now (409 if still refused)',
  })
  async release(
    @Param() { id }: QuarantineIdDto,
    @Body() { reason }: OperatorReasonDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<Record<string, unknown>> {
    return quarantineView(await this.quarantine.release(id, reason, principal));
  }

  @Post('quarantine/:id/discard')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Discard a held message, with the reason' })
  async discard(
    @Param() { id }: QuarantineIdDto,
    @Body() { reason }: OperatorReasonDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<Record<string, unknown>> {
    return quarantineView(await this.quarantine.discard(id, reason, principal));
  }
}

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;
const secondsSince = (since: Date | null, now: Date): number | null =>
  since ? Math.max(0, Math.round((now.getTime() - since.getTime()) / 1000)) : null;

/** A cursor whose rank is beyond any row's (bigint) is refused like any other malformed one. */
function cursorIn(before: string): MessageCursor {
  const cursor = parseMessageCursor(before);
  if (cursor.rank !== null && BigInt(cursor.rank) > MAX_RANK) {
    throw new BadRequestException(['before must be the nextCursor of a previous page']);
  }
  return cursor;
}

const MAX_RANK = 9223372036854775807n;

function messageView(record: MessageRecord): Record<string, unknown> & { id: string } {
  return {
    direction: record.direction,
    id: record.id,
    // One envelope id can have several rows (stored, refused copies): this one's own key.
    key: messageCursorOf(record),
    kind: record.kind,
    peerState: record.peerState,
    localAuthority: record.localAuthority,
    peerAuthority: record.peerAuthority,
    status: record.status,
    statusReason: record.statusReason,
    transmissions: record.transmissions,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}

function quarantineView(record: QuarantineRecord): Record<string, unknown> & { id: string } {
  return {
    id: record.id,
    messageType: record.messageType,
    reason: record.reason,
    detail: record.detail,
    envelopeId: record.envelopeId,
    claimedFrom: record.claimedFromState
      ? { state: record.claimedFromState, authority: record.claimedFromAuthority }
      : null,
    kind: record.kind,
    brokerUser: record.brokerUser,
    amqpMessageId: record.amqpMessageId,
    bytes: record.bytes,
    quarantinedAt: record.quarantinedAt.toISOString(),
    status: record.status,
    resolvedAt: iso(record.resolvedAt),
    resolvedBy: record.resolvedBy,
    resolutionReason: record.resolutionReason,
    outcome: record.outcome,
  };
}

function overviewView(snapshot: OperationsSnapshot): Record<string, unknown> {
  const now = snapshot.at;
  return {
    state: snapshot.state,
    at: now.toISOString(),
    components: snapshot.components,
    queues: snapshot.queues,
    outbox: {
      backlog: snapshot.outbox.backlog,
      oldestAgeSeconds: secondsSince(snapshot.outbox.oldestSince, now),
    },
    peers: snapshot.peers.map((peer) => ({
      state: peer.state,
      sent: peer.sent,
      received: peer.received,
      awaitingReceipt: {
        count: peer.awaitingReceipt.count,
        oldestAgeSeconds: secondsSince(peer.awaitingReceipt.oldestSince, now),
      },
      retransmissions: peer.retransmissions,
      perMinute: peer.perMinute,
    })),
    quarantine: { held: snapshot.quarantineHeld },
    alerts: snapshot.alerts,
  };
}
