import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DeliveryMetrics } from '../observability/delivery-metrics';
import type { InboxDisposition } from '../transport/inbox-disposition';
import type { InboxContext } from '../transport/message-transport';
import { RetrievalIntake } from './retrieval-intake.service';

/** The inbox's `evidence` messages: retrieval and non-retrieval of the envelopes this State sent. */
@Controller()
export class RetrievalInboxController {
  constructor(
    private readonly intake: RetrievalIntake,
    private readonly metrics: DeliveryMetrics,
  ) {}

  @EventPattern('evidence')
  onEvidence(@Payload() bytes: Buffer, @Ctx() context: InboxContext): Promise<InboxDisposition> {
    return this.metrics.countHandled('evidence', this.intake.receive(bytes, context.userId));
  }
}
