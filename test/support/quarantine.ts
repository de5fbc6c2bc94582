import { connect } from 'amqplib';
import { uuidV7 } from '@comity/protocol';
import type { TestFederation } from './test-federation';

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

/** One entry of a node's quarantine, as its operator sees it (GET /v1/operations/quarantine). */
export interface QuarantinedEntry {
  id: string;
  amqpMessageId: string | null;
  messageType: string;
  reason: string;
  detail: string;
  envelopeId: string | null;
  status: string;
  outcome: string | null;
}

/** Everything in a State's quarantine (held, released and discarded), newest first. */
export async function quarantineOf(
  world: TestFederation,
  state: string,
): Promise<QuarantinedEntry[]> {
  const response = await fetch(
    `${world.federation.node(state).url}/v1/operations/quarantine?status=all&limit=200`,
    { headers: { authorization: `Bearer ${world.apiKey(state, 'operator')}` } },
  );
  if (!response.ok) throw new Error(`quarantine of ${state}: HTTP ${response.status}`);
  return ((await response.json()) as { items: QuarantinedEntry[] }).items;
}

/**
 * Waits until the node has taken every one of these broker messages (by AMQP message id) into
 * its quarantine, or the time is up; returns the reason of each one found.
 */
export async function quarantineReasons(
  world: TestFederation,
  state: string,
  messageIds: string[],
  timeoutMs = 20_000,
): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  const seen = new Map<string, string>();
  while (Date.now() < deadline) {
    for (const entry of await quarantineOf(world, state)) {
      if (entry.amqpMessageId && messageIds.includes(entry.amqpMessageId))
        seen.set(entry.amqpMessageId, entry.reason);
    }
    if (seen.size === messageIds.length) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return seen;
}

/** The quarantine reason of one broker message, or undefined if it never got there. */
export async function quarantineReasonOf(
  world: TestFederation,
  state: string,
  messageId: string,
  timeoutMs = 10_000,
): Promise<string | undefined> {
  return (await quarantineReasons(world, state, [messageId], timeoutMs)).get(messageId);
}

/** Waits for quarantine entries matching a predicate (e.g. a reason) to appear on a node. */
export async function waitForQuarantined(
  world: TestFederation,
  state: string,
  matches: (entry: QuarantinedEntry) => boolean,
  timeoutMs = 20_000,
): Promise<QuarantinedEntry[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await quarantineOf(world, state)).filter(matches);
    if (found.length > 0 || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
