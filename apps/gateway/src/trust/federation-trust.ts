import type { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  CertificateVerifier,
  PkiError,
  loadGatewayCredentials,
  loadPkcs12,
  readCertificatesPem,
  sha256Thumbprint,
  type GatewayCredentials,
  type KeySuite,
  type VerifiedCertificate,
} from '@comity/pki';
import {
  ProtocolError,
  checkNotRevoked,
  decryptionIdentityOf,
  DirectoryError,
  verifySignedDirectory,
  signingIdentityOf,
  type DecryptionIdentity,
  type FederationDirectory,
  type SigningIdentity,
} from '@comity/protocol';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';

/**
 * Everything the node trusts and signs with: the federation trust anchor, the directory of
 * States, and this gateway's own keys. Loaded once at start-up; a bad file stops the node with
 * a message naming it (a node must never run with keys it cannot check).
 */
@Injectable()
export class FederationTrust implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(FederationTrust.name);
  readonly verifier: CertificateVerifier;
  private current: FederationDirectory;
  private currentSigned: string;
  private refreshTimer: NodeJS.Timeout | null = null;
  readonly credentials: GatewayCredentials;
  readonly signing: SigningIdentity;
  /** The current decryption key first, then retired ones still honoured during a rollover. */
  readonly decryption: DecryptionIdentity[];
  private readonly recipientCache = new Map<string, VerifiedCertificate>();

  /** The federation's root certificates (COMITY_TRUST_ANCHOR). */
  readonly anchors: X509Certificate[];

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly clock: Clock,
  ) {
    this.anchors = readCertificatesPem(readText(config.trustAnchorPath, 'COMITY_TRUST_ANCHOR'));
    this.verifier = new CertificateVerifier(this.anchors);
    try {
      this.currentSigned = readText(config.directoryPath, 'COMITY_DIRECTORY');
      this.current = verifySignedDirectory(this.currentSigned, this.verifier, clock.now());
    } catch (error) {
      throw new Error(`COMITY_DIRECTORY: ${config.directoryPath}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    this.credentials = loadCredentials(config);
    if (this.credentials.state !== config.state) {
      throw new Error(
        `the gateway certificates belong to ${this.credentials.state}, but COMITY_STATE is ${config.state}`,
      );
    }
    const now = clock.now();
    this.verifier.verifyChain(this.credentials.signingChain, 'signing', now);
    this.verifier.verifyChain(this.credentials.encryptionChain, 'encryption', now);
    this.signing = signingIdentityOf(this.credentials);
    this.decryption = [
      decryptionIdentityOf(this.credentials),
      ...config.retiredCredentialDirectories.map((directory) => {
        const retired = loadPemCredentials(directory);
        if (retired.state !== config.state) {
          throw new Error(
            `COMITY_RETIRED_CREDENTIALS_DIRS: ${directory} holds ${retired.state}'s keys, not ${config.state}'s`,
          );
        }
        return decryptionIdentityOf(retired);
      }),
    ];
    if (!this.directory.state(config.state)) {
      throw new Error(`the directory has no entry for this node's State ${config.state}`);
    }
    this.warnIfOwnCertificatesRevoked();
  }

  /** The signed directory in force, as published (for evidence bundles). */
  get signedDirectory(): string {
    return this.currentSigned;
  }

  /** The directory in force: replaced, without a restart, when a newer signed edition appears. */
  get directory(): FederationDirectory {
    return this.current;
  }

  onApplicationBootstrap(): void {
    this.refreshTimer = setInterval(
      () => this.refreshDirectory(),
      this.config.directoryRefreshSeconds * 1000,
    );
  }

  onApplicationShutdown(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
  }

  /**
   * Reads the directory file again; takes it if it is a validly signed, newer edition. An
   * unreadable, unsigned, expired or older file changes nothing and is logged.
   */
  refreshDirectory(): 'updated' | 'unchanged' | 'refused' {
    let text: string;
    try {
      text = readText(this.config.directoryPath, 'COMITY_DIRECTORY');
    } catch (error) {
      this.logger.warn(`directory refresh: ${(error as Error).message}`);
      return 'refused';
    }
    try {
      const next = verifySignedDirectory(text, this.verifier, this.clock.now());
      const held = this.current.validity.version;
      if (next.validity.version === held) return 'unchanged';
      if (next.validity.version < held) {
        // Going back would resurrect what the newer edition revoked.
        throw new DirectoryError(
          `version ${next.validity.version} is older than version ${held} in force`,
        );
      }
      if (!next.state(this.config.state)) {
        throw new DirectoryError(`it has no entry for this node's State ${this.config.state}`);
      }
      this.current = next;
      this.currentSigned = text;
      this.recipientCache.clear();
      this.logger.log(
        `directory version ${next.validity.version} in force (expires ${next.validity.expires})`,
      );
      this.warnIfOwnCertificatesRevoked();
      return 'updated';
    } catch (error) {
      this.logger.warn(`directory refresh refused: ${(error as Error).message}`);
      return 'refused';
    }
  }

  /** The stricter of this node's limit and the federation policy's. */
  get maxEnvelopeBytes(): number {
    const policy = this.current.policy.maxEnvelopeBytes;
    return policy === null
      ? this.config.limits.maxEnvelopeBytes
      : Math.min(policy, this.config.limits.maxEnvelopeBytes);
  }

  /** Largest large attachment, in plaintext bytes: the stricter of this node's limit and the policy's. */
  get maxAttachmentBytes(): number {
    const policy = this.current.policy.maxAttachmentBytes;
    return policy === null
      ? this.config.attachments.maxBytes
      : Math.min(policy, this.config.attachments.maxBytes);
  }

  get clockSkewMs(): number {
    const policy = this.current.policy.clockSkewSeconds;
    return policy === null
      ? this.config.limits.clockSkewMs
      : Math.min(policy * 1000, this.config.limits.clockSkewMs);
  }

  /** A message's signer must not be revoked in the directory in force. */
  checkNotRevoked(certificate: VerifiedCertificate): void {
    checkNotRevoked(this.current, certificate);
  }

  private warnIfOwnCertificatesRevoked(): void {
    for (const certificate of [
      this.credentials.signingChain[0],
      this.credentials.encryptionCertificate,
    ]) {
      if (certificate && this.current.revocationOf(sha256Thumbprint(certificate))) {
        this.logger.error(
          `alert: this gateway's own certificate ${certificate.subject} is revoked in the directory`,
        );
      }
    }
  }

  get state(): string {
    return this.config.state;
  }

  /** This node's own signing certificate, checked: it verifies the sender's copy of content. */
  ownSigningCertificate(): VerifiedCertificate {
    return this.verifier.verifyChain(this.credentials.signingChain, 'signing', this.clock.now());
  }

  /** This node's own encryption certificate, checked: the sender's copy of content is sealed to it. */
  ownEncryptionCertificate(): VerifiedCertificate {
    return this.verifier.verifyChain(
      this.credentials.encryptionChain,
      'encryption',
      this.clock.now(),
    );
  }

  /**
   * The recipient State's encryption certificate from the directory, verified against the trust
   * anchor now. Throws `unknown-recipient` when the State is not in the directory or has no
   * certificate that is valid today.
   */
  recipientEncryptionCertificate(state: string): VerifiedCertificate {
    const now = this.clock.now();
    const cached = this.recipientCache.get(state);
    if (cached && cached.notAfter > now) return cached;
    const entry = this.directory.state(state);
    if (!entry)
      throw new ProtocolError(
        'unknown-recipient',
        `State ${state} is not in the federation directory`,
      );
    const problems: string[] = [];
    for (const certificate of entry.encryptionCertificates) {
      const chain = [certificate, ...entry.caCertificates];
      try {
        const verified = this.verifier.verifyChain(chain, 'encryption', now);
        if (verified.state !== state) throw new Error(`certificate belongs to ${verified.state}`);
        this.checkNotRevoked(verified);
        this.recipientCache.set(state, verified);
        return verified;
      } catch (error) {
        problems.push(
          error instanceof PkiError || error instanceof Error ? error.message : String(error),
        );
      }
    }
    throw new ProtocolError(
      'unknown-recipient',
      `State ${state} has no usable encryption certificate${problems.length ? `: ${problems.join('; ')}` : ''}`,
    );
  }

  /**
   * A State's gateway signing certificates from the directory that verify against the trust
   * anchor now and are not revoked (a State may list two during a key rotation).
   */
  stateSigningCertificates(state: string): VerifiedCertificate[] {
    const entry = this.directory.state(state);
    if (!entry) return [];
    const now = this.clock.now();
    const usable: VerifiedCertificate[] = [];
    for (const certificate of entry.signingCertificates) {
      try {
        const verified = this.verifier.verifyChain(
          [certificate, ...entry.caCertificates],
          'signing',
          now,
        );
        if (verified.state !== state) continue;
        this.checkNotRevoked(verified);
        usable.push(verified);
      } catch {
        // not usable today: expired, revoked or not under the anchor
      }
    }
    return usable;
  }

  routingKeyOf(state: string): string {
    return this.directory.state(state)?.routingKey ?? state;
  }
}

function readText(path: string, variable: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(
      `${variable}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      { cause: error },
    );
  }
}

function loadPemCredentials(directory: string): GatewayCredentials {
  const file = (name: string): string => join(directory, name);
  return loadGatewayCredentials({
    stateCaCertificate: file('state-ca.crt.pem'),
    signingCertificate: file('gateway-signing.crt.pem'),
    signingKey: file('gateway-signing.key.pem'),
    encryptionCertificate: file('gateway-encryption.crt.pem'),
    encryptionKey: file('gateway-encryption.key.pem'),
  });
}

function loadCredentials(config: GatewayConfig): GatewayCredentials {
  const source = config.credentials;
  if (source.kind === 'pem-directory') return loadPemCredentials(source.directory);
  const read = (path: string, variable: string) => {
    try {
      return loadPkcs12(readFileSync(path), source.password);
    } catch (error) {
      throw new Error(`${variable}: ${path}: ${(error as Error).message}`, { cause: error });
    }
  };
  const signing = read(source.signingPath, 'COMITY_SIGNING_PKCS12');
  const encryption = read(source.encryptionPath, 'COMITY_ENCRYPTION_PKCS12');
  const leaf = signing.chain[0];
  const encryptionLeaf = encryption.chain[0];
  if (!leaf || !encryptionLeaf) throw new Error('a PKCS#12 file holds no certificate');
  const state = /(?:^|\n|, )C=([A-Z]{2})(?:$|\n|,)/.exec(leaf.subject)?.[1];
  if (!state)
    throw new Error(
      `COMITY_SIGNING_PKCS12: the certificate subject has no country (C=) naming the State`,
    );
  const suite: KeySuite = signing.privateKey.asymmetricKeyType === 'rsa' ? 'rsa' : 'ed25519-x25519';
  return {
    state,
    suite,
    signingKey: signing.privateKey,
    signingChain: signing.chain,
    encryptionKey: encryption.privateKey,
    encryptionCertificate: encryptionLeaf,
    encryptionChain: encryption.chain,
  };
}
