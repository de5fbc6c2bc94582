import { JsonLogger } from './json-logger';

describe('JsonLogger', () => {
  const capture = () => {
    const lines: Array<{ level: string; line: Record<string, unknown> }> = [];
    const logger = new JsonLogger('FR', (line, level) =>
      lines.push({ level, line: JSON.parse(line) as Record<string, unknown> }),
    );
    return { logger, lines };
  };

  it('writes one JSON object per line with the node, the level and the Nest context', () => {
    const { logger, lines } = capture();
    logger.log('gateway FR listening', 'NestApplication');
    expect(lines[0]?.line).toMatchObject({
      level: 'log',
      node: 'FR',
      context: 'NestApplication',
      message: 'gateway FR listening',
    });
    expect(Date.parse(String(lines[0]?.line.time))).not.toBeNaN();
  });

  it('flattens a record so the envelope id is a top-level, searchable field', () => {
    const { logger, lines } = capture();
    logger.warn({ message: 'alert: held in quarantine', envelopeId: 'abc', reason: 'x' }, 'Q');
    expect(lines[0]?.line).toMatchObject({
      level: 'warn',
      context: 'Q',
      message: 'alert: held in quarantine',
      envelopeId: 'abc',
      reason: 'x',
    });
  });

  it('keeps the stack of errors and cannot be made to overwrite its own fields', () => {
    const { logger, lines } = capture();
    logger.error('failed', 'Error: x\n    at y', 'Relay');
    logger.log({ message: 'm', level: 'fatal', node: 'XX' });
    expect(lines[0]?.line).toMatchObject({ level: 'error', stack: 'Error: x\n    at y' });
    expect(lines[1]?.line).toMatchObject({ level: 'log', node: 'FR', message: 'm' });
  });

  it('drops levels below the configured minimum', () => {
    const { logger, lines } = capture();
    logger.debug('noise');
    logger.setLogLevels(['debug', 'log']);
    logger.debug('wanted');
    expect(lines.map((entry) => entry.line.message)).toEqual(['wanted']);
  });
});
