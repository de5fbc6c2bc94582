import { join } from 'node:path';
import { freePort, type GatewayProcess } from '../../apps/cli/src/federation/federation-launcher';
import { GatewayClient } from '../../apps/cli/src/gateway-client';
import { startTestFederation, mlaRequest, type TestFederation } from '../support/test-federation';
import {
  acknowledgeMany,
  postgres,
  rabbitmqctl,
  restoreServices,
  settle,
  settleCases,
  sleep,
  submitMany,
  type CaseTally,
  type Tally,
} from './fault-tools';

const REQUESTS = Number(process.env.COMITY_FAULT_REQUESTS ?? 2000);
const CONCURRENCY = 24;
const SETTLE_MS = 240_000;
/** Case messages sent while the fault happens: requests acknowledged by their recipients. */
const ACKNOWLEDGEMENTS = Math.max(10, Math.floor(REQUESTS / 20));

/**
 * Nothing lost, nothing twice. Three gateways exchange REQUESTS requests in every direction;
 * while they are in flight one component is killed or stopped and brought back. Afterwards
 * every accepted request must be stored exactly once at its recipient and the sender must hold
 * a verified receipt for it. Meanwhile the recipients' clerks acknowledge delivered requests
 * (case messages, protocol §8): each stored once, applied once, and both ends of every case in
 * the same state afterwards. Counts come from the databases, not from what the API answered.
 */
describe(`fault suite: ${REQUESTS} requests in flight`, () => {
  let world: TestFederation;
  const results: Array<[string, Tally, CaseTally, number]> = [];

  beforeAll(async () => {
    world = await startTestFederation('fault', {
      COMITY_RECEIPT_TIMEOUT_SECONDS: '20',
      COMITY_RETRANSMIT_MAX_SECONDS: '30',
    });
  }, 120_000);

  afterAll(async () => {
    await restoreServices();
    await world?.stop();
    console.log(
      [
        '',
        'fault suite summary',
        'scenario | accepted | delivered | stored once | lost | stored twice | not delivered | retransmissions | duplicates absorbed | cases acknowledged | case states disagreeing | applied twice | seconds',
      ]
        .concat(
          results.map(([name, t, c, seconds]) =>
            [
              name,
              t.accepted,
              t.receiptsVerified,
              t.storedAtRecipient,
              t.lost,
              t.storedTwice,
              t.notDelivered,
              t.retransmissions,
              t.duplicatesAbsorbed,
              c.acknowledged,
              c.disagreeing,
              c.appliedTwice,
              seconds,
            ].join(' | '),
          ),
        )
        .join('\n'),
    );
  }, 300_000);

  const nodeUrls = () =>
    Object.fromEntries([...world.federation.nodes.values()].map((node) => [node.state, node.url]));

  /**
   * Sends the batch; once `faultAfter` requests are accepted, runs the fault (which puts things
   * back itself); then waits for everything to settle and asserts the counts.
   */
  async function scenario(
    name: string,
    fault: () => Promise<void>,
    nodes: Record<string, string> = nodeUrls(),
    extraRequests = 0,
  ): Promise<void> {
    const faultAfter = REQUESTS / 4;
    // Requests are counted by creation time: this scenario's start, after the previous one settled.
    const since = new Date();
    await sleep(5);
    const started = Date.now();
    let faultDone: Promise<void> | null = null;
    let submitting = true;
    let faultOver = false;
    const clerkKey = (state: string) => world.apiKey(state, 'central-clerk');
    const [, acknowledging] = await Promise.all([
      submitMany(nodes, clerkKey, REQUESTS, CONCURRENCY, (accepted) => {
        if (accepted >= faultAfter && !faultDone) {
          faultDone = fault().finally(() => {
            faultOver = true;
          });
        }
      }).finally(() => {
        submitting = false;
      }),
      // Clerks go on acknowledging until the fault is over, so that some of it lands mid-fault.
      acknowledgeMany(nodes, clerkKey, ACKNOWLEDGEMENTS, () => !submitting && faultOver),
    ]);
    await (faultDone ?? fault());
    const counts = await settle(world.databaseUrls, since, SETTLE_MS);
    const cases = await settleCases(world.databaseUrls, since, 60_000);
    const seconds = Math.round((Date.now() - started) / 1000);
    results.push([name, counts, cases, seconds]);
    console.log(
      `${name}: ${JSON.stringify(counts)}; cases ${JSON.stringify({ ...cases, ...acknowledging })} in ${seconds} s`,
    );
    // Every answer was an acknowledgement, a 409 (already acknowledged) or a 503 while down.
    expect(acknowledging.errors).toEqual([]);
    // Every acknowledgement the API confirmed is stored; a retry after a lost answer found the
    // case acknowledged already (409) and sent nothing twice.
    expect(cases.acknowledgementsSent).toBeGreaterThanOrEqual(acknowledging.confirmed);
    expect(cases.acknowledged).toBe(cases.acknowledgementsSent);
    expect(cases.disagreeing).toBe(0);
    expect(cases.appliedTwice).toBe(0);
    // Exactly the requests and case messages made: retried submits (same Idempotency-Key)
    // created nothing twice.
    expect(counts.accepted).toBe(REQUESTS + extraRequests + cases.acknowledgementsSent);
    expect(counts.lost).toBe(0);
    expect(counts.storedTwice).toBe(0);
    expect(counts.notDelivered).toBe(0);
    expect(counts.storedAtRecipient).toBe(counts.accepted);
    expect(counts.receiptsVerified).toBe(counts.accepted);
    // Each node's evidence log: every evidence a leaf, once, no gap, every checkpoint consistent.
    for (const [state, url] of Object.entries(nodes)) {
      const auditor = new GatewayClient(url, world.apiKey(state, 'auditor'));
      await auditor.signEvidenceCheckpoint();
      expect({ state, ...(await auditor.evidenceAudit()) }).toMatchObject({
        state,
        ok: true,
        problem: null,
      });
    }
    // Each log is witnessed by the others after the crash: cosigned up to its head, no fork.
    const heads = new Map<string, number>();
    for (const [state, url] of Object.entries(nodes)) {
      const auditor = new GatewayClient(url, world.apiKey(state, 'auditor'));
      heads.set(state, (await auditor.announceCheckpoint()).size);
    }
    for (const [state, url] of Object.entries(nodes)) {
      const auditor = new GatewayClient(url, world.apiKey(state, 'auditor'));
      const deadline = Date.now() + 30_000;
      let status = await auditor.witnessing();
      while (
        status.witnessedBy.some((entry) => entry.cosignedSize < heads.get(state)!) &&
        Date.now() < deadline
      ) {
        await sleep(250);
        status = await auditor.witnessing();
      }
      const behind = status.witnessedBy.filter((entry) => entry.cosignedSize < heads.get(state)!);
      expect({
        state,
        witnesses: status.witnessedBy.length,
        behind,
        alerts: status.alerts,
      }).toEqual({ state, witnesses: 2, behind: [], alerts: [] });
    }
  }

  async function restart(node: GatewayProcess): Promise<void> {
    await node.stop('SIGKILL');
    await sleep(1000);
    node.start();
    await node.waitUntilReady(120_000);
  }

  it('(a) the receiving node is killed with SIGKILL mid-stream and restarted', async () => {
    await scenario('(a) receiver SIGKILL', () => restart(world.federation.node('FR')));
  }, 600_000);

  it('(b) the sending node is killed with SIGKILL and restarted', async () => {
    await scenario('(b) sender SIGKILL', () => restart(world.federation.node('AT')));
  }, 600_000);

  it('(c) RabbitMQ is stopped and started; meanwhile the API still accepts requests', async () => {
    await scenario(
      '(c) broker stop/start',
      async () => {
        await rabbitmqctl('stop_app');
        try {
          // Broker down: requests are still accepted into the outbox.
          const accepted = await world.client('KE').submit(
            mlaRequest({
              senderAuthority: 'ke-central-authority',
              recipient: { state: 'AT', authority: 'at-central-authority' },
            }),
          );
          expect(accepted.status).toBe('submitted');
          await sleep(3000);
        } finally {
          await rabbitmqctl('start_app');
        }
      },
      nodeUrls(),
      1,
    );
  }, 600_000);

  it('(d) PostgreSQL is restarted; meanwhile the API answers 503 and nothing unstored is acked', async () => {
    await scenario('(d) database restart', async () => {
      await postgres('stop');
      try {
        const response = await fetch(`${world.federation.node('FR').url}/v1/outbound-messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...world.client('FR').authorization },
          body: JSON.stringify(
            mlaRequest({
              senderAuthority: 'fr-central-authority',
              recipient: { state: 'AT', authority: 'at-central-authority' },
            }),
          ),
        });
        expect(response.status).toBe(503);
        expect(((await response.json()) as { message: string }).message).toMatch(
          /database is unavailable/,
        );
        await sleep(2000);
      } finally {
        await postgres('start');
      }
    });
  }, 600_000);

  it('(e) two replicas of one State share its database and inbox, and one of them is killed', async () => {
    const first = world.federation.node('FR');
    const second = first.replica(
      await freePort(),
      join(first.logPath, '..', 'gateway-fr-replica.log'),
    );
    second.start();
    await second.waitUntilReady(120_000);
    try {
      // Clerks of FR use the second replica; the first consumes the shared inbox and relays the
      // shared outbox beside it until it is killed.
      await scenario('(e) replica killed', () => first.stop('SIGKILL'), {
        ...nodeUrls(),
        FR: second.url,
      });
    } finally {
      first.start();
      await first.waitUntilReady(120_000);
      await second.stop();
    }
  }, 600_000);
});
