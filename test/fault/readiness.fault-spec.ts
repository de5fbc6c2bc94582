import { startTestFederation, type TestFederation } from '../support/test-federation';
import { postgres, rabbitmqctl, restoreServices, sleep } from './fault-tools';

/**
 * Readiness follows the node's dependencies: it goes down (503, naming the component) when the
 * broker or the database stops, and comes back by itself when they return; liveness stays up
 * throughout, and the overview and metrics raise the matching alert. Runs in the fault suite:
 * it stops the real RabbitMQ and PostgreSQL.
 */
describe('health and alerts follow the broker and the database', () => {
  let world: TestFederation;

  beforeAll(async () => {
    world = await startTestFederation('readiness');
  }, 120_000);

  afterAll(async () => {
    await restoreServices();
    await world?.stop();
  }, 120_000);

  const node = () => world.federation.node('FR').url;
  const operator = () => ({ authorization: `Bearer ${world.apiKey('FR', 'operator')}` });

  async function readinessUntil(
    status: number,
    timeoutMs = 90_000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await fetch(`${node()}/health/ready`).catch(() => null);
      if (response?.status === status) return (await response.json()) as Record<string, unknown>;
      if (Date.now() > deadline)
        throw new Error(`readiness did not become ${status} (last ${response?.status})`);
      await sleep(250);
    }
  }

  const alertCodes = async (): Promise<string[]> => {
    await sleep(300); // the overview is recomputed at most every 250 ms
    const overview = (await fetch(`${node()}/v1/operations/overview`, {
      headers: operator(),
    }).then((response) => response.json())) as { alerts: Array<{ code: string }> };
    return overview.alerts.map((alert) => alert.code);
  };

  it('is not ready while the broker is stopped, and ready again when it returns', async () => {
    expect(await readinessUntil(200)).toMatchObject({ status: 'ready', broker: 'up' });
    await rabbitmqctl('stop_app');
    try {
      expect(await readinessUntil(503)).toMatchObject({ status: 'not-ready', broker: 'down' });
      expect((await fetch(`${node()}/health/live`)).status).toBe(200);
      expect(await alertCodes()).toContain('broker-down');
      const metrics = await fetch(`${node()}/metrics`, { headers: operator() }).then((r) =>
        r.text(),
      );
      expect(metrics).toContain('comity_up{component="broker"} 0');
    } finally {
      await rabbitmqctl('start_app');
    }
    expect(await readinessUntil(200)).toMatchObject({
      status: 'ready',
      broker: 'up',
      inbox: 'consuming',
    });
    expect(await alertCodes()).not.toContain('broker-down');
  }, 300_000);

  it('is not ready while the database is stopped, and ready again when it returns', async () => {
    await postgres('stop');
    try {
      expect(await readinessUntil(503)).toMatchObject({ status: 'not-ready', database: 'down' });
      expect((await fetch(`${node()}/health/live`)).status).toBe(200);
      expect(await alertCodes()).toContain('database-down');
    } finally {
      await postgres('start');
    }
    expect(await readinessUntil(200)).toMatchObject({ status: 'ready', database: 'up' });
  }, 300_000);
});
