import { Controller, Get, Logger, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import type { Request, Response } from 'express';
import { EVENT_TYPES, type EventType } from '@comity/protocol';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal, Roles } from '../auth/roles.decorator';
import { authorityScope } from '../auth/scope';
import { EventRepository } from '../persistence/event.repository';
import { EventSequencer } from './event-sequencer.service';

const ONE_TYPE = EVENT_TYPES.map((type) => type.replace('.', '\\.')).join('|');
const TYPES = new RegExp(`^(${ONE_TYPE})(,(${ONE_TYPE}))*$`);

export class EventFeedQuery {
  /** The last sequence number already seen (0: from the start). */
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) after?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
  /** Seconds to wait for an event when there is none yet (long polling), 0 to 30. */
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(30) wait?: number;
  /** Comma-separated event types; all when absent. */
  @IsOptional()
  @IsString()
  @Matches(TYPES, {
    message: `types must be event types separated by commas: ${EVENT_TYPES.join(', ')}`,
  })
  types?: string;
}

class EventView {
  seq!: number;
  id!: string;
  type!: string;
  time!: string;
  authority!: string | null;
  subject!: string | null;
  data!: Record<string, unknown>;
}

class EventPageView {
  items!: EventView[];
  /** Pass as `after` for the next page: the last sequence number returned (or `after` itself). */
  cursor!: number;
}

/**
 * The event feed (docs/integration.md): ids and metadata of what happened, in the node's
 * sequence order, for national systems that would rather read than be called. A clerk sees its
 * authority's events; operators and auditors all of them.
 */
@ApiTags('events')
@Controller('v1/events')
export class EventsController {
  private readonly logger = new Logger(EventsController.name);

  constructor(
    private readonly events: EventRepository,
    private readonly sequencer: EventSequencer,
  ) {}

  @Get()
  @Roles('clerk', 'operator', 'auditor')
  @ApiOperation({ summary: 'Events after a cursor, in order; waits up to `wait` seconds for one' })
  @ApiOkResponse({ type: EventPageView })
  async page(
    @Query() query: EventFeedQuery,
    @CurrentPrincipal() principal: Principal,
    @Req() request: Request,
  ): Promise<EventPageView> {
    const after = query.after ?? 0;
    const scope = scopeOf(principal, query.types);
    const limit = query.limit ?? 100;
    const deadline = Date.now() + (query.wait ?? 0) * 1000;
    const closed = abortOnClose(request);
    try {
      for (;;) {
        const items = await this.events.page(after, limit, scope);
        if (items.length > 0 || Date.now() >= deadline || closed.signal.aborted) {
          return { items, cursor: items.at(-1)?.seq ?? after };
        }
        await this.sequencer.waitForNew(deadline - Date.now(), closed.signal);
      }
    } finally {
      closed.dispose();
    }
  }

  @Get('stream')
  @Roles('clerk', 'operator', 'auditor')
  @ApiOperation({
    summary:
      'Server-sent events: each event as it is numbered (`id:` is its sequence number; resume with Last-Event-ID or `after`)',
  })
  @ApiProduces('text/event-stream')
  async stream(
    @Query() query: EventFeedQuery,
    @CurrentPrincipal() principal: Principal,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const lastEventId = Number(request.header('last-event-id'));
    let after =
      Number.isSafeInteger(lastEventId) && lastEventId >= 0 ? lastEventId : (query.after ?? 0);
    const scope = scopeOf(principal, query.types);
    const closed = abortOnClose(request);
    response.status(200).set({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    response.flushHeaders();
    let lastWrite = Date.now();
    try {
      while (!closed.signal.aborted) {
        const items = await this.events.page(after, 100, scope);
        for (const event of items) {
          response.write(
            `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`,
          );
          after = event.seq;
          lastWrite = Date.now();
        }
        if (items.length === 0) {
          // A comment line now and then keeps proxies from closing an idle stream.
          if (Date.now() - lastWrite > 15_000) {
            response.write(': keep-alive\n\n');
            lastWrite = Date.now();
          }
          await this.sequencer.waitForNew(15_000, closed.signal);
        }
      }
    } catch (error) {
      // Headers are sent: the stream ends, the client reconnects with Last-Event-ID.
      this.logger.warn(`event stream ended: ${(error as Error).message}`);
    } finally {
      closed.dispose();
      response.end();
    }
  }
}

function scopeOf(principal: Principal, types?: string) {
  return {
    authority: authorityScope(principal) ?? null,
    types: types ? (types.split(',') as EventType[]) : undefined,
  };
}

/** Aborted when the client goes away (its connection closes), so no one waits for nobody. */
function abortOnClose(request: Request): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  const socket = request.socket;
  if (socket.destroyed) abort();
  else socket.once('close', abort);
  return { signal: controller.signal, dispose: () => socket.off('close', abort) };
}
