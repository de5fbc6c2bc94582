import { alertsOf, type OperationsSnapshot } from './operations-overview.service';

const now = new Date('2027-01-10T00:00:00Z');

function healthy(): Omit<OperationsSnapshot, 'alerts'> {
  return {
    state: 'FR',
    at: now,
    components: {
      database: 'up',
      broker: 'up',
      inbox: 'consuming',
      directory: { status: 'valid', version: 7, expires: '2027-12-31T00:00:00Z' },
    },
    queues: [],
    outbox: { backlog: 0, oldestSince: null },
    peers: [],
    quarantineHeld: 0,
    overdueReceipts: { count: 0, oldestSince: null },
    failedLastDay: 0,
    overdueCases: [],
    certificates: [],
    webhooks: { alerted: 0, deadLetters: 0 },
  };
}

describe('alertsOf: overdue case steps', () => {
  it('raises none while no case step is overdue', () => {
    expect(alertsOf(healthy(), now)).toEqual([]);
  });

  it('counts the overdue steps and names the largest groups, metadata only', () => {
    const alerts = alertsOf(
      {
        ...healthy(),
        overdueCases: [
          { counterpartState: 'AT', kind: 'mla_request', step: 'acknowledge', count: 3 },
          { counterpartState: 'KE', kind: 'mla_request', step: 'execute', count: 1 },
          {
            counterpartState: 'AT',
            kind: 'extradition_request',
            step: 'provide_information',
            count: 2,
          },
          { counterpartState: 'DE', kind: 'mla_request', step: 'answer_status_inquiry', count: 1 },
        ],
      },
      now,
    );
    expect(alerts).toEqual([
      {
        severity: 'warning',
        code: 'case-overdue',
        message:
          '7 case step(s) overdue: 3 to acknowledge (AT), 2 to provide information (AT), 1 to execute (KE) and more. Clerks see them in their case lists.',
      },
    ]);
  });
});

describe('alertsOf: webhooks', () => {
  it('raises a critical alert for endpoints that keep failing and a warning for dead letters', () => {
    const alerts = alertsOf({ ...healthy(), webhooks: { alerted: 2, deadLetters: 5 } }, now);
    expect(alerts.map((alert) => [alert.code, alert.severity])).toEqual([
      ['webhook-failing', 'critical'],
      ['webhook-dead-letters', 'warning'],
    ]);
    expect(alerts[0]?.message).toContain('2 webhook endpoint(s)');
    expect(alerts[1]?.message).toContain('5 webhook event(s)');
  });
});
