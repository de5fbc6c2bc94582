/** What a message asks for. The list is part of the protocol; the directory says which kinds an authority accepts. */
export const MESSAGE_KINDS = [
  'mla_request',
  'extradition_request',
  'provisional_arrest_request',
  'asset_recovery_request',
  'supplementary_information',
  'reply',
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

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
