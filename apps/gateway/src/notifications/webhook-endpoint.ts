import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Where a webhook may go, and the one HTTP POST that delivers it. Private, loopback,
 * link-local and other non-public addresses are refused (an API caller must not make the node
 * reach into its own network) unless the host is allow-listed; the check is made on the address
 * actually connected to, so a name that resolves elsewhere later gains nothing. Redirects are
 * not followed.
 */
const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

export class WebhookEndpointError extends Error {
  override readonly name = 'WebhookEndpointError';
}

export interface EndpointPolicy {
  environment: 'development' | 'production';
  allowedHosts: readonly string[];
}

export function isPublicAddress(address: string): boolean {
  // An IPv4-mapped IPv6 address is judged by its IPv4 address. (A BlockList rule for
  // ::ffff:0:0/96 would match every IPv4 address, so there is none.)
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return isPublicAddress(mapped[1]!);
  const mappedHex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (mappedHex) {
    const [high, low] = [parseInt(mappedHex[1]!, 16), parseInt(mappedHex[2]!, 16)];
    return isPublicAddress(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`);
  }
  const family = isIP(address);
  if (family === 0) return false;
  return !NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Checks a subscription URL's form: http(s), no credentials, HTTPS outside development. */
export function checkEndpointUrl(raw: string, policy: EndpointPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookEndpointError('url is not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new WebhookEndpointError('url must be http or https');
  }
  if (url.protocol === 'http:' && policy.environment === 'production') {
    throw new WebhookEndpointError('url must use HTTPS (COMITY_ENV is production)');
  }
  if (url.username || url.password) {
    throw new WebhookEndpointError('url must not carry a user name or password');
  }
  if (url.hash) throw new WebhookEndpointError('url must not have a fragment');
  if (raw.length > 2048) throw new WebhookEndpointError('url is longer than 2048 characters');
  return url;
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/** A DNS lookup that refuses non-public addresses unless the host is allow-listed. */
function guardedLookup(host: string, policy: EndpointPolicy): LookupFunction {
  const allowed = policy.allowedHosts.includes(host);
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 4);
      const usable = addresses.filter((entry) => allowed || isPublicAddress(entry.address));
      if (usable.length === 0) {
        return callback(
          new WebhookEndpointError(
            `${hostname} resolves to a private, loopback or otherwise non-public address (allow it with COMITY_WEBHOOK_ALLOWED_HOSTS)`,
          ),
          '',
          4,
        );
      }
      if (options.all)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
      return callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}

/** Refuses, before anything is stored, a URL whose host is not reachable under the policy. */
export async function checkEndpointReachable(url: URL, policy: EndpointPolicy): Promise<void> {
  const host = hostOf(url);
  if (isIP(host)) {
    if (!policy.allowedHosts.includes(host) && !isPublicAddress(host)) {
      throw new WebhookEndpointError(
        `${host} is a private, loopback or otherwise non-public address (allow it with COMITY_WEBHOOK_ALLOWED_HOSTS)`,
      );
    }
    return;
  }
  await new Promise<void>((resolve, reject) => {
    guardedLookup(host, policy)(host, {}, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * One keep-alive agent per endpoint origin: deliveries reuse their connections instead of a
 * TCP (and TLS) handshake each. Its lookup is the guarded one, so every new connection is
 * checked again.
 */
const agents = new Map<string, HttpAgent | HttpsAgent>();

function agentFor(url: URL, host: string, policy: EndpointPolicy): HttpAgent | HttpsAgent {
  const key = `${url.protocol}//${url.host} ${policy.allowedHosts.includes(host) ? 'allowed' : ''}`;
  let agent = agents.get(key);
  if (!agent) {
    const options = {
      keepAlive: true,
      keepAliveMsecs: 10_000,
      maxSockets: 2,
      maxFreeSockets: 2,
      timeout: 60_000,
      lookup: guardedLookup(host, policy),
    };
    agent = url.protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
    if (agents.size >= 500) {
      for (const old of agents.values()) old.destroy();
      agents.clear();
    }
    agents.set(key, agent);
  }
  return agent;
}

export interface EndpointAnswer {
  status: number;
}

/**
 * POSTs `body` with `headers`; the answer's status (its body is read and dropped, at most 64
 * KiB). Rejects on a network error, a refused address or the timeout.
 */
export function postToEndpoint(
  url: URL,
  headers: Record<string, string>,
  body: string,
  policy: EndpointPolicy & { timeoutMs: number },
): Promise<EndpointAnswer> {
  const host = hostOf(url);
  if (url.protocol !== 'https:' && policy.environment === 'production') {
    // A subscription made before the node went to production is not sent in the clear.
    return Promise.reject(
      new WebhookEndpointError('the endpoint is not HTTPS (COMITY_ENV is production)'),
    );
  }
  if (isIP(host) && !policy.allowedHosts.includes(host) && !isPublicAddress(host)) {
    return Promise.reject(
      new WebhookEndpointError(`${host} is a private, loopback or otherwise non-public address`),
    );
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      {
        agent: agentFor(url, host, policy),
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/cloudevents+json; charset=utf-8',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'Comity-Webhooks/1',
        },
      },
      (response) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > 65_536) response.destroy();
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
        response.on('close', () => resolve({ status: response.statusCode ?? 0 }));
        response.on('error', reject);
      },
    );
    // The whole exchange, not only each silence, must fit in the time allowed.
    const timer = setTimeout(
      () =>
        request.destroy(new WebhookEndpointError(`no answer within ${policy.timeoutMs / 1000} s`)),
      policy.timeoutMs,
    );
    request.on('close', () => clearTimeout(timer));
    request.on('error', reject);
    request.end(body);
  });
}
