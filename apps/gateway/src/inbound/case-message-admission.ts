import type { OpenedEnvelope } from '@comity/protocol';
import type { Transaction } from '../persistence/database';

/**
 * How the inbound path hands a received envelope that belongs to a case (protocol §8) to the
 * module that keeps cases, without knowing it: that module provides this port.
 */
export interface CaseMessageAdmission {
  /** Whether the envelope concerns a case: a case message, or a free message in a case's thread. */
  concerns(envelope: OpenedEnvelope): boolean;
  /**
   * In the transaction that stores the envelope: checks it against its case and records what it
   * does, or throws a `ProtocolError` naming why not (the envelope is then refused with a signed
   * negative receipt and nothing of it is stored as delivered).
   */
  admit(tx: Transaction, envelope: OpenedEnvelope, now: Date): Promise<void>;
}

export const CASE_MESSAGE_ADMISSION = Symbol('CaseMessageAdmission');
