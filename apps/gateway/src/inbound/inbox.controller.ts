import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
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
  ) {}

  @EventPattern('envelope')
  onEnvelope(@Payload() bytes: Buffer, @Ctx() context: InboxContext): Promise<InboxDisposition> {
    return this.envelopes.receive(bytes, context.userId);
  }

  @EventPattern('receipt')
  onReceipt(@Payload() bytes: Buffer, @Ctx() context: InboxContext): Promise<InboxDisposition> {
    return this.receipts.receive(bytes, context.userId);
  }
}
