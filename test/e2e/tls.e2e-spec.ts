import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { mlaRequest, startTestFederation, type TestFederation } from '../support/test-federation';
import { testPki } from '../support/test-pki';

/** A JSON request over HTTPS, trusting only the federation's development root. */
function httpsJson(
  url: string,
  ca: Buffer,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = init.body === undefined ? undefined : JSON.stringify(init.body);
    const request = httpsRequest(
      url,
      {
        method: init.method ?? 'GET',
        ca,
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...init.headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: response.statusCode ?? 0,
            body: text ? (JSON.parse(text) as unknown) : null,
          });
        });
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/**
 * TLS on both of the node's network faces: the API over HTTPS, and AMQP over TLS (amqps://)
 * to a broker whose certificate must chain to the configured CA. The broker here is reached
 * through a TLS terminator in front of the local RabbitMQ.
 */
describe('TLS: HTTPS for the API and AMQP over TLS', () => {
  let world: TestFederation;
  let terminator: TlsServer;
  let tlsConnections = 0;
  let ca: Buffer;

  beforeAll(async () => {
    const { layout } = await testPki();
    ca = readFileSync(layout.trustAnchor);
    terminator = createTlsServer(
      { cert: readFileSync(layout.tlsServer.certificate), key: readFileSync(layout.tlsServer.key) },
      (socket) => {
        tlsConnections += 1;
        const upstream = netConnect(5672, '127.0.0.1');
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
      },
    );
    await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve));
    const port = (terminator.address() as { port: number }).port;
    world = await startTestFederation(
      'tls',
      {
        COMITY_HTTPS_CERT: layout.tlsServer.certificate,
        COMITY_HTTPS_KEY: layout.tlsServer.key,
        COMITY_AMQP_CA: layout.trustAnchor,
      },
      {
        amqpUrlFor: (_state, adminUrl) => {
          const url = new URL(adminUrl);
          url.protocol = 'amqps:';
          url.port = String(port);
          return url.toString();
        },
      },
    );
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
    await new Promise<void>((resolve) =>
      terminator ? terminator.close(() => resolve()) : resolve(),
    );
  }, 60_000);

  it('exchanges a request with every node speaking HTTPS and AMQP over TLS', async () => {
    const at = world.federation.node('AT').url;
    expect(at.startsWith('https://')).toBe(true);
    const headers = { authorization: `Bearer ${world.apiKey('AT', 'central-clerk')}` };
    const submitted = await httpsJson(`${at}/v1/outbound-messages`, ca, {
      method: 'POST',
      body: mlaRequest(),
      headers,
    });
    expect(submitted.status).toBe(201);
    const id = (submitted.body as { id: string }).id;
    let status = '';
    for (let tries = 0; tries < 200 && status !== 'delivered'; tries += 1) {
      status = (
        (await httpsJson(`${at}/v1/outbound-messages/${id}`, ca, { headers })).body as {
          status: string;
        }
      ).status;
      if (status !== 'delivered') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe('delivered');
    // Publishers and inbox consumers of all three nodes came through the TLS terminator.
    expect(tlsConnections).toBeGreaterThanOrEqual(6);
  });

  it('refuses HTTPS clients that do not trust the federation root (no downgrade, no anonymous certificate)', async () => {
    const outcome = await httpsJson(
      `${world.federation.node('FR').url}/health`,
      Buffer.from(''),
    ).then(
      () => 'connected',
      (error: Error) => error.message,
    );
    expect(outcome).not.toBe('connected');
  });
});
