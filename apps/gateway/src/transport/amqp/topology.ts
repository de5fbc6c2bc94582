import type { ConfirmChannel } from 'amqplib';

/** Names on the broker. One transmit exchange; one inbox and one quarantine queue per State. */
export const TRANSMIT_EXCHANGE = 'comity.transmit';
export const QUARANTINE_EXCHANGE = 'comity.quarantine';
export const inboxQueue = (state: string): string => `comity.inbox.${state}`;
export const quarantineQueue = (state: string): string => `comity.quarantine.${state}`;

/** How often the broker redelivers a message whose handling kept failing before dead-lettering it to quarantine. */
export const INBOX_DELIVERY_LIMIT = 10;

export const QUARANTINE_REASON_HEADER = 'x-comity-reason';
export const QUARANTINE_DETAIL_HEADER = 'x-comity-detail';

export async function assertTransmitExchange(channel: ConfirmChannel): Promise<void> {
  await channel.assertExchange(TRANSMIT_EXCHANGE, 'direct', { durable: true });
}

/** The node's own inbox: durable quorum queue, dead-lettering to its quarantine queue. */
export async function assertInboxTopology(
  channel: ConfirmChannel,
  state: string,
  routingKey: string = state,
): Promise<void> {
  await assertTransmitExchange(channel);
  await channel.assertExchange(QUARANTINE_EXCHANGE, 'direct', { durable: true });
  await channel.assertQueue(quarantineQueue(state), {
    durable: true,
    arguments: { 'x-queue-type': 'quorum' },
  });
  await channel.bindQueue(quarantineQueue(state), QUARANTINE_EXCHANGE, state);
  await channel.assertQueue(inboxQueue(state), {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-delivery-limit': INBOX_DELIVERY_LIMIT,
      'x-dead-letter-exchange': QUARANTINE_EXCHANGE,
      'x-dead-letter-routing-key': state,
    },
  });
  await channel.bindQueue(inboxQueue(state), TRANSMIT_EXCHANGE, routingKey);
}
