import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DeliveryMetrics } from '../observability/delivery-metrics';
import type { InboxDisposition } from '../transport/inbox-disposition';
import type { InboxContext } from '../transport/message-transport';
import { ReceiptIntake } from './receipt-intake.service';

/** The inbox's `receipt` messages: answers to the envelopes this State sent. */
@Controller()
export class ReceiptInboxController {
  constructor(
    private readonly receipts: ReceiptIntake,
    private readonly metrics: DeliveryMetrics,
  ) {}

  @EventPattern('receipt')
  onReceipt(@Payload() bytes: Buffer, @Ctx() context: InboxContext): Promise<InboxDisposition> {
    return this.metrics.countHandled('receipt', this.receipts.receive(bytes, context.userId));
  }
}
