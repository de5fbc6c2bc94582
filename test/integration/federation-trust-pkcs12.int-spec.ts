import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPkcs12, loadGatewayCredentials } from '@comity/pki';
import { Clock } from '../../apps/gateway/src/common/clock';
import { loadGatewayConfig } from '../../apps/gateway/src/config/gateway-config';
import { FederationTrust } from '../../apps/gateway/src/trust/federation-trust';
import { testPki } from '../support/test-pki';

describe('a gateway loading its keys from PKCS#12 files, as national CAs hand them out', () => {
  it.each(['AT', 'KE'])(
    'loads %s (Ed25519/X25519 or RSA) and signs with the same certificate',
    async (state) => {
      const pki = await testPki();
      const paths = pki.layout.states[state]!;
      const pem = loadGatewayCredentials(paths);
      const directory = mkdtempSync(join(tmpdir(), 'comity-p12-'));
      writeFileSync(
        join(directory, 'signing.p12'),
        createPkcs12(pem.signingKey, pem.signingChain, 'correct horse'),
      );
      writeFileSync(
        join(directory, 'encryption.p12'),
        createPkcs12(pem.encryptionKey, pem.encryptionChain, 'correct horse'),
      );
      const config = loadGatewayConfig({
        COMITY_STATE: state,
        COMITY_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/unused',
        COMITY_TRUST_ANCHOR: pki.layout.trustAnchor,
        COMITY_DIRECTORY: pki.directoryPath,
        COMITY_API_KEYS: `${pki.layout.states.AT!.signingCertificate}/../api-keys.json`,
        COMITY_SIGNING_PKCS12: join(directory, 'signing.p12'),
        COMITY_ENCRYPTION_PKCS12: join(directory, 'encryption.p12'),
        COMITY_PKCS12_PASSWORD: 'correct horse',
      });
      const trust = new FederationTrust(config, new Clock());
      expect(trust.signing.state).toBe(state);
      expect(trust.signing.suite).toBe(pem.suite);
      expect(trust.signing.x5c).toEqual(
        pem.signingChain.map((certificate) => certificate.raw.toString('base64')),
      );
      expect(trust.decryption[0]!.thumbprint).toBe(
        trust.ownEncryptionCertificate().sha256Thumbprint,
      );

      const wrongPassword = {
        ...config,
        credentials: { ...config.credentials, password: 'wrong' },
      } as typeof config;
      expect(() => new FederationTrust(wrongPassword, new Clock())).toThrow(
        /COMITY_SIGNING_PKCS12: .*signing\.p12/,
      );
    },
  );
});
