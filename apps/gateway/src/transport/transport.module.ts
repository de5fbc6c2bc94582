import { Module } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/gateway-config';
import { AMQP_SETTINGS, AmqpTransport } from './amqp/amqp-transport';
import { amqpSettingsOf } from './amqp/amqp-settings';
import { MESSAGE_TRANSPORT } from './message-transport';

/**
 * The broker behind the MessageTransport port. Features inject MESSAGE_TRANSPORT; only main.ts
 * reaches the AMQP adapter itself, to connect the inbox consumer as a NestJS transport strategy.
 */
@Module({
  providers: [
    { provide: AMQP_SETTINGS, useFactory: amqpSettingsOf, inject: [GATEWAY_CONFIG] },
    AmqpTransport,
    { provide: MESSAGE_TRANSPORT, useExisting: AmqpTransport },
  ],
  exports: [MESSAGE_TRANSPORT, AmqpTransport],
})
export class TransportModule {}
