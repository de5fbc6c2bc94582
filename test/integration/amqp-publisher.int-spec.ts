import { Logger } from '@nestjs/common';
import { connect } from 'amqplib';
import {
  AmqpPublisher,
  UnroutableError,
} from '../../apps/gateway/src/transport/amqp/amqp-publisher';
import { assertInboxTopology, inboxQueue } from '../../apps/gateway/src/transport/amqp/topology';
import { createVhost, deleteVhost, uniqueName } from '../support/services';

describe('AmqpPublisher on a real RabbitMQ', () => {
  const vhost = uniqueName('comity-publisher');
  let amqpUrl: string;
  let publisher: AmqpPublisher;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    amqpUrl = await createVhost(vhost);
    publisher = new AmqpPublisher({
      url: amqpUrl,
      state: 'AT',
      brokerUser: 'guest',
      prefetch: 1,
      declareTopology: true,
    });
    await publisher.ready();
  });

  afterAll(async () => {
    await publisher?.close();
    await deleteVhost(vhost);
  });

  it('rejects a message no inbox is bound for (mandatory): unroutable is a failure, not silence', async () => {
    await expect(
      publisher.publish({
        routingKey: 'ZZ',
        payload: Buffer.from('x'),
        messageId: 'm-1',
        type: 'envelope',
        contentType: 'text/plain',
      }),
    ).rejects.toBeInstanceOf(UnroutableError);
  });

  it('resolves once the broker confirmed a persistent message into a quorum inbox', async () => {
    const model = await connect(amqpUrl);
    const channel = await model.createConfirmChannel();
    await assertInboxTopology(channel, 'FR');
    await publisher.publish({
      routingKey: 'FR',
      payload: Buffer.from('hello'),
      messageId: 'm-2',
      type: 'envelope',
      contentType: 'text/plain',
    });
    const message = await channel.get(inboxQueue('FR'), { noAck: true });
    await model.close();
    expect(message && message.content.toString()).toBe('hello');
    expect(message && message.properties.deliveryMode).toBe(2);
    expect(message && message.properties.type).toBe('envelope');
    // The broker account rides along as user_id; the broker has validated it.
    expect(message && message.properties.userId).toBe('guest');
  });
});
