import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readTimestampResponse, timestampRequest, verifyTimestampToken } from '@comity/pki';
import { startLocalTsa, type LocalTsa } from '../support/local-tsa';

/** RFC 3161 against a real TSA: `openssl ts -reply` behind an HTTP server. */
describe('RFC 3161 time-stamps', () => {
  let tsa: LocalTsa;
  const data = Buffer.from('comity.example/AT/evidence\n12\nAAAA\n');

  beforeAll(async () => {
    tsa = await startLocalTsa();
  }, 60_000);

  afterAll(() => tsa?.stop());

  async function ask(bytes: Buffer) {
    const request = timestampRequest(bytes);
    const response = await fetch(tsa.url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: request.der,
    });
    return { request, response: Buffer.from(await response.arrayBuffer()) };
  }

  it('gets a token for the bytes, signed by a time-stamping certificate under the TSA root', async () => {
    const { request, response } = await ask(data);
    const anchors = [new X509Certificate(readFileSync(tsa.caPath))];
    const before = Date.now();
    const { token, verified } = readTimestampResponse(response, request, data, anchors);
    expect(verified.tsa.subject).toContain('CN=Comity test TSA');
    expect(Math.abs(verified.genTime.getTime() - before)).toBeLessThan(60_000);
    expect(verifyTimestampToken(token, data, { anchors }).serialNumber).toBe(verified.serialNumber);
  });

  it('refuses a token for other bytes, another request, an unknown TSA, or a changed signature', async () => {
    const { request, response } = await ask(data);
    const { token } = readTimestampResponse(response, request, data);
    expect(() => verifyTimestampToken(token, Buffer.from('other'))).toThrow(
      'the token is for other data',
    );
    expect(() => readTimestampResponse(response, timestampRequest(data), data)).toThrow(
      'the token does not carry the nonce of the request',
    );
    const otherRoot = new X509Certificate(readFileSync(tsa.caPath.replace('ca.crt', 'tsa.crt')));
    expect(() => verifyTimestampToken(token, data, { anchors: [otherRoot] })).toThrow(
      'does not chain to the given TSA anchor',
    );
    const bent = Buffer.from(token);
    bent[bent.length - 5] = bent[bent.length - 5]! ^ 1;
    expect(() => verifyTimestampToken(bent, data)).toThrow(
      'the token signature does not verify with a certificate it carries',
    );
    expect(() => verifyTimestampToken(Buffer.from('not a token'), data)).toThrow(
      'the token cannot be read',
    );
  });
});
