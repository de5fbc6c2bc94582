import {
  BadGatewayException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  IsArray,
  IsBoolean,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { AUTHORITY_ID } from '@comity/protocol';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal, Roles } from '../auth/roles.decorator';
import { Clock } from '../common/clock';
import { EventRepository } from '../persistence/event.repository';
import { WebhookRepository } from '../persistence/webhook.repository';
import { WebhookDispatcher } from './webhook-dispatcher.service';
import { WebhookSubscriptions, type SubscriptionView } from './webhook-subscriptions.service';

export class SubscriptionBody {
  @IsOptional() @IsString() @MaxLength(2048) url?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) eventTypes?: string[];
  @IsOptional() @ValidateIf((_, value) => value !== null) @Matches(AUTHORITY_ID) authority?:
    string | null;
  @IsOptional() @IsString() @MaxLength(200) secret?: string;
  @IsOptional() @IsBoolean() keepPreviousSecret?: boolean;
  @IsOptional() @IsBoolean() active?: boolean;
}

/**
 * Webhook subscriptions (docs/integration.md): national systems are called when something
 * happens instead of polling. Changes take effect at the dispatcher's next pass.
 */
@ApiTags('webhooks')
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(
    private readonly subscriptions: WebhookSubscriptions,
    private readonly store: WebhookRepository,
    private readonly events: EventRepository,
    private readonly dispatcher: WebhookDispatcher,
    private readonly clock: Clock,
  ) {}

  @Post()
  @Roles('clerk', 'operator')
  @ApiOperation({ summary: 'Subscribe a URL to event types; the answer shows the secret once' })
  create(
    @Body() body: SubscriptionBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<SubscriptionView> {
    return this.subscriptions.create(principal, body);
  }

  @Get()
  @Roles('clerk', 'operator')
  @ApiOperation({ summary: 'The subscriptions in scope, with their delivery state' })
  list(@CurrentPrincipal() principal: Principal): Promise<SubscriptionView[]> {
    return this.subscriptions.list(principal);
  }

  @Get('dead-letters')
  @Roles('clerk', 'operator')
  @ApiOperation({ summary: 'Events given up after failing for the whole retry period' })
  async deadLetters(@CurrentPrincipal() principal: Principal) {
    return (await this.subscriptions.deadLetters(principal)).map((row) => ({
      id: row.id,
      subscriptionId: row.subscriptionId,
      eventSeq: row.eventSeq,
      attempts: row.attempts,
      lastError: row.lastError,
      failedAt: row.failedAt.toISOString(),
      redeliveredAt: row.redeliveredAt?.toISOString() ?? null,
    }));
  }

  @Post('dead-letters/:id/redeliver')
  @Roles('clerk', 'operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send a dead letter to its endpoint again, now' })
  async redeliver(
    @Param('id') id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<{ redeliveredAt: string }> {
    const letter = /^\d{1,18}$/.test(id) ? await this.store.deadLetter(id) : null;
    if (!letter) throw new NotFoundException(`no dead letter ${id}`);
    const subscription = await this.subscriptions.require(principal, letter.subscriptionId);
    const event = await this.events.bySeq(letter.eventSeq);
    if (!event) throw new NotFoundException(`event ${letter.eventSeq} is gone`);
    const outcome = await this.dispatcher.deliverOnce(subscription, event);
    await this.subscriptions.recordRedelivery(
      principal,
      id,
      outcome.kind === 'failed' ? outcome.error : outcome.kind,
    );
    if (outcome.kind !== 'delivered') {
      throw new BadGatewayException(
        `the endpoint did not take it: ${outcome.kind === 'gone' ? 'HTTP 410' : outcome.error}`,
      );
    }
    const at = this.clock.now();
    await this.store.markRedelivered(id, at);
    return { redeliveredAt: at.toISOString() };
  }

  @Get(':id')
  @Roles('clerk', 'operator')
  get(
    @Param('id', new ParseUUIDPipe()) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<SubscriptionView> {
    return this.subscriptions.get(principal, id);
  }

  @Patch(':id')
  @Roles('clerk', 'operator')
  @ApiOperation({
    summary: 'Change the URL, event types or secret, or pause/resume (active); no restart needed',
  })
  update(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: SubscriptionBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<SubscriptionView> {
    return this.subscriptions.update(principal, id, body);
  }

  @Delete(':id')
  @Roles('clerk', 'operator')
  @HttpCode(204)
  async remove(
    @Param('id', new ParseUUIDPipe()) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    await this.subscriptions.remove(principal, id);
  }
}
