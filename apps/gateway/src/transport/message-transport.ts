/**
 * The port between the node and its message broker. Everything above `transport/` speaks to the
 * broker through this file only; `transport/amqp/` is the one adapter (RabbitMQ over AMQP 0-9-1).
 */

/** What travels between nodes, as the broker's `type` property names it. */
export const MESSAGE_TYPES = [
  'envelope',
  'receipt',
  'chunk',
  'evidence',
  'checkpoint',
  'cosignature',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** The broker had no queue for the routing key: with a mandatory publish that is a failure, not silence. */
export class UnroutableError extends Error {
  override readonly name = 'UnroutableError';
}

/** The broker is away: nothing was published; the caller keeps the message and tries again. */
export class BrokerUnavailableError extends Error {
  override readonly name = 'BrokerUnavailableError';
}

export interface Publication {
  routingKey: string;
  payload: Buffer;
  messageId: string;
  type: MessageType;
  contentType: string;
  /** Transport headers (chunks name their envelope, attachment and index); none by default. */
  headers?: Record<string, string | number>;
}

export interface QueueStatus {
  name: string;
  role: 'inbox' | 'quarantine';
  messages: number | null;
  consumers: number | null;
}

/**
 * A message taken from this State's inbox, as handlers see it: the raw bytes come separately,
 * nothing here is parsed beyond what the broker itself vouches for.
 */
export interface InboxContext {
  readonly messageId: string | undefined;
  /** The publishing account, validated by the broker against the connection that published. */
  readonly userId: string | undefined;
  /** The message's transport headers, unvalidated. */
  readonly headers: Readonly<Record<string, unknown>>;
}

/** A message the inbox set aside, as the broker handed it back from the quarantine queue. */
export interface QuarantinedDelivery {
  /** Stable across redeliveries of the same quarantined copy. */
  fingerprint: string;
  /** The message's AMQP type if it is one of MESSAGE_TYPES, else `unknown`. */
  messageType: MessageType | 'unknown';
  amqpMessageId: string | null;
  /** The account that published the original message (not our own copy's). */
  brokerUser: string | null;
  reason: string;
  detail: string;
  payload: Buffer;
  quarantinedAt: Date;
}

export interface MessageTransport {
  /** The publishing connection is up. */
  readonly isConnected: boolean;
  /** This State's inbox is being consumed. */
  readonly isConsuming: boolean;
  /** Waits (bounded) for the first connection; used at start-up and by tests. */
  ready(): Promise<void>;
  /** Resolves only once the broker has confirmed the message; rejects with UnroutableError if no queue took it. */
  publish(publication: Publication): Promise<void>;
  /** Depth and consumers of this State's inbox and quarantine queues; null values when the broker is away. */
  queueDepths(): Promise<QueueStatus[]>;
  /**
   * Hands each message of this State's quarantine queue to `keep`, and removes it from the
   * queue only once `keep` resolved (a rejection leaves it there for a later attempt).
   */
  consumeQuarantine(keep: (delivery: QuarantinedDelivery) => Promise<void>): void;
}

/** Injection token of the node's MessageTransport. */
export const MESSAGE_TRANSPORT = Symbol('MessageTransport');
