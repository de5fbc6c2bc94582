import { Controller, Get, InternalServerErrorException, Logger, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { __resetOutOfContextForTests } from 'nestjs-pino/PinoLogger';
import request from 'supertest';
import {
  createGatewayLogger,
  gatewayLoggerParams,
  httpErrorLogging,
  REDACTED,
} from './gateway-logger';

type Line = Record<string, unknown>;

function capture(state = 'FR') {
  __resetOutOfContextForTests();
  const raw: string[] = [];
  const params = gatewayLoggerParams(state, { write: (line: string) => raw.push(line) });
  const logger = createGatewayLogger(params);
  const lines = (): Line[] => raw.map((line) => JSON.parse(line) as Line);
  return { params, logger, raw, lines };
}

describe('gateway logger (nestjs-pino)', () => {
  it('writes one JSON object per line with the time, the level, the State and the Nest context', () => {
    const { logger, raw, lines } = capture();
    logger.log('gateway FR listening', 'NestApplication');
    expect(raw).toHaveLength(1);
    expect(raw[0]?.endsWith('}\n')).toBe(true);
    expect(raw[0]?.indexOf('\n')).toBe(raw[0]!.length - 1);
    expect(lines()[0]).toMatchObject({
      level: 'log',
      node: 'FR',
      context: 'NestApplication',
      message: 'gateway FR listening',
    });
    expect(lines()[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('flattens a record so the envelope id is a top-level, searchable field', () => {
    const { logger, lines } = capture();
    logger.warn({ message: 'alert: held in quarantine', envelopeId: 'abc', reason: 'x' }, 'Q');
    expect(lines()[0]).toMatchObject({
      level: 'warn',
      node: 'FR',
      context: 'Q',
      message: 'alert: held in quarantine',
      envelopeId: 'abc',
      reason: 'x',
    });
  });

  it('keeps the stack of errors and cannot be made to overwrite its own fields', () => {
    const { logger, raw, lines } = capture();
    logger.error('failed', 'Error: x\n    at y', 'Relay');
    logger.log({ message: 'm', level: 'fatal', node: 'XX', time: 'then' });
    expect(lines()[0]).toMatchObject({
      level: 'error',
      context: 'Relay',
      message: 'failed',
      err: { stack: 'Error: x\n    at y' },
    });
    expect(lines()[1]).toMatchObject({ level: 'log', node: 'FR', message: 'm' });
    expect(raw[1]).not.toContain('XX');
    expect(raw[1]).not.toContain('then');
  });

  it('logs out of dependency injection too: plain messages and Error objects, as the inbox strategy does', () => {
    const { logger, lines } = capture('AT');
    logger.warn('inbox: broker not reachable yet; retrying');
    logger.error(new Error('socket closed'));
    expect(lines()[0]).toMatchObject({
      level: 'warn',
      node: 'AT',
      message: 'inbox: broker not reachable yet; retrying',
    });
    expect(lines()[1]).toMatchObject({
      level: 'error',
      message: 'socket closed',
      err: { type: 'Error', message: 'socket closed' },
    });
  });

  it('redacts fields that could hold keys, credentials or content, at the top and one level down', () => {
    const { logger, raw, lines } = capture();
    const secrets = {
      key: 'SECRET-key',
      privateKey: '-----BEGIN PRIVATE KEY----- SECRET-pk',
      secret: 'SECRET-secret',
      password: 'SECRET-password',
      apiKey: 'SECRET-apikey',
      content: 'SECRET-content witness 4711',
      body: { text: 'SECRET-body' },
      subject: 'SECRET-subject',
      data: 'SECRET-data',
      attachments: [{ name: 'SECRET-attachment.pdf' }],
      envelope: 'SECRET-envelope',
      payload: 'SECRET-payload',
    };
    logger.log({ message: 'with secrets', envelopeId: 'e-1', ...secrets }, 'Test');
    logger.warn({
      message: 'nested',
      detail: { privateKey: 'SECRET-nested-pk', content: 'SECRET-nested-content', count: 3 },
      headers: { authorization: 'Bearer SECRET-token', 'x-api-key': 'SECRET-header-key' },
      request: {
        headers: { authorization: 'Bearer SECRET-req-token', cookie: 'sid=SECRET-cookie' },
      },
    });
    expect(raw.join('')).not.toContain('SECRET');
    expect(raw.join('')).not.toContain('witness 4711');
    const [flat, nested] = lines();
    expect(flat).toMatchObject({ message: 'with secrets', envelopeId: 'e-1', context: 'Test' });
    for (const field of Object.keys(secrets)) expect(flat?.[field]).toBe(REDACTED);
    expect(nested).toMatchObject({
      detail: { privateKey: REDACTED, content: REDACTED, count: 3 },
      headers: { authorization: REDACTED, 'x-api-key': REDACTED },
      request: { headers: { authorization: REDACTED, cookie: REDACTED } },
    });
  });

  it("logs an error's name, message, stack and code, never its other properties (a query's parameters)", () => {
    const { logger, raw, lines } = capture();
    const failed = Object.assign(new Error('duplicate key'), {
      code: '23505',
      query: 'INSERT INTO message VALUES ($1)',
      parameters: ['SECRET-envelope-bytes'],
    });
    logger.error(failed, 'OutboundMessageRepository');
    expect(raw.join('')).not.toContain('SECRET');
    expect(lines()[0]).toMatchObject({
      level: 'error',
      context: 'OutboundMessageRepository',
      message: 'duplicate key',
      err: { type: 'Error', message: 'duplicate key', code: '23505' },
    });
  });

  describe('over HTTP', () => {
    @Controller()
    class ProbeController {
      private readonly logger = new Logger('Probe');

      @Post('v1/requests')
      submit(): { id: string } {
        this.logger.log({ message: 'accepted', envelopeId: 'e-2' });
        return { id: 'e-2' };
      }

      @Get('broken')
      broken(): never {
        throw new InternalServerErrorException();
      }
    }

    let app: NestExpressApplication;
    let output: ReturnType<typeof capture>;

    beforeAll(async () => {
      output = capture();
      const moduleRef = await Test.createTestingModule({
        controllers: [ProbeController],
      }).compile();
      app = moduleRef.createNestApplication<NestExpressApplication>({ logger: output.logger });
      app.use(httpErrorLogging(output.params));
      await app.init();
      output.raw.length = 0;
    });

    afterAll(() => app.close());

    it('logs no line per request, never headers or bodies, and one line per server error', async () => {
      await request(app.getHttpServer())
        .post('/v1/requests?witness=SECRET-query')
        .set('Authorization', 'Bearer SECRET-bearer')
        .set('X-Api-Key', 'SECRET-api-key')
        .set('Cookie', 'session=SECRET-cookie')
        .send({ subject: 'SECRET-subject', content: 'SECRET-content' })
        .expect(201);
      await request(app.getHttpServer())
        .get('/broken')
        .set('Authorization', 'Bearer SECRET-bearer')
        .expect(500);

      expect(output.raw.join('')).not.toContain('SECRET');
      const lines = output.lines();
      // The handler's own line, and no HTTP line for the 201.
      expect(lines.filter((line) => line.context === 'HTTP')).toHaveLength(1);
      expect(lines.find((line) => line.message === 'accepted')).toMatchObject({
        level: 'log',
        node: 'FR',
        context: 'Probe',
        envelopeId: 'e-2',
      });
      expect(lines.find((line) => line.context === 'HTTP')).toMatchObject({
        level: 'error',
        node: 'FR',
        message: 'GET /broken answered 500',
        res: { statusCode: 500 },
        req: { method: 'GET', path: '/broken' },
      });
      for (const line of lines)
        expect(Object.keys((line.req ?? {}) as object)).not.toContain('headers');
    });
  });
});
