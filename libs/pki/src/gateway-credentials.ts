import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseCertificateDetails } from './certificate-details';
import { readCertificatesPem } from './certificate-encoding';
import { suiteOfKey, type KeySuite } from './key-suite';
import { PkiError } from './pki-error';

/** Where one State's gateway finds its keys and certificates (all PEM files). */
export interface StateCredentialPaths {
  stateCaCertificate: string;
  signingCertificate: string;
  signingKey: string;
  encryptionCertificate: string;
  encryptionKey: string;
}

export interface GatewayCredentials {
  state: string;
  suite: KeySuite;
  signingKey: KeyObject;
  /** Leaf first, then the State CA: what goes into the JWS `x5c` header. */
  signingChain: X509Certificate[];
  encryptionKey: KeyObject;
  encryptionCertificate: X509Certificate;
  encryptionChain: X509Certificate[];
}

/**
 * Loads a gateway's keys and certificates and checks that they belong together, so that a
 * mix-up of files stops the gateway at start-up with the file named rather than producing
 * envelopes that every peer rejects. Trust in the federation root is the verifier's job.
 */
export function loadGatewayCredentials(paths: StateCredentialPaths): GatewayCredentials {
  const stateCa = readCertificate(paths.stateCaCertificate);
  const signingCertificate = readCertificate(paths.signingCertificate);
  const encryptionCertificate = readCertificate(paths.encryptionCertificate);
  const signingKey = readPrivateKey(paths.signingKey, signingCertificate, paths.signingCertificate);
  const encryptionKey = readPrivateKey(
    paths.encryptionKey,
    encryptionCertificate,
    paths.encryptionCertificate,
  );

  for (const [certificate, file] of [
    [signingCertificate, paths.signingCertificate],
    [encryptionCertificate, paths.encryptionCertificate],
  ] as const) {
    if (!certificate.checkIssued(stateCa) || !certificate.verify(stateCa.publicKey)) {
      throw new PkiError(
        'chain-untrusted',
        `${file} is not issued by the State CA in ${paths.stateCaCertificate}`,
      );
    }
  }

  const suite = suiteOfKey(signingKey, 'signing');
  if (!suite) {
    throw new PkiError(
      'wrong-key-usage',
      `${paths.signingKey} holds a ${signingKey.asymmetricKeyType} key, which cannot sign`,
    );
  }
  if (suiteOfKey(encryptionKey, 'encryption') !== suite) {
    throw new PkiError(
      'wrong-key-usage',
      `${paths.encryptionKey} holds a ${encryptionKey.asymmetricKeyType} key; suite ${suite} needs ${suite === 'rsa' ? 'an RSA' : 'an X25519'} key`,
    );
  }

  const state = countryOf(signingCertificate);
  if (!state || countryOf(stateCa) !== state || countryOf(encryptionCertificate) !== state) {
    throw new PkiError(
      'state-mismatch',
      `the subject C of ${paths.signingCertificate}, ${paths.encryptionCertificate} and ${paths.stateCaCertificate} must name the same State`,
    );
  }

  return {
    state,
    suite,
    signingKey,
    signingChain: [signingCertificate, stateCa],
    encryptionKey,
    encryptionCertificate,
    encryptionChain: [encryptionCertificate, stateCa],
  };
}

function readCertificate(file: string): X509Certificate {
  const pem = readText(file);
  try {
    const [certificate] = readCertificatesPem(pem);
    return certificate as X509Certificate;
  } catch (error) {
    throw new PkiError('malformed-certificate', `${file} holds no readable PEM certificate`, {
      cause: error,
    });
  }
}

function readPrivateKey(
  file: string,
  certificate: X509Certificate,
  certificateFile: string,
): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(readText(file));
  } catch (error) {
    throw new PkiError('malformed-certificate', `${file} holds no readable PEM private key`, {
      cause: error,
    });
  }
  if (!certificate.checkPrivateKey(key)) {
    throw new PkiError(
      'wrong-key-usage',
      `the private key in ${file} does not match the public key of ${certificateFile}`,
    );
  }
  return key;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}

function countryOf(certificate: X509Certificate): string | undefined {
  return parseCertificateDetails(certificate).country;
}
