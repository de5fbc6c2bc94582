import { DataSource } from 'typeorm';
import { dropDatabase, ensureDatabase } from '../../apps/cli/src/federation/federation-launcher';
import {
  loadGatewayConfig,
  type GatewayConfig,
} from '../../apps/gateway/src/config/gateway-config';
import { dataSourceOptions } from '../../apps/gateway/src/persistence/data-source-options';
import { SchemaMigrator } from '../../apps/gateway/src/persistence/schema-migrator';
import { POSTGRES_ADMIN_URL, uniqueName } from './services';
import { testPki } from './test-pki';

export interface MigratedDatabase {
  url: string;
  dataSource: DataSource;
  /** Closes the connections and drops the database. */
  dispose(): Promise<void>;
}

/** A real database of its own for one test file, migrated the way a node migrates it at start. */
export async function migratedDatabase(prefix: string): Promise<MigratedDatabase> {
  const name = uniqueName(prefix).toLowerCase();
  const url = await ensureDatabase(POSTGRES_ADMIN_URL, name);
  const dataSource = new DataSource(dataSourceOptions(url));
  await dataSource.initialize();
  await new SchemaMigrator(dataSource).onModuleInit();
  return {
    url,
    dataSource,
    dispose: async () => {
      await dataSource.destroy();
      await dropDatabase(POSTGRES_ADMIN_URL, name);
    },
  };
}

/** AT's gateway configuration on the test PKI, with the given database. */
export async function atGatewayConfig(databaseUrl: string): Promise<GatewayConfig> {
  const pki = await testPki();
  const credentials = `${pki.layout.states.AT!.signingCertificate}/..`;
  return loadGatewayConfig({
    COMITY_STATE: 'AT',
    COMITY_DATABASE_URL: databaseUrl,
    COMITY_TRUST_ANCHOR: pki.layout.trustAnchor,
    COMITY_DIRECTORY: pki.directoryPath,
    COMITY_API_KEYS: `${credentials}/api-keys.json`,
    COMITY_CREDENTIALS_DIR: credentials,
  });
}
