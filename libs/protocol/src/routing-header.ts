import { FieldReader } from './fields';
import { AUTHORITY_ID, MESSAGE_KINDS, STATE_CODE, type MessageKind } from './message-kinds';
import { isUuidV7 } from './uuid-v7';

export const PROTOCOL_VERSION = 1;

export interface Party {
  state: string;
  authority: string;
}

/** What the outer signature covers: everything a gateway needs to route and authenticate. */
export interface RoutingHeader {
  v: typeof PROTOCOL_VERSION;
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
  if (source.v !== PROTOCOL_VERSION) reader.fail('v', `must be ${PROTOCOL_VERSION}`);
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
    v: PROTOCOL_VERSION,
    id: uuid('id'),
    kind: reader.oneOf(source, 'kind', MESSAGE_KINDS),
    from: readParty(reader, source, 'from'),
    to: readParty(reader, source, 'to'),
    created,
    expires,
    thread: uuid('thread'),
    inReplyTo,
    contentDigest: reader.string(source, 'contentDigest', DIGEST),
  };
}
