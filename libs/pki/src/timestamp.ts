import { X509Certificate, createHash, randomBytes, verify } from 'node:crypto';
import { ContentInfo, SignedData, id_signedData } from '@peculiar/asn1-cms';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  MessageImprint,
  TSTInfo,
  TimeStampReq,
  TimeStampResp,
  id_ct_tstInfo,
} from '@peculiar/asn1-tsp';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { fromBER } from 'asn1js';

/**
 * RFC 3161 time-stamps, with the maintained `@peculiar/asn1-*` schemas (no hand-written DER):
 * a request for the SHA-256 of some bytes, the TSA's response read and its token verified
 * (the TSTInfo binds those bytes and the nonce; the CMS signature over the signed attributes
 * verifies with the TSA certificate in the token, which is for time-stamping; optionally that
 * certificate chains to the given anchors at the time it vouches for).
 */

const SHA256 = '2.16.840.1.101.3.4.2.1';
const HASHES: Record<string, string> = {
  [SHA256]: 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const ATTR_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const ATTR_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const EKU_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

export class TimestampError extends Error {
  override readonly name = 'TimestampError';
}

export interface TimestampRequest {
  /** DER, to POST as application/timestamp-query. */
  der: Buffer;
  nonce: Buffer;
}

export interface VerifiedTimestamp {
  genTime: Date;
  serialNumber: string;
  policy: string;
  tsa: X509Certificate;
}

export function timestampRequest(data: Uint8Array): TimestampRequest {
  // A positive INTEGER in minimal DER: the first byte from 0x01 to 0x7f (a leading 0x00 before
  // a byte below 0x80 is not DER, and a TSA rejects the request).
  const nonce = randomBytes(8);
  nonce[0] = (nonce[0]! & 0x7f) | 0x01;
  const request = new TimeStampReq({
    messageImprint: new MessageImprint({
      hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA256 }),
      hashedMessage: new OctetString(createHash('sha256').update(data).digest()),
    }),
    nonce: toArrayBuffer(nonce),
    certReq: true,
  });
  return { der: Buffer.from(AsnConvert.serialize(request)), nonce };
}

/** The token of a TSA's response (DER), after checking it answers `request` for `data`. */
export function readTimestampResponse(
  response: Uint8Array,
  request: TimestampRequest,
  data: Uint8Array,
  anchors?: readonly X509Certificate[],
): { token: Buffer; verified: VerifiedTimestamp } {
  let parsed: TimeStampResp;
  try {
    parsed = AsnConvert.parse(response, TimeStampResp);
  } catch (error) {
    throw new TimestampError(
      `the TSA's answer is not a TimeStampResp: ${(error as Error).message}`,
    );
  }
  if (parsed.status.status > 1 || !parsed.timeStampToken) {
    throw new TimestampError(`the TSA refused: status ${parsed.status.status}`);
  }
  const token = Buffer.from(AsnConvert.serialize(parsed.timeStampToken));
  const verified = verifyTimestampToken(token, data, { nonce: request.nonce, anchors });
  return { token, verified };
}

/** Verifies a time-stamp token (DER ContentInfo) for `data`. */
export function verifyTimestampToken(
  token: Uint8Array,
  data: Uint8Array,
  options: { nonce?: Buffer; anchors?: readonly X509Certificate[] } = {},
): VerifiedTimestamp {
  try {
    const info = AsnConvert.parse(token, ContentInfo);
    if (info.contentType !== id_signedData)
      throw new TimestampError('the token is not CMS SignedData');
    const signed = AsnConvert.parse(info.content, SignedData);
    if (signed.encapContentInfo.eContentType !== id_ct_tstInfo) {
      throw new TimestampError('the token does not hold a TSTInfo');
    }
    const content = signed.encapContentInfo.eContent?.single?.buffer;
    if (!content) throw new TimestampError('the token has no TSTInfo content');
    const tst = AsnConvert.parse(content, TSTInfo);
    const imprintHash = HASHES[tst.messageImprint.hashAlgorithm.algorithm];
    if (!imprintHash) throw new TimestampError('the token uses an unknown hash for the imprint');
    const expected = createHash(imprintHash).update(data).digest();
    if (!expected.equals(Buffer.from(tst.messageImprint.hashedMessage.buffer))) {
      throw new TimestampError('the token is for other data (its message imprint differs)');
    }
    if (options.nonce && !(tst.nonce && unsigned(tst.nonce).equals(unsigned(options.nonce)))) {
      throw new TimestampError('the token does not carry the nonce of the request');
    }
    const signer = signed.signerInfos[0];
    if (!signer || signed.signerInfos.length !== 1)
      throw new TimestampError('the token must have one signer');
    if (!signer.signedAttrs) throw new TimestampError('the token has no signed attributes');
    const raw = signedAttributesBytes(Buffer.from(AsnConvert.serialize(signer)));
    const attribute = (oid: string): Buffer | null => {
      const found = signer.signedAttrs!.find((attr) => attr.attrType === oid);
      return found?.attrValues[0] ? Buffer.from(found.attrValues[0]) : null;
    };
    const digestHash = HASHES[signer.digestAlgorithm.algorithm];
    if (!digestHash) throw new TimestampError('the token uses an unknown digest algorithm');
    const messageDigest = attribute(ATTR_MESSAGE_DIGEST);
    const contentDigest = createHash(digestHash).update(Buffer.from(content)).digest();
    if (
      !messageDigest ||
      !AsnConvert.parse(messageDigest, OctetString).buffer ||
      !contentDigest.equals(Buffer.from(AsnConvert.parse(messageDigest, OctetString).buffer))
    ) {
      throw new TimestampError("the token's signed digest is not its TSTInfo's");
    }
    const contentType = attribute(ATTR_CONTENT_TYPE);
    if (!contentType) throw new TimestampError('the token does not sign its content type');
    // The signature covers the DER of the attributes as a SET (tag 0x31), not as [0].
    const signedBytes = Buffer.from(raw);
    signedBytes[0] = 0x31;
    const signature = Buffer.from(signer.signature.buffer);
    const certificates = (signed.certificates ?? [])
      .filter((choice) => choice.certificate)
      .map((choice) => new X509Certificate(Buffer.from(AsnConvert.serialize(choice.certificate!))));
    const tsa = certificates.find((certificate) =>
      verifySignature(digestHash, signedBytes, certificate, signature),
    );
    if (!tsa)
      throw new TimestampError('the token signature does not verify with a certificate it carries');
    if (!(tsa.keyUsage ?? []).includes(EKU_TIME_STAMPING)) {
      throw new TimestampError('the signing certificate is not for time-stamping');
    }
    const genTime = tst.genTime;
    if (genTime < new Date(tsa.validFrom) || genTime > new Date(tsa.validTo)) {
      throw new TimestampError('the TSA certificate was not valid at the time it vouches for');
    }
    if (options.anchors) chainToAnchors(tsa, certificates, options.anchors, genTime);
    return {
      genTime,
      serialNumber: Buffer.from(tst.serialNumber).toString('hex'),
      policy: tst.policy,
      tsa,
    };
  } catch (error) {
    if (error instanceof TimestampError) throw error;
    throw new TimestampError(`the token cannot be read: ${(error as Error).message}`);
  }
}

function verifySignature(
  digestHash: string,
  data: Buffer,
  certificate: X509Certificate,
  signature: Buffer,
): boolean {
  try {
    const key = certificate.publicKey;
    if (key.asymmetricKeyType === 'ed25519') return verify(null, data, key, signature);
    if (key.asymmetricKeyType === 'ec')
      return verify(digestHash, data, { key, dsaEncoding: 'der' }, signature);
    if (key.asymmetricKeyType === 'rsa') return verify(digestHash, data, key, signature);
    return false;
  } catch {
    return false;
  }
}

function chainToAnchors(
  leaf: X509Certificate,
  carried: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
  at: Date,
): void {
  let current = leaf;
  for (let depth = 0; depth < 5; depth++) {
    const anchor = anchors.find(
      (candidate) => current.checkIssued(candidate) && current.verify(candidate.publicKey),
    );
    if (anchor) return;
    const issuer = carried.find(
      (candidate) =>
        candidate !== current &&
        current.checkIssued(candidate) &&
        current.verify(candidate.publicKey),
    );
    if (!issuer || at < new Date(issuer.validFrom) || at > new Date(issuer.validTo)) break;
    current = issuer;
  }
  throw new TimestampError(
    `the TSA certificate (${leaf.subject.replace(/\n/g, ', ')}) does not chain to the given TSA anchor`,
  );
}

/** The signed attributes' exact bytes ([0] IMPLICIT in the SignerInfo), read with asn1js. */
function signedAttributesBytes(signerInfo: Buffer): Buffer {
  const parsed = fromBER(signerInfo);
  if (parsed.offset === -1) throw new TimestampError('the signer info cannot be read');
  const items =
    (
      parsed.result.valueBlock as {
        value?: Array<{
          idBlock: { tagClass: number; tagNumber: number };
          valueBeforeDecodeView: Uint8Array;
        }>;
      }
    ).value ?? [];
  const attrs = items.find((item) => item.idBlock.tagClass === 3 && item.idBlock.tagNumber === 0);
  if (!attrs) throw new TimestampError('the token has no signed attributes');
  return Buffer.from(attrs.valueBeforeDecodeView);
}

function unsigned(bytes: ArrayBuffer | Buffer): Buffer {
  const buffer = Buffer.from(bytes as ArrayBuffer);
  let start = 0;
  while (start < buffer.length - 1 && buffer[start] === 0) start++;
  return buffer.subarray(start);
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
