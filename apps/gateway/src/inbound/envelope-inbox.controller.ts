import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DeliveryMetrics } from '../observability/delivery-metrics';
import type { InboxDisposition } from '../transport/inbox-disposition';
import type { InboxContext } from '../transport/message-transport';
import { EnvelopeIntake } from './envelope-intake.service';

/** The inbox's `envelope` messages: requests (and replies) sent to this State. */
@Controller()
export class EnvelopeInboxController {
  constructor(
    private readonly envelopes: EnvelopeIntake,
    private readonly metrics: DeliveryMetrics,
  ) {}

  @EventPattern('envelope')
  onEnvelope(@Payload() bytes: Buffer, @Ctx() context: InboxContext): Promise<InboxDisposition> {
    return this.metrics.countHandled('envelope', this.envelopes.receive(bytes, context.userId));
  }
}
