import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connect } from 'amqplib';
import { brokerUserOf } from '../../apps/cli/src/federation/dev-directory';
import { assertInboxTopology } from '../../apps/gateway/src/transport/amqp/topology';

const run = promisify(execFile);
const rabbitmqctl = (...args: string[]) => run('rabbitmqctl', ['-q', ...args]);

export const brokerPasswordOf = (state: string): string =>
  `dev-only-${state.toLowerCase()}-password`;

/**
 * Least privilege on the broker, as docs/operations.md describes it: the administrator declares
 * the topology; each State's gateway gets an account of its own that may configure nothing,
 * write only to the transmit and quarantine exchanges, and read only its own inbox and
 * quarantine. The broker then validates every message's user_id against that account.
 */
export async function provisionStateAccounts(
  vhost: string,
  adminUrl: string,
  states: string[],
): Promise<void> {
  const model = await connect(adminUrl);
  const channel = await model.createConfirmChannel();
  for (const state of states) await assertInboxTopology(channel, state, state);
  await model.close();
  for (const state of states) {
    const user = brokerUserOf(state);
    await rabbitmqctl('delete_user', user).catch(() => undefined);
    await rabbitmqctl('add_user', user, brokerPasswordOf(state));
    await rabbitmqctl(
      'set_permissions',
      '-p',
      vhost,
      user,
      '^$',
      '^comity\\.(transmit|quarantine)$',
      `^comity\\.(inbox|quarantine)\\.${state}$`,
    );
  }
}

export async function removeStateAccounts(states: string[]): Promise<void> {
  for (const state of states)
    await rabbitmqctl('delete_user', brokerUserOf(state)).catch(() => undefined);
}

export function stateAmqpUrl(state: string, adminUrl: string): string {
  const url = new URL(adminUrl);
  url.username = brokerUserOf(state);
  url.password = brokerPasswordOf(state);
  return url.toString();
}
