/** The requests that open a case (protocol §8): its id is the request's envelope id. */
export const REQUEST_KINDS = [
  'mla_request',
  'extradition_request',
  'provisional_arrest_request',
  'asset_recovery_request',
] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/**
 * The kinds of protocol version 1 (routing header `v: 1`): the requests, and two free messages
 * that join the case named by their `thread` without changing its state. The directory says
 * which of these an authority accepts.
 */
export const MESSAGE_KINDS_V1 = [...REQUEST_KINDS, 'supplementary_information', 'reply'] as const;

/**
 * The case messages of protocol version 2 (routing header `v: 2`): the work of the two central
 * authorities on a request after delivery. Each belongs to the case named by its `thread`.
 */
export const CASE_MESSAGE_KINDS = [
  'acknowledgement',
  'information_request',
  'additional_information',
  'status_inquiry',
  'status_report',
  'postponement',
  'consultation',
  'partial_execution',
  'execution_completed',
  'refusal',
  'withdrawal',
  'closure',
] as const;
export type CaseMessageKind = (typeof CASE_MESSAGE_KINDS)[number];

/** Every kind of envelope, in both protocol versions. */
export const MESSAGE_KINDS = [...MESSAGE_KINDS_V1, ...CASE_MESSAGE_KINDS] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export function isRequestKind(kind: string): kind is RequestKind {
  return (REQUEST_KINDS as readonly string[]).includes(kind);
}

export function isCaseMessageKind(kind: string): kind is CaseMessageKind {
  return (CASE_MESSAGE_KINDS as readonly string[]).includes(kind);
}

/**
 * The routing header version an envelope travels with: case messages need version 2, requests
 * with structured content (`content.request`, protocol §9) version 3, everything else 1.
 */
export function headerVersionOf(kind: MessageKind, structured = false): 1 | 2 | 3 {
  if (isCaseMessageKind(kind)) return 2;
  return structured && isRequestKind(kind) ? 3 : 1;
}

export const URGENCIES = ['routine', 'urgent', 'immediate'] as const;
export type Urgency = (typeof URGENCIES)[number];

/** Size limits of the inline content, shared by the API's validation and the receiver's checks. */
export const CONTENT_LIMITS = {
  subjectChars: 300,
  legalBasisChars: 500,
  bodyChars: 1_000_000,
  attachments: 10,
  attachmentFilenameChars: 255,
  /** Decoded bytes of all inline attachments together; large evidence files travel separately. */
  attachmentBytesTotal: 5 * 1024 * 1024,
} as const;

export const STATE_CODE = /^[A-Z]{2}$/;
export const AUTHORITY_ID = /^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/;
export const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
/** A plain file name: no path separators, no control characters, not "." or "..". */
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
export const ATTACHMENT_FILENAME = /^(?!\.\.?$)[^/\\\x00-\x1f\x7f]+$/;
