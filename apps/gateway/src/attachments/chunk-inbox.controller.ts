import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DeliveryMetrics } from '../observability/delivery-metrics';
import type { InboxContext } from '../transport/message-transport';
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
  onChunk(@Payload() bytes: Buffer, @Ctx() context: InboxContext): Promise<InboxDisposition> {
    return this.metrics.countHandled('chunk', this.chunks.receive(bytes, context));
  }
}
