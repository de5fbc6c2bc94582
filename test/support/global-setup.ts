import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';

const POSTGRES_ADMIN_URL =
  process.env.COMITY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Names the test harness gives its databases and vhosts (see test/support/services.ts). */
const TEST_DATABASE = /^comity_[a-z]+_([a-z0-9]+)_[0-9a-f]{6}$/;
const TEST_VHOST = /^comity-[a-z0-9-]+_([a-z0-9]+)_[0-9a-f]{6}$/;
/** Left behind means older than any run: a concurrent run's fresh databases are not touched. */
const LEFT_BEHIND_AFTER_MS = 2 * 60 * 60 * 1000;

/** The name's base-36 creation time (see uniqueName) is older than any test run. */
function leftBehind(name: string, pattern: RegExp): boolean {
  const stamp = pattern.exec(name)?.[1];
  return stamp !== undefined && Date.now() - parseInt(stamp, 36) > LEFT_BEHIND_AFTER_MS;
}

/**
 * Before the test files run: removes databases and vhosts that an interrupted earlier run left
 * behind, and issues the test PKI once (issuance is not concurrency-safe), through the built
 * CLI since jest's global setup does not see the path aliases.
 */
export default async function globalSetup(): Promise<void> {
  const client = new Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database');
    for (const { datname } of rows.filter((row) => leftBehind(row.datname, TEST_DATABASE))) {
      await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    }
  } finally {
    await client.end();
  }
  const vhosts = execFileSync('rabbitmqctl', ['-q', 'list_vhosts', 'name'], { encoding: 'utf8' });
  for (const vhost of vhosts
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => leftBehind(line, TEST_VHOST))) {
    execFileSync('rabbitmqctl', ['-q', 'delete_vhost', vhost], { stdio: 'ignore' });
  }

  const root = join(__dirname, '..', '..');
  const cli = join(root, 'dist', 'apps', 'cli', 'src', 'main.js');
  if (!existsSync(cli))
    throw new Error(`${cli} is missing: run "npm run build" first (npm test does)`);
  execFileSync(process.execPath, [cli, 'certs', 'dev', '--dir', join(root, 'test-output', 'pki')], {
    stdio: 'ignore',
  });
}
