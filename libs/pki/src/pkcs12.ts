import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { PkiError } from './pki-error';

const { asn1, pki, pkcs12 } = forge;

/**
 * PBKDF2 and MAC iteration count: OpenSSL 3's default for `openssl pkcs12 -export`. forge
 * runs both key derivations in pure JavaScript (about 20 µs an iteration with SHA-256), so
 * 10,000 would cost some 400 ms per file written or read; the password's strength is what
 * protects the file either way.
 */
const ITERATIONS = 2048;

/**
 * Reads a PKCS#12 file as national CAs hand them out: the private key plus the certificate
 * chain, leaf first. node-forge decrypts the bags, but it only builds key objects for RSA, so
 * the decrypted PKCS#8 is handed to Node, which reads Ed25519, X25519 and RSA alike.
 */
export function loadPkcs12(
  pfx: Uint8Array,
  password: string,
): { privateKey: KeyObject; chain: X509Certificate[] } {
  let decoded: forge.pkcs12.Pkcs12Pfx;
  try {
    const pfxAsn1 = asn1.fromDer(
      forge.util.createBuffer(Buffer.from(pfx).toString('binary')),
      false,
    );
    // Not strict: files from Windows and OpenSSL are often BER, not DER.
    decoded = pkcs12.pkcs12FromAsn1(pfxAsn1, false, password);
  } catch (error) {
    throw new PkiError(
      'pkcs12-invalid',
      `cannot open the PKCS#12 file: wrong password or damaged file (${messageOf(error)})`,
      { cause: error },
    );
  }

  const keyBags = [
    ...bagsOf(decoded, pki.oids.pkcs8ShroudedKeyBag as string),
    ...bagsOf(decoded, pki.oids.keyBag as string),
  ];
  if (keyBags.length !== 1) {
    throw new PkiError(
      'pkcs12-invalid',
      `the PKCS#12 file holds ${keyBags.length} private keys; exactly one is expected`,
    );
  }
  const keyBag = keyBags[0] as forge.pkcs12.Bag;
  const privateKeyInfo = keyBag.key
    ? pki.wrapRsaPrivateKey(pki.privateKeyToAsn1(keyBag.key))
    : keyBag.asn1;
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: derOf(privateKeyInfo), format: 'der', type: 'pkcs8' });
  } catch (error) {
    throw new PkiError('pkcs12-invalid', 'the private key in the PKCS#12 file is unreadable', {
      cause: error,
    });
  }

  const certificates = bagsOf(decoded, pki.oids.certBag as string).map((bag) => {
    const der = derOf(bag.cert ? pki.certificateToAsn1(bag.cert) : bag.asn1);
    try {
      return new X509Certificate(der);
    } catch (error) {
      throw new PkiError('pkcs12-invalid', 'a certificate in the PKCS#12 file is unreadable', {
        cause: error,
      });
    }
  });
  return { privateKey, chain: orderChain(privateKey, certificates) };
}

/**
 * Writes a PKCS#12 file (PBES2 AES-256-CBC with PBKDF2-HMAC-SHA256, SHA-256 MAC) that
 * OpenSSL 3 and Windows read. forge's own writer accepts RSA keys and certificates only, so
 * the bags are assembled here from the PKCS#8 and DER bytes, whatever the key type.
 */
export function createPkcs12(
  privateKey: KeyObject,
  chain: readonly X509Certificate[],
  password: string,
): Buffer {
  // forge feeds PBKDF2 one byte per UTF-16 unit where OpenSSL uses UTF-8, so only ASCII
  // passwords give files that other tools open.
  if (!/^[\x20-\x7e]*$/.test(password)) {
    throw new TypeError('createPkcs12: the password must be printable ASCII');
  }
  const leaf = chain[0];
  if (!leaf || !leaf.checkPrivateKey(privateKey)) {
    throw new PkiError(
      'pkcs12-invalid',
      'the first certificate of the chain must be the one whose public key matches the private key',
    );
  }
  const localKeyId = forge.md.sha1.create().update(leaf.raw.toString('binary')).digest().getBytes();
  const attributes = bagAttributes(localKeyId);

  const privateKeyInfo = asn1.fromDer(
    forge.util.createBuffer(privateKey.export({ format: 'der', type: 'pkcs8' }).toString('binary')),
  );
  const keyBag = sequence([
    oid(pki.oids.pkcs8ShroudedKeyBag as string),
    explicit0([
      pki.encryptPrivateKeyInfo(privateKeyInfo, password, {
        algorithm: 'aes256',
        count: ITERATIONS,
        prfAlgorithm: 'sha256',
      }),
    ]),
    attributes,
  ]);
  const certificateBags = chain.map((certificate, index) =>
    sequence([
      oid(pki.oids.certBag as string),
      explicit0([
        sequence([
          oid(pki.oids.x509Certificate as string),
          explicit0([octets(certificate.raw.toString('binary'))]),
        ]),
      ]),
      ...(index === 0 ? [attributes] : []),
    ]),
  );
  const authenticatedSafe = sequence([dataContent(certificateBags), dataContent([keyBag])]);
  const safeDer = asn1.toDer(authenticatedSafe).getBytes();

  const macSalt = forge.random.getBytesSync(16);
  const macKey = pkcs12.generateKey(
    password,
    forge.util.createBuffer(macSalt),
    3,
    ITERATIONS,
    32,
    forge.md.sha256.create(),
  );
  const mac = forge.hmac.create();
  mac.start(forge.md.sha256.create(), macKey.getBytes());
  mac.update(safeDer);

  const pfx = sequence([
    integer(3),
    sequence([oid(pki.oids.data as string), explicit0([octets(safeDer)])]),
    sequence([
      sequence([
        sequence([
          oid(pki.oids.sha256 as string),
          asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
        ]),
        octets(mac.digest().getBytes()),
      ]),
      octets(macSalt),
      integer(ITERATIONS),
    ]),
  ]);
  return Buffer.from(asn1.toDer(pfx).getBytes(), 'binary');
}

/** Leaf first: the certificate matching the key, then each issuer in turn. */
function orderChain(privateKey: KeyObject, certificates: X509Certificate[]): X509Certificate[] {
  const leaf = certificates.find((certificate) => certificate.checkPrivateKey(privateKey));
  if (!leaf) {
    throw new PkiError(
      'pkcs12-invalid',
      'the PKCS#12 file holds no certificate for its private key',
    );
  }
  const chain = [leaf];
  const rest = certificates.filter((certificate) => certificate !== leaf);
  for (let current = leaf; ;) {
    const issuerIndex = rest.findIndex((candidate) => current.checkIssued(candidate));
    if (issuerIndex < 0 || current.checkIssued(current)) break;
    current = rest.splice(issuerIndex, 1)[0] as X509Certificate;
    chain.push(current);
  }
  // Unrelated certificates are kept, after the chain, rather than silently dropped.
  return [...chain, ...rest];
}

function bagsOf(pfx: forge.pkcs12.Pkcs12Pfx, bagType: string): forge.pkcs12.Bag[] {
  return pfx.getBags({ bagType })[bagType] ?? [];
}

function bagAttributes(localKeyId: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [
    sequence([
      oid(pki.oids.localKeyId as string),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [octets(localKeyId)]),
    ]),
  ]);
}

function dataContent(bags: forge.asn1.Asn1[]): forge.asn1.Asn1 {
  const safeContents = asn1.toDer(sequence(bags)).getBytes();
  return sequence([oid(pki.oids.data as string), explicit0([octets(safeContents)])]);
}

function sequence(value: forge.asn1.Asn1[]): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, value);
}

function explicit0(value: forge.asn1.Asn1[]): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, value);
}

function oid(value: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(value).getBytes());
}

function octets(bytes: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes);
}

function integer(value: number): forge.asn1.Asn1 {
  return asn1.create(
    asn1.Class.UNIVERSAL,
    asn1.Type.INTEGER,
    false,
    asn1.integerToDer(value).getBytes(),
  );
}

function derOf(value: forge.asn1.Asn1 | undefined): Buffer {
  if (!value) throw new PkiError('pkcs12-invalid', 'a bag of the PKCS#12 file is empty');
  return Buffer.from(asn1.toDer(value).getBytes(), 'binary');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
