import { BadRequestException, ForbiddenException, Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { FederationTrust } from '../trust/federation-trust';
import { renderLetterOfRequest } from './letter-of-request';
import { RequestCheckService } from './request-check.service';
import type { LetterFormDto } from './request-form.dto';

/** The letter of request of a draft: the parties from the directory, the rest from the form. */
@Injectable()
export class LetterService {
  constructor(
    private readonly trust: FederationTrust,
    private readonly checks: RequestCheckService,
    private readonly clock: Clock,
  ) {}

  async render(form: LetterFormDto, principal: Principal): Promise<Buffer> {
    if (principal.authority !== form.senderAuthority) {
      throw new ForbiddenException(
        `clerk ${principal.id} acts for ${principal.authority ?? 'no authority'}, not for ${form.senderAuthority}`,
      );
    }
    if (!form.recipient) {
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: ['recipient: choose the counterpart before printing the letter'],
      });
    }
    const directory = this.trust.directory;
    const party = (state: string, authority: string) => ({
      state,
      stateName: directory.state(state)?.name ?? state,
      authority,
      authorityName: directory.authority(state, authority)?.name ?? authority,
    });
    return renderLetterOfRequest({
      kind: form.kind,
      from: party(this.trust.state, form.senderAuthority),
      to: party(form.recipient.state, form.recipient.authority),
      subject: form.subject,
      legalBasis: form.legalBasis ?? '',
      urgency: form.urgency ?? 'routine',
      deadline: form.deadline ?? null,
      request: this.checks.read(form.request),
      reference: null,
      date: this.clock.now(),
    });
  }
}
