import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DeliveryMetrics } from '../observability/delivery-metrics';
import type { InboxDisposition } from '../transport/inbox-disposition';
import type { InboxContext } from '../transport/message-transport';
import { CosignatureIntake } from './cosignature-intake.service';
import { PeerWitness } from './peer-witness.service';

/** The inbox's `checkpoint` (a peer's log announcing) and `cosignature` (a witness answering) messages. */
@Controller()
export class WitnessInboxController {
  constructor(
    private readonly witness: PeerWitness,
    private readonly cosignatures: CosignatureIntake,
    private readonly metrics: DeliveryMetrics,
  ) {}

  @EventPattern('checkpoint')
  onCheckpoint(@Payload() bytes: Buffer, @Ctx() context: InboxContext): Promise<InboxDisposition> {
    return this.metrics.countHandled('checkpoint', this.witness.receive(bytes, context.userId));
  }

  @EventPattern('cosignature')
  onCosignature(@Payload() bytes: Buffer, @Ctx() context: InboxContext): Promise<InboxDisposition> {
    return this.metrics.countHandled(
      'cosignature',
      this.cosignatures.receive(bytes, context.userId),
    );
  }
}
