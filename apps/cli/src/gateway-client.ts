/** A thin HTTP client for a gateway node's API, as a State's case-management system would use it. */
import type {
  AttachmentUpload,
  AuditEvent,
  CasePage,
  CaseView,
  EventPage,
  MessagePage,
  StatisticsReport,
  WebhookDeadLetter,
  WebhookSubscription,
} from './gateway-views';

export type * from './gateway-views';

export interface MessageView {
  id: string;
  kind: string;
  status: string;
  statusReason: string | null;
  from: { state: string; authority: string };
  to: { state: string; authority: string };
  createdAt: string;
  envelopeDigest: string;
  timeline: Array<{ type: string; at: string; reason: string | null; detail: string | null }>;
  content?: Record<string, unknown>;
}

export interface EvidenceAuditReport {
  ok: boolean;
  leaves: number;
  checkpoints: number;
  firstBadLeaf: number | null;
  problem: string | null;
}

export interface WitnessingStatus {
  logSize: number;
  witnessedBy: Array<{ state: string; cosignedSize: number }>;
  peers: Array<{ state: string; size: number; root: string; receivedAt: string }>;
  alerts: Array<{
    state: string;
    kind: 'peer-fork' | 'own-fork';
    detail: string;
    at: string;
    note: string;
    conflictingNote: string | null;
  }>;
}

export interface EvidenceCheckpoint {
  size: number;
  root: string;
  signedAt: string;
  note: string;
}

/** GET /v1/operations/overview: a node's health and traffic at a glance (never request content). */
export interface OperationsOverview {
  state: string;
  at: string;
  components: {
    database: 'up' | 'down';
    broker: 'up' | 'down';
    inbox: 'consuming' | 'stopped';
    directory: { status: 'valid' | 'expired'; version: number; expires: string };
  };
  queues: Array<{ name: string; role: string; messages: number | null; consumers: number | null }>;
  outbox: { backlog: number; oldestAgeSeconds: number | null };
  peers: PeerTraffic[];
  quarantine: { held: number };
  alerts: OperationsAlert[];
}

export interface PeerTraffic {
  state: string;
  sent: { submitted: number; sent: number; delivered: number; rejected: number; failed: number };
  received: { delivered: number; rejected: number };
  awaitingReceipt: { count: number; oldestAgeSeconds: number | null };
  retransmissions: number;
  /** Events in the last 60 seconds. */
  perMinute: { published: number; delivered: number; received: number };
}

export interface OperationsAlert {
  severity: 'critical' | 'warning';
  code: string;
  message: string;
}

export type QuarantineStatus = 'held' | 'released' | 'discarded';

/** A message the node could not accept, kept aside; `claimedFrom`, `kind` and `envelopeId` are unverified. */
export interface QuarantineItem {
  id: string;
  messageType: 'envelope' | 'receipt' | 'unknown';
  reason: string;
  detail: string | null;
  envelopeId: string | null;
  claimedFrom: { state: string; authority: string } | null;
  kind: string | null;
  brokerUser: string | null;
  amqpMessageId: string | null;
  bytes: number;
  quarantinedAt: string;
  status: QuarantineStatus;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolutionReason: string | null;
  outcome: string | null;
}

export interface QuarantinePage {
  items: QuarantineItem[];
  nextCursor: string | null;
}

export class GatewayApiError extends Error {
  override readonly name = 'GatewayApiError';

  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const message = (body as { message?: unknown } | null)?.message;
    super(
      `gateway answered ${status}: ${Array.isArray(message) ? message.join('; ') : String(message ?? JSON.stringify(body))}`,
    );
  }
}

export class GatewayClient {
  /** `apiKey`: the caller's key (a clerk's, an operator's, an auditor's), sent as a bearer token. */
  constructor(
    readonly baseUrl: string,
    private readonly apiKey?: string,
  ) {}

  /** The Authorization header for this client's key, for raw requests. */
  get authorization(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  /**
   * Submits a request. With an idempotency key, a retry after a lost answer (timeout, node
   * restart) returns the message the first attempt created instead of sending a second one.
   */
  submit(
    request: Record<string, unknown>,
    options: { idempotencyKey?: string } = {},
  ): Promise<MessageView> {
    return this.json(
      'POST',
      '/v1/outbound-messages',
      request,
      options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {},
    );
  }

  outbound(id: string): Promise<MessageView> {
    return this.json('GET', `/v1/outbound-messages/${encodeURIComponent(id)}`);
  }

  inbound(id: string): Promise<MessageView> {
    return this.json('GET', `/v1/inbound-messages/${encodeURIComponent(id)}`);
  }

  envelope(id: string): Promise<Buffer> {
    return this.bytes(`/v1/outbound-messages/${encodeURIComponent(id)}/envelope`);
  }

  receipt(id: string): Promise<Buffer> {
    return this.bytes(`/v1/outbound-messages/${encodeURIComponent(id)}/receipt`);
  }

  /** Cases, most urgent first; `query`: direction, state, authority, kind, caseState, overdue, dueBefore, q, limit, cursor. */
  cases(query: Record<string, string | number | boolean> = {}): Promise<CasePage> {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) search.set(key, String(value));
    return this.json('GET', `/v1/cases${search.size ? `?${search.toString()}` : ''}`);
  }

  /** One case with every message in order. */
  case(id: string): Promise<CaseView> {
    return this.json('GET', `/v1/cases/${encodeURIComponent(id)}`);
  }

  /** Sends a case message (a clerk of the case's authority); 409 when the case does not allow it now. */
  caseAction(
    id: string,
    action: Record<string, unknown>,
  ): Promise<{ case: CaseView; messageId: string }> {
    return this.json('POST', `/v1/cases/${encodeURIComponent(id)}/actions`, action);
  }

  /** Statistics as JSON (`format=csv`: see `statisticsCsv`). */
  statistics(query: Record<string, string> = {}): Promise<StatisticsReport> {
    const search = new URLSearchParams(query);
    return this.json('GET', `/v1/statistics${search.size ? `?${search.toString()}` : ''}`);
  }

  async statisticsCsv(query: Record<string, string> = {}): Promise<string> {
    const search = new URLSearchParams({ ...query, format: 'csv' });
    return (await this.bytes(`/v1/statistics?${search.toString()}`)).toString('utf8');
  }

  /** Polls a case until `done` says so; throws after the timeout. */
  async waitForCase(
    id: string,
    done: (view: CaseView) => boolean,
    timeoutMs = 30_000,
  ): Promise<CaseView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const view = await this.case(id).catch((error: unknown) => {
        if (error instanceof GatewayApiError && error.status === 404) return null;
        throw error;
      });
      if (view && done(view)) return view;
      if (Date.now() > deadline) {
        throw new Error(
          `case ${id} not as expected after ${timeoutMs} ms (${view?.state ?? 'not there'})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The operations overview (roles operator or auditor). */
  overview(): Promise<OperationsOverview> {
    return this.json('GET', '/v1/operations/overview');
  }

  /** Quarantined messages, newest first (default: those still held). */
  quarantine(
    status: QuarantineStatus | 'all' = 'held',
    limit?: number,
    before?: string,
  ): Promise<QuarantinePage> {
    const query = new URLSearchParams({ status });
    if (limit !== undefined) query.set('limit', String(limit));
    if (before !== undefined) query.set('before', before);
    return this.json('GET', `/v1/operations/quarantine?${query.toString()}`);
  }

  /** Processes a held message again with every check in force (operator only; 409 if refused again). */
  releaseQuarantined(id: string, reason: string): Promise<QuarantineItem> {
    return this.json('POST', `/v1/operations/quarantine/${encodeURIComponent(id)}/release`, {
      reason,
    });
  }

  /** Drops a held message for good (operator only; 409 if it is not held). */
  discardQuarantined(id: string, reason: string): Promise<QuarantineItem> {
    return this.json('POST', `/v1/operations/quarantine/${encodeURIComponent(id)}/discard`, {
      reason,
    });
  }

  /** GET /v1/evidence/audit: the node's evidence log recomputed (auditor). */
  evidenceAudit(): Promise<EvidenceAuditReport> {
    return this.json('GET', '/v1/evidence/audit');
  }

  /** GET /v1/evidence/{id}: a message's evidence bundle (zip). */
  evidenceBundle(id: string): Promise<Buffer> {
    return this.bytes(`/v1/evidence/${encodeURIComponent(id)}`);
  }

  /** POST /v1/evidence/checkpoints: sign the log's head now if it grew; the latest checkpoint. */
  signEvidenceCheckpoint(): Promise<EvidenceCheckpoint> {
    return this.json('POST', '/v1/evidence/checkpoints');
  }

  /** GET /v1/witnessing: who cosigned this node's log, the peers' logs it witnesses, forks seen. */
  witnessing(): Promise<WitnessingStatus> {
    return this.json('GET', '/v1/witnessing');
  }

  /** POST /v1/witnessing/announcements: sign a checkpoint if the log grew and send it to peers now. */
  announceCheckpoint(): Promise<{ size: number; sentTo: string[] }> {
    return this.json('POST', '/v1/witnessing/announcements');
  }

  /** POST /v1/attachments: start a chunked upload; the node answers with the chunk size to use. */
  createAttachment(input: {
    filename: string;
    mediaType: string;
    size: number;
  }): Promise<AttachmentUpload> {
    return this.json('POST', '/v1/attachments', input);
  }

  /** GET /v1/attachments/{id}: chunks received and missing, digest once complete. */
  attachment(id: string): Promise<AttachmentUpload> {
    return this.json('GET', `/v1/attachments/${encodeURIComponent(id)}`);
  }

  /** PUT /v1/attachments/{id}/chunks/{index}: exactly chunkSize bytes (the last: the rest). */
  async putChunk(
    id: string,
    index: number,
    bytes: Uint8Array,
  ): Promise<{ index: number; stored: boolean }> {
    const response = await fetch(
      `${this.baseUrl}/v1/attachments/${encodeURIComponent(id)}/chunks/${index}`,
      {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', ...this.authorization },
        body: bytes,
      },
    );
    return (await this.answer(response)) as { index: number; stored: boolean };
  }

  /** POST /v1/attachments/{id}/complete: every chunk present; the node computes the SHA-256. */
  completeAttachment(id: string): Promise<AttachmentUpload> {
    return this.json('POST', `/v1/attachments/${encodeURIComponent(id)}/complete`);
  }

  /** GET /v1/inbound-messages: delivered requests, newest first (metadata only). */
  inboundMessages(query: { limit?: number; before?: string } = {}): Promise<MessagePage> {
    return this.json('GET', `/v1/inbound-messages${searchOf(query)}`);
  }

  /** GET /v1/audit-events: the audit log, newest first (auditor). */
  auditEvents(query: { limit?: number; before?: string } = {}): Promise<AuditEvent[]> {
    return this.json('GET', `/v1/audit-events${searchOf(query)}`);
  }

  /** GET /v1/events: events after a cursor, waiting up to `wait` seconds for one. */
  events(query: {
    after?: number;
    wait?: number;
    limit?: number;
    types?: string;
  }): Promise<EventPage> {
    return this.json('GET', `/v1/events${searchOf(query)}`);
  }

  /** POST/GET/PATCH/DELETE /v1/webhooks: the node's webhook subscriptions. */
  webhooks(): Promise<WebhookSubscription[]> {
    return this.json('GET', '/v1/webhooks');
  }

  subscribeWebhook(body: Record<string, unknown>): Promise<WebhookSubscription> {
    return this.json('POST', '/v1/webhooks', body);
  }

  updateWebhook(id: string, body: Record<string, unknown>): Promise<WebhookSubscription> {
    return this.json('PATCH', `/v1/webhooks/${encodeURIComponent(id)}`, body);
  }

  async removeWebhook(id: string): Promise<void> {
    await this.json('DELETE', `/v1/webhooks/${encodeURIComponent(id)}`);
  }

  webhookDeadLetters(): Promise<WebhookDeadLetter[]> {
    return this.json('GET', '/v1/webhooks/dead-letters');
  }

  redeliverDeadLetter(id: string): Promise<{ redeliveredAt: string }> {
    return this.json('POST', `/v1/webhooks/dead-letters/${encodeURIComponent(id)}/redeliver`);
  }

  /** A GET whose body the caller streams (e.g. an attachment); throws on an HTTP error. */
  async stream(path: string): Promise<Response> {
    const response = await fetch(`${this.baseUrl}${path}`, { headers: this.authorization });
    if (!response.ok) await this.answer(response);
    return response;
  }

  /** Polls until the message reaches one of `statuses`; returns it, or throws after the timeout. */
  async waitForStatus(id: string, statuses: string[], timeoutMs = 30_000): Promise<MessageView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = await this.outbound(id);
      if (statuses.includes(message.status)) return message;
      if (Date.now() > deadline) {
        throw new Error(`message ${id} still ${message.status} after ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  private async json<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers:
        body === undefined
          ? { ...this.authorization, ...headers }
          : { 'content-type': 'application/json', ...this.authorization, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await this.answer(response)) as T;
  }

  /** A response's JSON body; a GatewayApiError for an HTTP error (its body as text if not JSON). */
  private async answer(response: Response): Promise<unknown> {
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch (error) {
      if (response.ok) throw error;
      parsed = { message: text.slice(0, 300) };
    }
    if (!response.ok) throw new GatewayApiError(response.status, parsed);
    return parsed;
  }

  private async bytes(path: string): Promise<Buffer> {
    const response = await fetch(`${this.baseUrl}${path}`, { headers: this.authorization });
    if (!response.ok)
      throw new GatewayApiError(response.status, await response.json().catch(() => null));
    return Buffer.from(await response.arrayBuffer());
  }
}

/** "?limit=…&before=…" from the members given (none: ""). */
function searchOf(query: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) search.set(key, String(value));
  }
  return search.size ? `?${search.toString()}` : '';
}
