import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DeliveryMetrics } from '../observability/delivery-metrics';
import { InboxContext } from '../transport/amqp-inbox.server';
import type { InboxDisposition } from '../transport/inbox-disposition';
import { ChunkIntake } from './chunk-intake.service';

/** The inbox's `chunk` messages: pieces of large attachments, ahead of their envelope. */
@Controller()
export class ChunkInboxController {
  constructor(
    private readonly chunks: ChunkIntake,
    private readonly metrics: DeliveryMetrics,
  ) {}

  @EventPattern('chunk')
  async onChunk(@Payload() bytes: Buffer, @Ctx() context: InboxContext): Promise<InboxDisposition> {
    const disposition = await this.chunks.receive(bytes, context).catch((error: unknown) => {
      this.metrics.handled('chunk', 'retry');
      throw error;
    });
    this.metrics.handled('chunk', disposition.action);
    return disposition;
  }
}
