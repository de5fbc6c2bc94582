import { Injectable } from '@nestjs/common';
import {
  ProtocolError,
  checkContentDigest,
  decryptSenderCopy,
  newSenderCopyKey,
  openNote,
  sealNote,
  sealSenderCopy,
  sealedNoteKeyId,
  senderCopyKeyId,
  unwrapDataKey,
  uuidV7,
  verifyContentStatement,
  verifyEnvelopeSignature,
  wrapDataKey,
  type RequestContent,
  type SenderCopyKey,
} from '@comity/protocol';
import { Clock } from '../common/clock';
import { contentPurged, requireEnvelope } from '../common/content-purged';
import { contentUnavailable } from '../common/content-unavailable';
import type { OutboundMessageEntity } from '../persistence/entities/outbound-message.entity';
import { SenderCopyKeyRepository } from '../persistence/sender-copy-key.repository';
import { FederationTrust } from '../trust/federation-trust';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A process seals its copies under one data key for at most this long, then takes a new one. */
const DATA_KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;

/**
 * The node's own sealed copy of each request it sends, so that its clerk (and an operator's
 * retry) can read it later although the envelope is encrypted to the recipient only.
 *
 * The copy is the envelope's content key, sealed under a data key (AES-256-GCM, `alg: dir` JWE)
 * that is itself stored wrapped to the node's own encryption certificate: under 200 bytes and
 * no key agreement per request, instead of a second encryption of the whole content to the
 * node's own certificate. Copies of that earlier form (content encrypted to the node's own
 * certificate) still open.
 */
@Injectable()
export class SenderCopies {
  private current: { key: Promise<SenderCopyKey>; createdAt: number } | null = null;
  private readonly known = new Map<string, Promise<SenderCopyKey>>();

  constructor(
    private readonly keys: SenderCopyKeyRepository,
    private readonly trust: FederationTrust,
    private readonly clock: Clock,
  ) {}

  /** Seals the content key of an envelope this node is sending (`SealedEnvelope.contentKey`). */
  async seal(contentKey: Buffer): Promise<string> {
    // No sending while the node's own encryption certificate is not valid.
    this.trust.ownEncryptionCertificate();
    return sealSenderCopy(contentKey, await this.currentKey());
  }

  /** Seals a short text about a case of this node (its subject) under the current data key. */
  async sealNote(text: string): Promise<string> {
    return sealNote(text, await this.currentKey());
  }

  /** Opens a sealed note; null when it cannot be opened (its key is gone or it was altered). */
  async openNote(note: string): Promise<string | null> {
    try {
      const keyId = sealedNoteKeyId(note);
      if (keyId === null) return null;
      return openNote(note, await this.keyById(keyId));
    } catch {
      return null;
    }
  }

  /**
   * The content of a request this node sent, from its sealed copy, with the signature checked
   * against the certificate that signed it then, not today's (keys roll over), and bound to
   * the message's id. A copy that cannot be opened any more is a 409 naming the reason.
   */
  async open(
    row: Pick<OutboundMessageEntity, 'id' | 'envelope' | 'createdAt' | 'senderCopy'> & {
      contentPurgedAt?: Date | null;
    },
  ): Promise<RequestContent> {
    const bytes = requireEnvelope(row);
    const senderCopy = row.senderCopy;
    if (senderCopy === null) throw contentPurged(row);
    try {
      const envelope = verifyEnvelopeSignature(bytes, this.trust.verifier, row.createdAt);
      // The whole content JWE is bound by the signed header's digest: the content key alone
      // would not notice a changed encrypted-key part, which the recipient could not open.
      checkContentDigest(envelope);
      const keyId = senderCopyKeyId(senderCopy);
      const dataKey = keyId === null ? null : await this.keyById(keyId);
      const contentJws = decryptSenderCopy(
        senderCopy,
        { dataKey, self: this.trust.decryption },
        envelope.contentJwe,
      );
      const statement = verifyContentStatement(contentJws, envelope.sender);
      if (statement.envelopeId !== row.id) {
        throw new ProtocolError(
          'content-binding-mismatch',
          `the sealed copy holds the content of ${statement.envelopeId}, not of ${row.id}`,
        );
      }
      return statement.content;
    } catch (error) {
      throw contentUnavailable(row.id, error);
    }
  }

  private currentKey(): Promise<SenderCopyKey> {
    const now = this.clock.now().getTime();
    if (this.current === null || now - this.current.createdAt > DATA_KEY_LIFETIME_MS) {
      const key = this.createKey(now);
      const current = { key, createdAt: now };
      this.current = current;
      // A key that could not be stored is never used: the next request tries again.
      key.catch(() => {
        if (this.current === current) this.current = null;
      });
    }
    return this.current.key;
  }

  private async createKey(now: number): Promise<SenderCopyKey> {
    const key = newSenderCopyKey(uuidV7(now));
    await this.keys.insertSenderCopyKey(
      key.id,
      wrapDataKey(key, this.trust.ownEncryptionCertificate()),
      new Date(now),
    );
    this.known.set(key.id, Promise.resolve(key));
    return key;
  }

  private keyById(id: string): Promise<SenderCopyKey> {
    if (!UUID.test(id)) {
      return Promise.reject(
        new ProtocolError('malformed-content', `the sealed copy's data key id is not a UUID`),
      );
    }
    let key = this.known.get(id);
    if (key === undefined) {
      key = this.keys.findSenderCopyKey(id).then((wrapped) => {
        if (wrapped === null) {
          throw new ProtocolError(
            'wrong-recipient-key',
            `the sealed copy's data key ${id} is not in this node's database`,
          );
        }
        return unwrapDataKey(id, wrapped, this.trust.decryption);
      });
      this.known.set(id, key);
      // Not cached when it failed (the database may have been down).
      key.catch(() => this.known.delete(id));
    }
    return key;
  }
}
