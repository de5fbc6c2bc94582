import { BadRequestException, Injectable } from '@nestjs/common';
import {
  ProtocolError,
  missingFields,
  readStructuredRequest,
  renderRequestText,
  requestAdvice,
  type MissingField,
  type StructuredRequest,
} from '@comity/protocol';
import { FederationTrust } from '../trust/federation-trust';
import type { RequestFormDto } from './request-form.dto';

export interface RequestCheck {
  /** Required fields still empty: sending is refused until there are none. */
  missing: MissingField[];
  /** What UNCAC asks "where possible", and directory mismatches: shown, never blocking. */
  warnings: string[];
  /** The request's plain-text rendering: what a reader of its body sees (protocol §9.3). */
  preview: string;
}

/**
 * The one completeness check of a structured request, as the writer shows it while the clerk
 * types: the protocol's table (the same the API applies on sending and the receiver on
 * arrival) plus what the directory says of the recipient.
 */
@Injectable()
export class RequestCheckService {
  constructor(private readonly trust: FederationTrust) {}

  read(value: Record<string, unknown>): StructuredRequest {
    try {
      return readStructuredRequest(value);
    } catch (error) {
      if (error instanceof ProtocolError) {
        throw new BadRequestException({
          statusCode: 400,
          error: 'Bad Request',
          message: [error.message.replace(/^content\./, '')],
        });
      }
      throw error;
    }
  }

  check(form: RequestFormDto): RequestCheck {
    const request = this.read(form.request);
    const missing = missingFields(form.kind, request);
    const filenames = form.filenames ?? [];
    request.documents.forEach((document, index) => {
      if (!filenames.includes(document.filename)) {
        missing.push({
          field: `documents[${index}]`,
          label: `The file ${document.filename}, attached`,
          rule: 'documents name the request’s files',
        });
      }
    });
    return {
      missing,
      warnings: [...this.directoryWarnings(form, request), ...requestAdvice(request)],
      preview: renderRequestText(request),
    };
  }

  private directoryWarnings(form: RequestFormDto, request: StructuredRequest): string[] {
    if (!form.recipient) return [];
    const { state, authority } = form.recipient;
    const directory = this.trust.directory;
    const entry = directory.authority(state, authority);
    if (!entry) return [`${authority} is not an authority of ${state} in the directory`];
    const warnings: string[] = [];
    if (!entry.requestKinds.includes(form.kind)) {
      warnings.push(`${authority} does not accept ${form.kind} (directory)`);
    }
    if (request.language && !entry.languages.includes(request.language)) {
      warnings.push(
        `${authority} accepts requests in ${entry.languages.join(', ')}, not in ${request.language}: attach a translation (directory)`,
      );
    }
    if (!(directory.state(state)?.protocolVersions ?? [1]).includes(3)) {
      warnings.push(
        `${state}'s gateway reads requests as plain text only: the fields travel as their text rendering`,
      );
    }
    return warnings;
  }
}
