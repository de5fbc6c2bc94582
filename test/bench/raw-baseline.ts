import { connect } from 'amqplib';
import { percentile } from './process-usage';

export interface RawResult {
  roundTrips: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * The physical floor: what RabbitMQ alone does on this machine for the same pattern as Comity
 * — A publishes a persistent, confirmed message into B's quorum queue; B acks it and answers
 * with a persistent, confirmed 512-byte reply into A's quorum queue — `window` at a time.
 */
export async function rawRoundTrips(
  amqpUrl: string,
  count: number,
  bodyBytes: number,
  window: number,
): Promise<RawResult> {
  const a = await connect(amqpUrl, { noDelay: true });
  const b = await connect(amqpUrl, { noDelay: true });
  const aChannel = await a.createConfirmChannel();
  const bChannel = await b.createConfirmChannel();
  const queueA = 'bench.raw.a';
  const queueB = 'bench.raw.b';
  for (const queue of [queueA, queueB]) {
    await aChannel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await aChannel.purgeQueue(queue);
  }
  await aChannel.prefetch(window * 2);
  await bChannel.prefetch(window * 2);
  const reply = Buffer.alloc(512, 0x72);
  await bChannel.consume(queueB, (message) => {
    if (!message) return;
    bChannel.ack(message);
    bChannel.publish(
      '',
      queueA,
      reply,
      { persistent: true, correlationId: message.properties.correlationId as string },
      () => undefined,
    );
  });
  const started = new Map<string, number>();
  const latencies: number[] = [];
  let sent = 0;
  let done = 0;
  const body = Buffer.alloc(bodyBytes, 0x61);
  const finished = new Promise<void>((resolve) => {
    void aChannel.consume(queueA, (message) => {
      if (!message) return;
      aChannel.ack(message);
      const id = message.properties.correlationId as string;
      latencies.push(performance.now() - (started.get(id) ?? performance.now()));
      started.delete(id);
      done += 1;
      if (done === count) resolve();
      else send();
    });
  });
  const send = (): void => {
    if (sent >= count) return;
    const id = String(sent);
    sent += 1;
    started.set(id, performance.now());
    aChannel.publish('', queueB, body, { persistent: true, correlationId: id }, () => undefined);
  };
  const t0 = performance.now();
  for (let index = 0; index < window; index += 1) send();
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  await a.close();
  await b.close();
  latencies.sort((x, y) => x - y);
  return {
    roundTrips: count,
    perSecond: count / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}
