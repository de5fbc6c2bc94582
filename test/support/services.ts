import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The local services every integration and end-to-end test talks to (real ones, never mocks). */
export const POSTGRES_ADMIN_URL =
  process.env.COMITY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const AMQP_BASE_URL =
  process.env.COMITY_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/**
 * A RabbitMQ virtual host of its own per test file, so parallel test files (and a demo running
 * on the same broker) never see each other's queues.
 */
export async function createVhost(name: string): Promise<string> {
  await run('rabbitmqctl', ['-q', 'add_vhost', name]);
  await run('rabbitmqctl', ['-q', 'set_permissions', '-p', name, 'guest', '.*', '.*', '.*']);
  return `${AMQP_BASE_URL}/${encodeURIComponent(name)}`;
}

export async function deleteVhost(name: string): Promise<void> {
  await run('rabbitmqctl', ['-q', 'delete_vhost', name]).catch(() => undefined);
}
