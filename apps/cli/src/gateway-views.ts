/** What a gateway node's API answers: cases, statistics, uploads, message lists, the audit log. */
export interface CaseView {
  id: string;
  direction: 'outbound' | 'inbound';
  kind: string;
  urgency: string;
  state: string;
  requesting: { state: string; authority: string };
  requested: { state: string; authority: string };
  nextStep: string | null;
  nextStepBy: string | null;
  dueAt: string | null;
  overdue: boolean;
  overdueSince: string | null;
  deadline: string | null;
  reference: string | null;
  estimatedCompletion: string | null;
  openedAt: string;
  acknowledgedAt: string | null;
  outcomeAt: string | null;
  closedAt: string | null;
  refusalGrounds: string[];
  partialExecutions: number;
  messages: number;
  lastMessageAt: string;
  subject?: string;
  timeline?: Array<{
    id: string;
    kind: string;
    direction: string;
    side: string;
    createdAt: string;
    status: string;
    applied: boolean;
    details: Record<string, unknown> | null;
    content?: { subject: string; body: string; case?: Record<string, unknown> };
  }>;
  events?: Array<{ type: string; step: string | null; at: string; detail: string | null }>;
  allowedActions?: string[];
}

export interface CasePage {
  items: CaseView[];
  nextCursor: string | null;
}

export interface StatisticsLine {
  direction: string;
  counterpartState: string | null;
  kind: string | null;
  requests: number;
  pending: number;
  overdue: number;
  executed: number;
  partiallyExecuted: number;
  refused: number;
  withdrawn: number;
  acknowledgeDaysMedian: number | null;
  acknowledgeDaysP90: number | null;
  executeDaysMedian: number | null;
  executeDaysP90: number | null;
}

export interface StatisticsReport {
  generatedAt: string;
  lines: StatisticsLine[];
  refusalGrounds: Array<{ direction: string; ground: string; count: number }>;
}

/** An upload of a large file (POST /v1/attachments): its chunks, what is missing, its digest once complete. */
export interface AttachmentUpload {
  id: string;
  filename: string;
  mediaType: string;
  size: number;
  chunkSize: number;
  chunks: number;
  status: 'uploading' | 'complete';
  receivedChunks: number;
  /** Chunk indexes still to upload, as inclusive ranges [first, last]. */
  missingChunks: Array<[number, number]>;
  /** base64url SHA-256 of the file, once complete. */
  sha256: string | null;
  createdAt: string;
  completedAt: string | null;
}

/** A message in a list (metadata only, never content). */
export interface MessageSummary {
  id: string;
  kind: string;
  thread: string;
  inReplyTo: string | null;
  from: { state: string; authority: string };
  to: { state: string; authority: string };
  status: string;
  statusReason: string | null;
  createdAt: string;
  expiresAt: string;
  envelopeDigest: string;
}

export interface MessagePage {
  items: MessageSummary[];
  nextCursor: string | null;
}

/** One entry of a node's audit log (GET /v1/audit-events). */
export interface AuditEvent {
  id: string;
  at: string;
  principal: string | null;
  role: string | null;
  action: string;
  outcome: string;
  status: number;
  reason: string;
  client: string | null;
}

/** One event of a node's feed (GET /v1/events): ids and metadata, never content. */
export interface FeedEvent {
  seq: number;
  id: string;
  type: string;
  time: string;
  authority: string | null;
  subject: string | null;
  data: Record<string, unknown>;
}

export interface EventPage {
  items: FeedEvent[];
  /** The last sequence number returned: pass it as `after` for the next page. */
  cursor: number;
}

/** A webhook subscription (GET /v1/webhooks). */
export interface WebhookSubscription {
  id: string;
  url: string;
  eventTypes: string[];
  authority: string | null;
  active: boolean;
  disabledReason: string | null;
  deliveredUpTo: number;
  failing: {
    since: string;
    attempts: number;
    nextAttemptAt: string | null;
    lastError: string | null;
  } | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  /** Only in the answer that created it: the secret, shown once. */
  secret?: string;
}

/** An event given up after the retry period (GET /v1/webhooks/dead-letters). */
export interface WebhookDeadLetter {
  id: string;
  subscriptionId: string;
  eventSeq: number;
  attempts: number;
  lastError: string | null;
  failedAt: string;
  redeliveredAt: string | null;
}
