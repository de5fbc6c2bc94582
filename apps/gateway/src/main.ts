import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { type LoggerService, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { DatabaseUnavailableFilter } from './persistence/database-unavailable.filter';
import { JsonDepthPipe } from './common/json-depth.pipe';
import {
  createGatewayLogger,
  gatewayLoggerParams,
  httpErrorLogging,
} from './observability/gateway-logger';
import { serveStaticApp } from './common/static-app';
import { ConfigError, loadGatewayConfig, type GatewayConfig } from './config/gateway-config';
import type { AmqpInboxServer } from './transport/amqp/amqp-inbox.server';
import { AmqpTransport } from './transport/amqp/amqp-transport';
import { FederationTrust } from './trust/federation-trust';

/**
 * SIGTERM/SIGINT: stop taking messages from the inbox and let those in hand finish, then close
 * HTTP, flush the outbox once, close the broker and the database. A second signal kills at once.
 */
function stopGracefullyOnSignals(
  app: NestExpressApplication,
  inbox: AmqpInboxServer,
  logger: LoggerService,
): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.log(`${signal}: stopping gracefully`);
    inbox
      .close()
      .then(() => app.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error(`shutdown failed: ${String(error)}`);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

export async function startGateway(config: GatewayConfig): Promise<NestExpressApplication> {
  // One pino instance for Nest's own lines, the gateway's, the inbox strategy's and HTTP errors.
  const loggerParams = gatewayLoggerParams(config.state);
  const logger = createGatewayLogger(loggerParams);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger,
    bodyParser: false,
    ...(config.http.tls
      ? {
          httpsOptions: {
            cert: readFileSync(config.http.tls.certificatePath),
            key: readFileSync(config.http.tls.keyPath),
          },
        }
      : {}),
  });
  app.use(httpErrorLogging(loggerParams));
  // Inline attachments are capped at 5 MiB decoded; base64 and JSON add about a third.
  app.useBodyParser('json', { limit: '8mb' });
  app.useGlobalPipes(
    new JsonDepthPipe(),
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  app.useGlobalFilters(new DatabaseUnavailableFilter(app.getHttpAdapter()));
  serveStaticApp(app, '/console', 'console');
  serveStaticApp(app, '/workspace', 'workspace');
  const inbox = app
    .get(AmqpTransport)
    .inboxServer(app.get(FederationTrust).routingKeyOf(config.state));
  app.connectMicroservice({ strategy: inbox });
  stopGracefullyOnSignals(app, inbox, logger);
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(`Comity gateway (${config.state})`)
      .setDescription(
        'Submit and track extradition and mutual legal assistance requests between States.',
      )
      .setVersion('1')
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
  await app.startAllMicroservices();
  await app.listen(config.http.port, config.http.host);
  logger.log(`gateway ${config.state} listening on ${await app.getUrl()}`);
  return app;
}

if (require.main === module) {
  let config: GatewayConfig;
  try {
    config = loadGatewayConfig(process.env);
  } catch (error) {
    process.stderr.write(
      `comity gateway: ${error instanceof ConfigError ? error.message : String(error)}\n`,
    );
    process.exit(2);
  }
  startGateway(config).catch((error: unknown) => {
    process.stderr.write(
      `comity gateway ${config.state} failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}
