/**
 * What the attachment transfer needs of whoever publishes envelopes: to hear that an envelope
 * it held back (until its chunks were confirmed) may now leave. Owned here, bound to the outbox
 * relay by the attachments module, so that this feature depends on the port, not on the relay.
 */
export interface EnvelopeRelease {
  /** An envelope's outbox entry became due: publish it now rather than at the next poll. */
  wake(): void;
}

export const ENVELOPE_RELEASE = Symbol('EnvelopeRelease');
