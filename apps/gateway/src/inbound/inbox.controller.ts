import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DeliveryMetrics } from '../observability/delivery-metrics';
import { ReceiptIntake } from '../outbound/receipt-intake.service';
import { InboxContext } from '../transport/amqp-inbox.server';
import type { InboxDisposition } from '../transport/inbox-disposition';
import { EnvelopeIntake } from './envelope-intake.service';

/** The AMQP side of the node: what arrives in this State's inbox queue, by message type. */
@Controller()
export class InboxController {
  constructor(
    private readonly envelopes: EnvelopeIntake,
    private readonly receipts: ReceiptIntake,
    private readonly metrics: DeliveryMetrics,
  ) {}

  @EventPattern('envelope')
  onEnvelope(@Payload() bytes: Buffer, @Ctx() context: InboxContext): Promise<InboxDisposition> {
    return this.counted('envelope', this.envelopes.receive(bytes, context.userId));
  }

  @EventPattern('receipt')
  onReceipt(@Payload() bytes: Buffer, @Ctx() context: InboxContext): Promise<InboxDisposition> {
    return this.counted('receipt', this.receipts.receive(bytes, context.userId));
  }

  private async counted(
    type: string,
    handling: Promise<InboxDisposition>,
  ): Promise<InboxDisposition> {
    const disposition = await handling.catch((error: unknown) => {
      this.metrics.handled(type, 'retry');
      throw error;
    });
    this.metrics.handled(type, disposition.action);
    return disposition;
  }
}
