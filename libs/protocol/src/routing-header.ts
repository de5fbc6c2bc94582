import { FieldReader } from './fields';
import {
  AUTHORITY_ID,
  CASE_MESSAGE_KINDS,
  MESSAGE_KINDS_V1,
  REQUEST_KINDS,
  STATE_CODE,
  type MessageKind,
} from './message-kinds';
import { isUuidV7 } from './uuid-v7';

/** The wrapper's and the content statement's version; unchanged since the first version. */
export const PROTOCOL_VERSION = 1;

/**
 * The routing header's `v`: 1 for the kinds of the first version, 2 for case messages (§8), 3
 * for requests with structured content (§9). A node refuses a version it does not speak, so
 * case messages go only to States whose directory entry lists protocol version 2, and
 * structured requests only to those that list 3 (others receive their plain-text rendering
 * in a version 1 envelope).
 */
export const HEADER_VERSIONS = [1, 2, 3] as const;
const KINDS_OF_VERSION = { 1: MESSAGE_KINDS_V1, 2: CASE_MESSAGE_KINDS, 3: REQUEST_KINDS } as const;
export type HeaderVersion = (typeof HEADER_VERSIONS)[number];

export interface Party {
  state: string;
  authority: string;
}

/** What the outer signature covers: everything a gateway needs to route and authenticate. */
export interface RoutingHeader {
  v: HeaderVersion;
  id: string;
  kind: MessageKind;
  from: Party;
  to: Party;
  created: string;
  expires: string;
  thread: string;
  inReplyTo: string | null;
  /** SHA-256 (base64url) of the exact ASCII bytes of the content JWE. */
  contentDigest: string;
}

const HEADER_MEMBERS = [
  'v',
  'id',
  'kind',
  'from',
  'to',
  'created',
  'expires',
  'thread',
  'inReplyTo',
  'contentDigest',
] as const;

const DIGEST = /^[A-Za-z0-9_-]{43}$/;

export function readParty(
  reader: FieldReader,
  source: Record<string, unknown>,
  field: string,
): Party {
  const party = reader.object(source, field);
  reader.onlyMembers(party, ['state', 'authority'], field);
  const partyReader = reader.nested(field);
  return {
    state: partyReader.string(party, 'state', STATE_CODE),
    authority: partyReader.string(party, 'authority', AUTHORITY_ID),
  };
}

export function readRoutingHeader(source: Record<string, unknown>): RoutingHeader {
  const reader: FieldReader = new FieldReader('malformed-header', 'header');
  reader.onlyMembers(source, HEADER_MEMBERS);
  if (source.v !== 1 && source.v !== 2 && source.v !== 3) reader.fail('v', 'must be 1, 2 or 3');
  const version: HeaderVersion = source.v;
  const uuid = (field: string): string => {
    const value = source[field];
    if (!isUuidV7(value)) reader.fail(field, 'must be a lower-case UUIDv7');
    return value;
  };
  const created = reader.timestamp(source, 'created');
  const expires = reader.timestamp(source, 'expires');
  if (Date.parse(expires) <= Date.parse(created))
    reader.fail('expires', 'must be later than created');
  const inReplyTo = source.inReplyTo === null ? null : uuid('inReplyTo');
  return {
    v: version,
    id: uuid('id'),
    // Each version has its own kinds: a case message in a version 1 header is malformed.
    kind: reader.oneOf<MessageKind>(source, 'kind', KINDS_OF_VERSION[version]),
    from: readParty(reader, source, 'from'),
    to: readParty(reader, source, 'to'),
    created,
    expires,
    thread: uuid('thread'),
    inReplyTo,
    contentDigest: reader.string(source, 'contentDigest', DIGEST),
  };
}
