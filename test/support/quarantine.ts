import { connect } from 'amqplib';
import { uuidV7 } from '@comity/protocol';

/** Publishes raw bytes to a State's inbox as anyone on the broker could; returns the message id. */
export async function publishToInbox(
  amqpUrl: string,
  state: string,
  bytes: Buffer,
  type = 'envelope',
): Promise<string> {
  const messageId = `test-${uuidV7()}`;
  const model = await connect(amqpUrl);
  try {
    const channel = await model.createConfirmChannel();
    channel.publish('comity.transmit', state, bytes, { persistent: true, type, messageId });
    await channel.waitForConfirms();
  } finally {
    await model.close();
  }
  return messageId;
}

/** Waits for a message to appear in a State's quarantine queue and returns its reason header. */
export async function quarantineReasonOf(
  amqpUrl: string,
  state: string,
  messageId: string,
  timeoutMs = 10_000,
): Promise<string | undefined> {
  const model = await connect(amqpUrl);
  try {
    const channel = await model.createChannel();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const message = await channel.get(`comity.quarantine.${state}`, { noAck: true });
      if (message && message.properties.messageId === messageId)
        return String(message.properties.headers?.['x-comity-reason']);
      if (!message) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return undefined;
  } finally {
    await model.close();
  }
}
