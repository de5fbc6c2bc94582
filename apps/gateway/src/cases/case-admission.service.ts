import { Injectable } from '@nestjs/common';
import {
  ProtocolError,
  caseMessageRefusal,
  isCaseMessageKind,
  isReasonCode,
  type CaseSide,
  type OpenedEnvelope,
} from '@comity/protocol';
import type { CaseMessageAdmission } from '../inbound/case-message-admission';
import { CaseRepository } from '../persistence/case.repository';
import type { Transaction } from '../persistence/database';
import { InboundMessageRepository } from '../persistence/inbound-message.repository';
import { FederationTrust } from '../trust/federation-trust';
import { deriveStoredCase, entryOf, storedDetails } from './case-derivation';

/**
 * The receiving end of a case message (protocol §8.6): the case must exist here, the message
 * must come from the other party and answer a message of the case, and it must apply in the
 * case's current state, own messages not yet receipted included. Otherwise a `ProtocolError`
 * names why, and the envelope is refused with a signed negative receipt.
 */
@Injectable()
export class CaseAdmission implements CaseMessageAdmission {
  constructor(
    private readonly cases: CaseRepository,
    private readonly inbound: InboundMessageRepository,
    private readonly trust: FederationTrust,
  ) {}

  concerns(envelope: OpenedEnvelope): boolean {
    const { header } = envelope;
    // Free messages of version 1 join a case when their thread names one; requests open theirs.
    return (
      isCaseMessageKind(header.kind) ||
      ((header.kind === 'reply' || header.kind === 'supplementary_information') &&
        header.thread !== header.id)
    );
  }

  async admit(tx: Transaction, envelope: OpenedEnvelope): Promise<void> {
    const { header } = envelope;
    const caseMessage = isCaseMessageKind(header.kind);
    // Once refused, always refused: a retransmission never turns a refusal into a delivery.
    const refused = await this.inbound.refusalOf(tx, header.id);
    if (refused !== null && caseMessage) {
      throw new ProtocolError(
        isReasonCode(refused) ? refused : 'case-transition-not-allowed',
        `envelope ${header.id} was refused before (${refused})`,
      );
    }
    const record = await this.cases.lock(tx, header.thread);
    if (!record) {
      if (!caseMessage) return; // a free message in a thread of its own, as in version 1
      throw new ProtocolError('case-unknown', `no case ${header.thread} is known here`);
    }
    const fromCounterpart =
      header.from.state === record.counterpartState &&
      header.from.authority === record.counterpartAuthority &&
      header.to.authority === record.localAuthority;
    if (!fromCounterpart) {
      if (!caseMessage) return;
      throw new ProtocolError(
        'case-party-mismatch',
        `case ${record.id} is between ${record.localAuthority} and ${record.counterpartState}/${record.counterpartAuthority}, not ${header.from.state}/${header.from.authority} and ${header.to.authority}`,
      );
    }
    const messages = await this.cases.messagesOf(record.id, tx);
    if (
      caseMessage &&
      header.inReplyTo !== null &&
      header.inReplyTo !== record.id &&
      !messages.some((message) => message.envelopeId === header.inReplyTo)
    ) {
      throw new ProtocolError(
        'case-message-unknown',
        `inReplyTo ${header.inReplyTo} is not a message of case ${record.id}`,
      );
    }
    // The sender's side: the other party's.
    const side: CaseSide = record.direction === 'outbound' ? 'requested' : 'requesting';
    const stored = {
      envelopeId: header.id,
      caseId: record.id,
      direction: 'inbound' as const,
      kind: header.kind,
      side,
      createdAt: new Date(header.created),
      details: storedDetails(envelope.statement.content.case),
    };
    const entry = entryOf(stored);
    const input = {
      record,
      messages,
      extra: entry,
      requestStatus: await this.cases.requestStatus(record.id, tx),
      self: this.trust.state,
      policy: this.trust.directory.policy.timeFrames,
    };
    const derivation = deriveStoredCase(input);
    if (!derivation.facts.applied.includes(entry.id)) {
      const before = deriveStoredCase({ ...input, extra: undefined }).facts;
      throw (
        caseMessageRefusal(before, entry) ??
        new ProtocolError(
          'case-transition-not-allowed',
          `${header.kind} crossed a message that changed case ${record.id} to ${derivation.facts.state}`,
        )
      );
    }
    await this.cases.addMessage(tx, stored);
    await this.cases.saveDerived(record.id, derivation.row, tx);
  }
}
