import { Injectable } from '@nestjs/common';
import { Database, type Transaction } from './database';

/** What a request's row opens its case with (protocol §8): written with the request itself. */
export interface CaseOpeningRow {
  urgency: string;
  deadline: string | null;
  /** The subject, sealed under the node's data key. */
  title: string | null;
  /** When the first step (acknowledgement) is due. */
  nextDueAt: Date;
}

export type CaseDirection = 'outbound' | 'inbound';

/** A case as stored: its parties, its opening, and the facts last derived from its messages. */
export interface CaseRecord {
  id: string;
  direction: CaseDirection;
  kind: string;
  localAuthority: string;
  counterpartState: string;
  counterpartAuthority: string;
  urgency: string;
  deadline: string | null;
  title: string | null;
  state: string;
  nextStep: string | null;
  nextDueAt: Date | null;
  overdueSince: Date | null;
  reference: string | null;
  estimatedCompletion: string | null;
  openedAt: Date;
  acknowledgedAt: Date | null;
  outcomeAt: Date | null;
  closedAt: Date | null;
  refusalGrounds: string[];
  partialExecutions: number;
  messages: number;
  lastMessageAt: Date;
}

/** One message of a case as stored, with (for messages this node sent) its delivery status. */
export interface CaseMessageRecord {
  envelopeId: string;
  caseId: string;
  direction: CaseDirection;
  kind: string;
  side: 'requesting' | 'requested';
  createdAt: Date;
  details: Record<string, unknown> | null;
  /** The envelope's status: `delivered` for a received one; the sent one's own otherwise. */
  status: string;
}

/** The facts derived from a case's messages, written back to its row. */
export interface DerivedCaseRow {
  state: string;
  nextStep: string | null;
  nextDueAt: Date | null;
  reference: string | null;
  estimatedCompletion: string | null;
  acknowledgedAt: Date | null;
  outcome: string | null;
  outcomeAt: Date | null;
  closedAt: Date | null;
  refusalGrounds: string[];
  partialExecutions: number;
  messages: number;
  lastMessageAt: Date;
  hasFailedMessage: boolean;
}

export interface CaseEventRecord {
  type: string;
  step: string | null;
  at: Date;
  detail: string | null;
}

export interface CaseListFilter {
  authority?: string;
  direction?: CaseDirection;
  counterpartState?: string;
  counterpartAuthority?: string;
  kind?: string;
  state?: string;
  overdue?: boolean;
  dueBefore?: Date;
  /** Keyset: only cases of a lower position than this (see `CasePage`). */
  after?: { rank: number; dueAt: string; id: string };
  /** Only these cases (the matches of a clerk's text search). */
  ids?: string[];
  limit: number;
}

const COLUMNS = `id, direction, kind, local_authority, counterpart_state, counterpart_authority, urgency,
  to_char(deadline, 'YYYY-MM-DD') AS deadline, title, state, next_step, next_due_at, overdue_since, reference,
  to_char(estimated_completion, 'YYYY-MM-DD') AS estimated_completion, opened_at, acknowledged_at, outcome_at,
  closed_at, refusal_grounds, partial_executions, messages, last_message_at`;

/** Urgency first (immediate, urgent, routine), then the soonest due, then the newest. */
const URGENCY_RANK = `(CASE urgency WHEN 'immediate' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END)`;
const DUE_KEY = `COALESCE(next_due_at, 'infinity'::timestamptz)`;

interface CaseRow {
  id: string;
  direction: CaseDirection;
  kind: string;
  local_authority: string;
  counterpart_state: string;
  counterpart_authority: string;
  urgency: string;
  deadline: string | null;
  title: string | null;
  state: string;
  next_step: string | null;
  next_due_at: Date | null;
  overdue_since: Date | null;
  reference: string | null;
  estimated_completion: string | null;
  opened_at: Date;
  acknowledged_at: Date | null;
  outcome_at: Date | null;
  closed_at: Date | null;
  refusal_grounds: string[];
  partial_executions: number;
  messages: number;
  last_message_at: Date;
}

function recordOf(row: CaseRow): CaseRecord {
  return {
    id: row.id,
    direction: row.direction,
    kind: row.kind,
    localAuthority: row.local_authority,
    counterpartState: row.counterpart_state,
    counterpartAuthority: row.counterpart_authority,
    urgency: row.urgency,
    deadline: row.deadline,
    title: row.title,
    state: row.state,
    nextStep: row.next_step,
    nextDueAt: row.next_due_at,
    overdueSince: row.overdue_since,
    reference: row.reference,
    estimatedCompletion: row.estimated_completion,
    openedAt: row.opened_at,
    acknowledgedAt: row.acknowledged_at,
    outcomeAt: row.outcome_at,
    closedAt: row.closed_at,
    refusalGrounds: row.refusal_grounds,
    partialExecutions: row.partial_executions,
    messages: row.messages,
    lastMessageAt: row.last_message_at,
  };
}

/** Cases: their rows, their messages and events, and the queries the sweep and the API need. */
@Injectable()
export class CaseRepository {
  constructor(private readonly database: Database) {}

  /** The case, locked for this transaction: case messages of one case apply one at a time. */
  async lock(tx: Transaction, id: string): Promise<CaseRecord | null> {
    const rows = (await tx.query(`SELECT ${COLUMNS} FROM case_file WHERE id = $1 FOR UPDATE`, [
      id,
    ])) as CaseRow[];
    return rows[0] ? recordOf(rows[0]) : null;
  }

  async find(id: string): Promise<CaseRecord | null> {
    const rows = await this.database.query<CaseRow[]>(
      `SELECT ${COLUMNS} FROM case_file WHERE id = $1`,
      [id],
    );
    return rows[0] ? recordOf(rows[0]) : null;
  }

  /** The status of the request that opened an outbound case (null for an inbound one). */
  async requestStatus(id: string, tx?: Transaction): Promise<string | null> {
    const rows = (await (tx ?? this.database).query(
      `SELECT status FROM outbound_message WHERE id = $1`,
      [id],
    )) as Array<{ status: string }>;
    return rows[0]?.status ?? null;
  }

  /** Every message of a case in envelope id order, with the status of those this node sent. */
  async messagesOf(caseId: string, tx?: Transaction): Promise<CaseMessageRecord[]> {
    const rows = (await (tx ?? this.database).query(
      `SELECT cm.envelope_id, cm.case_id, cm.direction, cm.kind, cm.side, cm.created_at, cm.details,
              COALESCE(om.status, 'delivered') AS status
         FROM case_message cm LEFT JOIN outbound_message om ON om.id = cm.envelope_id
        WHERE cm.case_id = $1 ORDER BY cm.envelope_id`,
      [caseId],
    )) as Array<{
      envelope_id: string;
      case_id: string;
      direction: CaseDirection;
      kind: string;
      side: 'requesting' | 'requested';
      created_at: Date;
      details: Record<string, unknown> | null;
      status: string;
    }>;
    return rows.map((row) => ({
      envelopeId: row.envelope_id,
      caseId: row.case_id,
      direction: row.direction,
      kind: row.kind,
      side: row.side,
      createdAt: row.created_at,
      details: row.details,
      status: row.status,
    }));
  }

  async addMessage(tx: Transaction, message: Omit<CaseMessageRecord, 'status'>): Promise<void> {
    await tx.query(
      `INSERT INTO case_message (envelope_id, case_id, direction, kind, side, created_at, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        message.envelopeId,
        message.caseId,
        message.direction,
        message.kind,
        message.side,
        message.createdAt,
        message.details === null ? null : JSON.stringify(message.details),
      ],
    );
  }

  /**
   * Writes the derived facts; a step that changed (or its due date) is no longer overdue until
   * the sweep says so again.
   */
  async saveDerived(id: string, derived: DerivedCaseRow, tx?: Transaction): Promise<void> {
    await (tx ?? this.database).query(
      `UPDATE case_file
          SET state = $2, next_step = $3, next_due_at = $4,
              overdue_since = CASE WHEN next_step IS NOT DISTINCT FROM $3 AND next_due_at IS NOT DISTINCT FROM $4
                                   THEN overdue_since END,
              reference = $5, estimated_completion = $6::date, acknowledged_at = $7, outcome_at = $8,
              closed_at = $9, refusal_grounds = $10, partial_executions = $11, messages = $12,
              last_message_at = $13, has_failed_message = $14, outcome = $15, stale = false
        WHERE id = $1`,
      [
        id,
        derived.state,
        derived.nextStep,
        derived.nextDueAt,
        derived.reference,
        derived.estimatedCompletion,
        derived.acknowledgedAt,
        derived.outcomeAt,
        derived.closedAt,
        derived.refusalGrounds,
        derived.partialExecutions,
        derived.messages,
        derived.lastMessageAt,
        derived.hasFailedMessage,
        derived.outcome,
      ],
    );
  }

  /** Cases whose messages changed status since their facts were derived. */
  async staleIds(limit: number): Promise<string[]> {
    const rows = await this.database.query<Array<{ id: string }>>(
      `SELECT id FROM case_file WHERE stale LIMIT $1`,
      [limit],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Marks every step due before `now` and not yet marked as overdue, with a `overdue` event per
   * case in the same statement; returns the cases newly overdue.
   */
  async markOverdue(
    now: Date,
  ): Promise<Array<{ id: string; step: string; counterpartState: string; kind: string }>> {
    const rows = await this.database.query<
      Array<{ id: string; next_step: string; counterpart_state: string; kind: string }>
    >(
      `WITH overdue AS (
         UPDATE case_file SET overdue_since = $1
          WHERE next_due_at < $1 AND overdue_since IS NULL
         RETURNING id, next_step, next_due_at, counterpart_state, kind),
       noted AS (
         INSERT INTO case_event (case_id, type, step, at, detail)
         SELECT id, 'overdue', next_step, $1, 'due ' || to_char(next_due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
           FROM overdue)
       SELECT id, next_step, counterpart_state, kind FROM overdue`,
      [now],
    );
    return rows.map((row) => ({
      id: row.id,
      step: row.next_step,
      counterpartState: row.counterpart_state,
      kind: row.kind,
    }));
  }

  /** Open cases whose step is overdue, by counterpart State, request kind and step. */
  async overdueCounts(): Promise<
    Array<{ counterpartState: string; kind: string; step: string; count: number }>
  > {
    const rows = await this.database.query<
      Array<{ counterpart_state: string; kind: string; next_step: string; count: number }>
    >(
      `SELECT counterpart_state, kind, next_step, count(*)::int AS count
         FROM case_file WHERE overdue_since IS NOT NULL
        GROUP BY counterpart_state, kind, next_step`,
    );
    return rows.map((row) => ({
      counterpartState: row.counterpart_state,
      kind: row.kind,
      step: row.next_step,
      count: row.count,
    }));
  }

  async events(caseId: string): Promise<CaseEventRecord[]> {
    return this.database.query<CaseEventRecord[]>(
      `SELECT type, step, at, detail FROM case_event WHERE case_id = $1 ORDER BY id`,
      [caseId],
    );
  }

  /**
   * A page of cases, most urgent first: urgency, then the soonest due step, then the newest.
   * Returns one more than `limit` when there is a next page.
   */
  async list(filter: CaseListFilter): Promise<Array<CaseRecord & { rank: number }>> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (sql: (placeholder: string) => string, value: unknown): void => {
      values.push(value);
      where.push(sql(`$${values.length}`));
    };
    if (filter.authority !== undefined) add((p) => `local_authority = ${p}`, filter.authority);
    if (filter.direction !== undefined) add((p) => `direction = ${p}`, filter.direction);
    if (filter.counterpartState !== undefined)
      add((p) => `counterpart_state = ${p}`, filter.counterpartState);
    if (filter.counterpartAuthority !== undefined)
      add((p) => `counterpart_authority = ${p}`, filter.counterpartAuthority);
    if (filter.kind !== undefined) add((p) => `kind = ${p}`, filter.kind);
    if (filter.state !== undefined) add((p) => `state = ${p}`, filter.state);
    if (filter.overdue === true) where.push('overdue_since IS NOT NULL');
    if (filter.overdue === false) where.push('overdue_since IS NULL');
    if (filter.dueBefore !== undefined) add((p) => `next_due_at < ${p}`, filter.dueBefore);
    if (filter.ids !== undefined) add((p) => `id = ANY(${p}::uuid[])`, filter.ids);
    if (filter.after !== undefined) {
      values.push(filter.after.rank, filter.after.dueAt, filter.after.id);
      const n = values.length;
      where.push(
        `(${URGENCY_RANK}, ${DUE_KEY}, id) > ($${n - 2}::int, $${n - 1}::timestamptz, $${n}::uuid)`,
      );
    }
    values.push(filter.limit + 1);
    const rows = await this.database.query<Array<CaseRow & { rank: number }>>(
      `SELECT ${COLUMNS}, ${URGENCY_RANK} AS rank FROM case_file
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY ${URGENCY_RANK}, ${DUE_KEY}, id
        LIMIT $${values.length}`,
      values,
    );
    return rows.map((row) => ({ ...recordOf(row), rank: row.rank }));
  }

  /** Ids and sealed titles of every case that passes the filters (a clerk's text search). */
  async titles(
    filter: Omit<CaseListFilter, 'after' | 'limit' | 'ids'>,
  ): Promise<Array<{ id: string; title: string | null }>> {
    const rows = await this.list({ ...filter, limit: 1_000_000 });
    return rows.map((row) => ({ id: row.id, title: row.title }));
  }
}
