import { readFileSync } from 'node:fs';
import type { GatewayConfig } from '../../config/gateway-config';

/** Everything the AMQP adapter needs of the configuration, read once (the CA file included). */
export interface AmqpSettings {
  url: string;
  /** This node's State: names its inbox and quarantine queues. */
  state: string;
  /** The account in the URL: set as user_id on every message published, which the broker validates. */
  brokerUser: string;
  /** For amqps://: the CA certificates the broker's TLS certificate must chain to. */
  tlsCa?: Buffer;
  /** Declare the topology at start-up; off when an administrator provisions it. */
  declareTopology: boolean;
  prefetch: number;
}

export function amqpSettingsOf(config: GatewayConfig): AmqpSettings {
  return {
    url: config.amqpUrl,
    state: config.state,
    brokerUser: brokerUserOf(config.amqpUrl),
    ...(config.amqpCaPath ? { tlsCa: readFileSync(config.amqpCaPath) } : {}),
    declareTopology: config.transport.declareTopology,
    prefetch: config.transport.prefetch,
  };
}

/** The user name in an AMQP URL (amqplib connects as guest when there is none). */
export function brokerUserOf(amqpUrl: string): string {
  return decodeURIComponent(new URL(amqpUrl).username) || 'guest';
}
