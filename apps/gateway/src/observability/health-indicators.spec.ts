import { HealthIndicatorService } from '@nestjs/terminus';
import {
  brokerIndicator,
  directoryIndicator,
  inboxIndicator,
  readinessBody,
} from './health-indicators';

describe('health indicators and the readiness body', () => {
  const health = new HealthIndicatorService();
  const validity = { version: 7, expires: '2030-01-01T00:00:00.000Z' };

  it('maps all indicators up to the body readiness has always answered', () => {
    const details = {
      database: { status: 'up' as const },
      ...brokerIndicator(health, { isConnected: true }),
      ...inboxIndicator(health, { isConsuming: true }),
      ...directoryIndicator(health, validity, Date.parse('2029-01-01T00:00:00Z')),
    };
    expect(
      readinessBody('FR', { status: 'ok', info: details, error: {}, details }, validity),
    ).toEqual({
      status: 'ready',
      state: 'FR',
      database: 'up',
      broker: 'up',
      inbox: 'consuming',
      directory: { status: 'valid', version: 7, expires: '2030-01-01T00:00:00.000Z' },
      keys: 'loaded',
    });
  });

  it('names what is down, including a check Terminus could not run', () => {
    const details = {
      ...brokerIndicator(health, { isConnected: false }),
      ...inboxIndicator(health, { isConsuming: false }),
      ...directoryIndicator(health, validity, Date.parse('2031-01-01T00:00:00Z')),
    };
    expect(
      readinessBody('AT', { status: 'error', info: {}, error: details, details }, validity),
    ).toMatchObject({
      status: 'not-ready',
      database: 'down',
      broker: 'down',
      inbox: 'stopped',
      directory: { status: 'expired', version: 7 },
    });
  });
});
