import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EVENT_TYPES } from '@comity/protocol';

/**
 * Webhook fan-out for the bench: `endpoints` local HTTP receivers, each subscribed to every
 * event of each node, so the CPU figures include signing and delivering every event to each.
 */
export class WebhookFanout {
  private readonly servers: Server[] = [];
  private count = 0;
  private lastAt = 0;

  static async start(
    endpoints: number,
    nodes: Array<{ url: string; apiKey: string }>,
  ): Promise<WebhookFanout> {
    const fanout = new WebhookFanout();
    for (let index = 0; index < endpoints; index += 1) {
      const server = createServer((request, response) => {
        request.resume();
        request.on('end', () => {
          fanout.count += 1;
          fanout.lastAt = Date.now();
          response.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      fanout.servers.push(server);
      const port = (server.address() as AddressInfo).port;
      for (const node of nodes) {
        const answer = await fetch(`${node.url}/v1/webhooks`, {
          method: 'POST',
          headers: { authorization: `Bearer ${node.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            url: `http://127.0.0.1:${port}/events`,
            eventTypes: EVENT_TYPES,
          }),
        });
        if (answer.status !== 201) {
          throw new Error(
            `subscribing a bench endpoint: HTTP ${answer.status} ${await answer.text()}`,
          );
        }
      }
    }
    return fanout;
  }

  /** Deliveries received so far, by all endpoints. */
  get received(): number {
    return this.count;
  }

  /** Waits until no delivery arrived for `quietMs` (the dispatchers have caught up). */
  async drain(quietMs = 1500, timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.lastAt = Math.max(this.lastAt, Date.now());
    while (Date.now() - this.lastAt < quietMs && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async close(): Promise<void> {
    for (const server of this.servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }
}
