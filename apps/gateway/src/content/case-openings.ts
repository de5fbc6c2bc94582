import { Injectable } from '@nestjs/common';
import {
  isRequestKind,
  openingDueAt,
  timeFramesFor,
  type MessageKind,
  type Party,
  type RequestContent,
} from '@comity/protocol';
import type { CaseOpeningRow } from '../persistence/case.repository';
import { FederationTrust } from '../trust/federation-trust';
import { SenderCopies } from './sender-copies';

/**
 * What a request opens its case with, at either end (protocol §8): its urgency and suggested
 * date, its subject sealed for the node's clerks, and when its acknowledgement is due under the
 * directory's time frames. Null for anything but a request.
 */
@Injectable()
export class CaseOpenings {
  constructor(
    private readonly trust: FederationTrust,
    private readonly senderCopies: SenderCopies,
  ) {}

  async rowFor(input: {
    kind: MessageKind;
    created: string;
    requested: Party;
    content: RequestContent;
  }): Promise<CaseOpeningRow | null> {
    if (!isRequestKind(input.kind)) return null;
    const { content } = input;
    const frames = timeFramesFor(this.trust.directory.policy.timeFrames, {
      kind: input.kind,
      urgency: content.urgency,
      requested: input.requested,
    });
    return {
      urgency: content.urgency,
      deadline: content.deadline,
      title: await this.senderCopies.sealNote(content.subject),
      nextDueAt: openingDueAt(
        {
          id: '',
          kind: input.kind,
          created: input.created,
          urgency: content.urgency,
          deadline: content.deadline,
        },
        frames,
      ),
    };
  }
}
