import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const CONFIG = `
[ req ]
distinguished_name = dn
[ dn ]
[ tsa_ext ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
[ ca_ext ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = .
serial = ./serial
signer_cert = ./tsa.crt
certs = ./ca.crt
signer_key = ./tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`;

export interface LocalTsa {
  url: string;
  /** The TSA's root certificate (PEM file). */
  caPath: string;
  /** Time-stamp requests answered so far. */
  readonly answered: number;
  stop(): Promise<void>;
}

/**
 * An RFC 3161 time-stamping authority on this machine: `openssl ts -reply` behind an HTTP
 * server, with its own CA and a time-stamping certificate made with `openssl` for the test.
 */
export async function startLocalTsa(): Promise<LocalTsa> {
  const dir = mkdtempSync(join(tmpdir(), 'comity-tsa-'));
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  writeFileSync(join(dir, 'tsa.cnf'), CONFIG);
  writeFileSync(join(dir, 'serial'), '01\n');
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=Comity test TSA root',
    '-days',
    '2',
    '-config',
    'tsa.cnf',
    '-extensions',
    'ca_ext',
  );
  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'tsa.key',
    '-out',
    'tsa.csr',
    '-subj',
    '/CN=Comity test TSA',
    '-config',
    'tsa.cnf',
  );
  await openssl(
    'x509',
    '-req',
    '-in',
    'tsa.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'tsa.crt',
    '-days',
    '2',
    '-extfile',
    'tsa.cnf',
    '-extensions',
    'tsa_ext',
  );
  let answered = 0;
  let queue = Promise.resolve();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      // One openssl at a time: they share the serial file.
      queue = queue.then(async () => {
        const id = `${Date.now()}-${answered}`;
        try {
          writeFileSync(join(dir, `${id}.tsq`), Buffer.concat(chunks));
          await openssl(
            'ts',
            '-reply',
            '-config',
            'tsa.cnf',
            '-queryfile',
            `${id}.tsq`,
            '-out',
            `${id}.tsr`,
          );
          answered += 1;
          response.writeHead(200, { 'content-type': 'application/timestamp-reply' });
          response.end(readFileSync(join(dir, `${id}.tsr`)));
        } catch (error) {
          response.writeHead(500).end(String(error));
        }
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}/tsa`,
    caPath: join(dir, 'ca.crt'),
    get answered() {
      return answered;
    },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
