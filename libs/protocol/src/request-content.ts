import { readCaseDetails, type CaseDetails } from './case-details';
import { FieldReader } from './fields';
import { readLargeAttachments, type LargeAttachmentRef } from './large-attachments';
import { renderRequestText } from './request-rendering';
import { checkStructuredRequest } from './request-requirements';
import type { StructuredRequest } from './structured-request';
import {
  ATTACHMENT_FILENAME,
  CONTENT_LIMITS,
  MEDIA_TYPE,
  URGENCIES,
  isCaseMessageKind,
  isRequestKind,
  type MessageKind,
  type Urgency,
} from './message-kinds';

export interface InlineAttachment {
  filename: string;
  mediaType: string;
  /** Standard base64 of the file's bytes. */
  data: string;
}

/** What the clerk wrote. Only the recipient gateway (and the sender's own copy) can read it. */
export interface RequestContent {
  legalBasis: string;
  urgency: Urgency;
  deadline: string | null;
  subject: string;
  body: string;
  attachments: InlineAttachment[];
  /**
   * Files sent by reference, as separately published encrypted chunks (protocol §7). Absent
   * when there are none (never an empty array).
   */
  largeAttachments?: LargeAttachmentRef[];
  /**
   * Case messages only (protocol §8.3), and always for them: their structured part (a reference
   * number, a new estimate, grounds of refusal). Absent for the kinds of version 1.
   */
  case?: CaseDetails;
  /**
   * Requests only, and only in a version 3 header (protocol §9): the request's structured
   * fields. `body` then holds their plain-text rendering followed by nothing else.
   */
  request?: StructuredRequest;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function decodedBase64Length(data: string): number {
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return (data.length / 4) * 3 - padding;
}

/** Reads the content of an envelope of `kind`: a case message must carry `case`, others must not. */
export function readRequestContent(
  source: Record<string, unknown>,
  kind: MessageKind,
): RequestContent {
  const reader: FieldReader = new FieldReader('malformed-content', 'content');
  reader.onlyMembers(source, [
    'legalBasis',
    'urgency',
    'deadline',
    'subject',
    'body',
    'attachments',
    'largeAttachments',
    ...(isCaseMessageKind(kind) ? ['case'] : []),
    ...(isRequestKind(kind) ? ['request'] : []),
  ]);
  let caseDetails: CaseDetails | undefined;
  if (isCaseMessageKind(kind)) {
    if (source.case === undefined) reader.fail('case', `is required for ${kind}`);
    caseDetails = readCaseDetails(source.case, kind);
  }
  const attachmentsValue = source.attachments;
  if (!Array.isArray(attachmentsValue)) reader.fail('attachments', 'must be an array');
  if (attachmentsValue.length > CONTENT_LIMITS.attachments) {
    reader.fail('attachments', `must hold at most ${CONTENT_LIMITS.attachments} files`);
  }
  let totalBytes = 0;
  const attachments = attachmentsValue.map((item: unknown, index): InlineAttachment => {
    const itemReader: FieldReader = new FieldReader(
      'malformed-content',
      `content.attachments[${index}]`,
    );
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      reader.fail(`attachments[${index}]`, 'must be an object');
    }
    const record = item as Record<string, unknown>;
    itemReader.onlyMembers(record, ['filename', 'mediaType', 'data']);
    const data = itemReader.string(record, 'data', BASE64, Number.MAX_SAFE_INTEGER);
    totalBytes += decodedBase64Length(data);
    return {
      filename: itemReader.string(
        record,
        'filename',
        ATTACHMENT_FILENAME,
        CONTENT_LIMITS.attachmentFilenameChars,
      ),
      mediaType: itemReader.string(record, 'mediaType', MEDIA_TYPE),
      data,
    };
  });
  if (totalBytes > CONTENT_LIMITS.attachmentBytesTotal) {
    reader.fail('attachments', `must total at most ${CONTENT_LIMITS.attachmentBytesTotal} bytes`);
  }
  const largeAttachments =
    source.largeAttachments === undefined
      ? undefined
      : readLargeAttachments(source.largeAttachments);
  const structured =
    source.request === undefined || !isRequestKind(kind)
      ? undefined
      : checkStructuredRequest(kind, source.request, [
          ...attachments.map((file) => file.filename),
          ...(largeAttachments ?? []).map((file) => file.filename),
        ]);
  return {
    legalBasis: reader.string(source, 'legalBasis', /\S/, CONTENT_LIMITS.legalBasisChars),
    urgency: reader.oneOf(source, 'urgency', URGENCIES),
    deadline: reader.optionalString(source, 'deadline', DATE, 10),
    subject: reader.string(source, 'subject', /\S/, CONTENT_LIMITS.subjectChars),
    body: reader.string(source, 'body', /\S/, CONTENT_LIMITS.bodyChars),
    attachments,
    ...(largeAttachments === undefined ? {} : { largeAttachments }),
    ...(caseDetails === undefined ? {} : { case: caseDetails }),
    ...(structured === undefined ? {} : { request: structured }),
  };
}

/**
 * The content as a recipient gateway can read it. A structured request's body is always its
 * plain-text rendering; a gateway that does not list protocol version 3 in the directory gets
 * that text alone (sealed in a version 1 envelope), never a member it would refuse.
 */
export function contentForPeer(
  content: RequestContent,
  peerVersions: readonly number[],
): RequestContent {
  const { request: structured, ...rest } = content;
  if (structured === undefined) return content;
  const body = renderRequestText(structured);
  return peerVersions.includes(3) ? { ...rest, body, request: structured } : { ...rest, body };
}
