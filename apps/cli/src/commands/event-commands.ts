import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type Command } from 'commander';
import { EVENT_TYPES, verifyWebhook, webhookSecretKey, type CloudEvent } from '@comity/protocol';
import type { FeedEvent, WebhookDeadLetter, WebhookSubscription } from '../gateway-client';
import { UsageError } from './exit-codes';
import { calling, gatewayClient, withGateway, type GatewayOptions } from './gateway-options';
import { collect, emit, integerFrom } from './output';
import { formatTime, renderTable } from './queues.command';

type Json = { json?: boolean };

/** One line per event: sequence, time, type, subject and the metadata that tells it apart. */
export function formatEvent(event: FeedEvent): string {
  const data = event.data;
  const detail = [
    data.state ? `state ${String(data.previousState ?? '?')} -> ${String(data.state)}` : '',
    data.step ? `step ${String(data.step)}` : '',
    data.reason ? `reason ${String(data.reason)}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `${String(event.seq).padStart(6)}  ${event.time}  ${event.type.padEnd(21)} ${event.subject ?? '-'}${event.authority ? `  (${event.authority})` : ''}${detail ? `  ${detail}` : ''}`;
}

interface EventsOptions extends GatewayOptions, Json {
  after: number;
  follow?: boolean;
  types?: string;
  limit: number;
}

/**
 * `comity events`: one page after a cursor, or with --follow every event as it happens (long
 * polling, resuming from the last sequence number seen; one JSON document per line with --json).
 */
async function runEvents(options: EventsOptions): Promise<void> {
  const client = gatewayClient(options);
  let after = options.after;
  if (!options.follow) {
    const page = await calling(() =>
      client.events({ after, limit: options.limit, types: options.types }),
    );
    emit(options.json, page, () =>
      page.items.length === 0
        ? `No events after ${after}.`
        : [
            ...page.items.map(formatEvent),
            '',
            `cursor ${page.cursor} (next: --after ${page.cursor})`,
          ],
    );
    return;
  }
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let failures = 0;
  while (!stopped) {
    try {
      const page = await client.events({
        after,
        wait: 25,
        limit: options.limit,
        types: options.types,
      });
      failures = 0;
      for (const event of page.items) {
        console.log(options.json ? JSON.stringify(event) : formatEvent(event));
      }
      after = page.cursor;
    } catch (error) {
      // A gateway restarting is not the end of a follow: wait and resume from the cursor.
      failures += 1;
      if (failures === 1)
        console.error(`comity: ${(error as Error).message}; retrying from ${after}`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 500 * 2 ** failures)));
    }
  }
}

interface ListenOptions extends Json {
  port: number;
  host: string;
  secret?: string;
  signingCert?: string;
  status: number;
}

export interface ListenedDelivery {
  webhookId: string;
  verified: boolean;
  duplicate: boolean;
  error?: string;
  event?: CloudEvent;
}

/**
 * `comity webhook listen`: a reference receiver for integrators. It verifies each delivery's
 * Standard Webhooks signature (v1 with the secret, or v1a with the node's signing certificate),
 * prints the event, flags a repeated webhook-id as a duplicate (at-least-once delivery), and
 * answers 204 — or 401 when the signature does not verify, so the node retries.
 */
export function startWebhookListener(
  options: { port: number; host: string; secret?: string; signingKey?: KeyObject; status?: number },
  onDelivery: (delivery: ListenedDelivery) => void,
): Promise<Server> {
  const seen = new Set<string>();
  const server = createServer((request, response) => {
    if (request.method !== 'POST') {
      response.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    readBody(request, 1 << 20)
      .then((body) => {
        const webhookId = String(request.headers['webhook-id'] ?? '');
        try {
          verifyWebhook({
            headers: request.headers,
            body,
            secret: options.secret,
            ed25519PublicKey: options.signingKey,
          });
        } catch (error) {
          onDelivery({
            webhookId,
            verified: false,
            duplicate: false,
            error: (error as Error).message,
          });
          response.writeHead(401, { 'content-type': 'text/plain' }).end((error as Error).message);
          return;
        }
        const duplicate = seen.has(webhookId);
        seen.add(webhookId);
        onDelivery({ webhookId, verified: true, duplicate, event: JSON.parse(body) as CloudEvent });
        response.writeHead(options.status ?? 204).end();
      })
      .catch((error: unknown) => {
        response.writeHead(400, { 'content-type': 'text/plain' }).end((error as Error).message);
      });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve(server));
  });
}

function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`the body is over ${limit} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

async function runListen(options: ListenOptions): Promise<void> {
  if (!options.secret && !options.signingCert) {
    throw new UsageError('give --secret (v1) or --signing-cert (v1a), or both');
  }
  if (options.secret) {
    try {
      webhookSecretKey(options.secret);
    } catch (error) {
      throw new UsageError(`--secret: ${(error as Error).message}`);
    }
  }
  let signingKey: KeyObject | undefined;
  if (options.signingCert) {
    try {
      signingKey = createPublicKey(readFileSync(options.signingCert));
    } catch (error) {
      throw new UsageError(`--signing-cert: ${(error as Error).message}`);
    }
    if (signingKey.asymmetricKeyType !== 'ed25519') {
      throw new UsageError('--signing-cert: v1a signatures need an Ed25519 signing certificate');
    }
  }
  const server = await startWebhookListener({ ...options, signingKey }, (delivery) => {
    if (options.json) {
      console.log(JSON.stringify(delivery));
    } else if (!delivery.verified) {
      console.error(`REFUSED ${delivery.webhookId || '(no webhook-id)'}: ${delivery.error}`);
    } else {
      const event = delivery.event!;
      console.log(
        `${String(event.comityseq).padStart(6)}  ${event.time}  ${event.type.replace(/^org\.comity\./, '').padEnd(21)} ${event.subject ?? '-'}  verified${delivery.duplicate ? '  DUPLICATE (already seen: at-least-once)' : ''}`,
      );
    }
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  console.error(`listening on http://${options.host}:${port}/ (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function formatSubscriptions(items: WebhookSubscription[]): string {
  if (items.length === 0) return 'No webhook subscriptions.';
  return renderTable(
    [
      { header: 'ID' },
      { header: 'URL' },
      { header: 'EVENTS' },
      { header: 'SCOPE' },
      { header: 'STATE' },
    ],
    items.map((item) => [
      item.id,
      item.url,
      item.eventTypes.join(','),
      item.authority ?? 'all',
      !item.active
        ? `disabled${item.disabledReason ? ` (${item.disabledReason})` : ''}`
        : item.failing
          ? `failing since ${formatTime(item.failing.since)} (${item.failing.attempts} attempts: ${item.failing.lastError ?? '?'})`
          : `ok, delivered up to ${item.deliveredUpTo}`,
    ]),
  ).join('\n');
}

function formatDeadLetters(items: WebhookDeadLetter[]): string {
  if (items.length === 0) return 'No dead letters.';
  return renderTable(
    [
      { header: 'ID', align: 'right' },
      { header: 'SUBSCRIPTION' },
      { header: 'EVENT', align: 'right' },
      { header: 'FAILED' },
      { header: 'ATTEMPTS', align: 'right' },
      { header: 'LAST ERROR' },
      { header: 'REDELIVERED' },
    ],
    items.map((item) => [
      item.id,
      item.subscriptionId,
      String(item.eventSeq),
      formatTime(item.failedAt),
      String(item.attempts),
      item.lastError ?? '',
      item.redeliveredAt ? formatTime(item.redeliveredAt) : '-',
    ]),
  ).join('\n');
}

/** `comity events` and `comity webhook …`. */
export function registerEventCommands(program: Command): void {
  withGateway(
    program.command('events').description("the node's events (ids and metadata) after a cursor"),
    "a clerk's, operator's or auditor's",
  )
    .option(
      '--after <seq>',
      'the last sequence number already seen',
      integerFrom(0, Number.MAX_SAFE_INTEGER),
      0,
    )
    .option('--follow', 'keep printing events as they happen (long polling)')
    .option('--types <list>', 'comma-separated event types (default: all)')
    .option('--limit <n>', 'events per page', integerFrom(1, 1000), 100)
    .option('--json', 'JSON (with --follow: one event per line)')
    .action((options: EventsOptions) => runEvents(options));

  const webhook = program
    .command('webhook')
    .description('webhook subscriptions and a receiver to test them');
  webhook
    .command('listen')
    .description('a reference receiver: verify and print each delivery')
    .option('--port <port>', 'port to listen on', integerFrom(0, 65535), 8787)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--secret <whsec>', 'the subscription secret (verifies v1)')
    .option('--signing-cert <pem>', "the node's signing certificate (verifies v1a)")
    .option(
      '--status <code>',
      'HTTP status to answer a verified delivery with',
      integerFrom(200, 599),
      204,
    )
    .option('--json', 'one JSON document per delivery and line')
    .action((options: ListenOptions) => runListen(options));

  withGateway(
    webhook.command('add').description('subscribe a URL to events'),
    "a clerk's or operator's",
  )
    .requiredOption('--endpoint <url>', 'where to POST the events')
    .option('--type <type>', 'an event type (repeat; default: all)', collect)
    .option('--authority <id>', "only this authority's events (operators)")
    .option('--secret <whsec>', 'the secret (default: a new one, printed once)')
    .option('--json', 'JSON')
    .action(
      async (
        options: GatewayOptions &
          Json & { endpoint: string; type?: string[]; authority?: string; secret?: string },
      ) => {
        const client = gatewayClient(options);
        const created = await calling(() =>
          client.subscribeWebhook({
            url: options.endpoint,
            eventTypes: options.type ?? [...EVENT_TYPES],
            ...(options.authority ? { authority: options.authority } : {}),
            ...(options.secret ? { secret: options.secret } : {}),
          }),
        );
        emit(options.json, created, () => [
          `subscribed ${created.id}: ${created.url} (${created.eventTypes.join(', ')})`,
          `secret (shown once): ${created.secret ?? '(the one you gave)'}`,
        ]);
      },
    );

  withGateway(
    webhook.command('list').description('the webhook subscriptions'),
    "a clerk's or operator's",
  )
    .option('--json', 'JSON')
    .action(async (options: GatewayOptions & Json) => {
      const items = await calling(() => gatewayClient(options).webhooks());
      emit(options.json, items, () => formatSubscriptions(items));
    });

  withGateway(
    webhook.command('update <id>').description('change a subscription (no restart)'),
    "a clerk's or operator's",
  )
    .option('--endpoint <url>', 'a new URL')
    .option('--type <type>', 'the event types (repeat)', collect)
    .option('--secret <whsec>', 'a new secret')
    .option('--keep-previous-secret', 'sign with the previous secret too, while receivers switch')
    .option('--pause', 'stop delivering (events wait)')
    .option('--resume', 'deliver again, from where it stopped')
    .option('--json', 'JSON')
    .action(
      async (
        id: string,
        options: GatewayOptions &
          Json & {
            endpoint?: string;
            type?: string[];
            secret?: string;
            keepPreviousSecret?: boolean;
            pause?: boolean;
            resume?: boolean;
          },
      ) => {
        if (options.pause && options.resume)
          throw new UsageError('give --pause or --resume, not both');
        const updated = await calling(() =>
          gatewayClient(options).updateWebhook(id, {
            ...(options.endpoint ? { url: options.endpoint } : {}),
            ...(options.type ? { eventTypes: options.type } : {}),
            ...(options.secret
              ? { secret: options.secret, keepPreviousSecret: Boolean(options.keepPreviousSecret) }
              : {}),
            ...(options.pause ? { active: false } : options.resume ? { active: true } : {}),
          }),
        );
        emit(options.json, updated, () => formatSubscriptions([updated]));
      },
    );

  withGateway(
    webhook.command('remove <id>').description('delete a subscription'),
    "a clerk's or operator's",
  )
    .option('--json', 'JSON')
    .action(async (id: string, options: GatewayOptions & Json) => {
      await calling(() => gatewayClient(options).removeWebhook(id));
      emit(options.json, { removed: id }, () => `removed ${id}`);
    });

  withGateway(
    webhook.command('dead-letters').description('events given up after the retry period'),
    "a clerk's or operator's",
  )
    .option('--json', 'JSON')
    .action(async (options: GatewayOptions & Json) => {
      const items = await calling(() => gatewayClient(options).webhookDeadLetters());
      emit(options.json, items, () => formatDeadLetters(items));
    });

  withGateway(
    webhook.command('redeliver <id>').description('send a dead letter to its endpoint again, now'),
    "a clerk's or operator's",
  )
    .option('--json', 'JSON')
    .action(async (id: string, options: GatewayOptions & Json) => {
      const answer = await calling(() => gatewayClient(options).redeliverDeadLetter(id));
      emit(options.json, answer, () => `redelivered dead letter ${id} at ${answer.redeliveredAt}`);
    });
}
