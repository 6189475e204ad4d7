/**
 * A produce whose response is lost (the broker wrote the batch, then the connection died: a broker
 * killed mid-request) must not cost a message sent meanwhile. With kafkajs's idempotent producer
 * it does: the lost batch's sequence number is handed back, the next send takes it, and the broker
 * acknowledges that send as a duplicate without writing it (run this test with `idempotent: true`
 * in atLeastOnceProducer to see B go missing). The pipeline's producers write twice instead, and
 * their consumers merge by key.
 */
import * as net from 'node:net';
import { Kafka, logLevel, type ISocketFactory } from 'kafkajs';
import { atLeastOnceProducer } from '@dumpstream/kafka';
import { uniquePrefix, waitFor } from '../support/ids';

/** Sockets that, once armed, let the next Produce request through and drop the connection instead of its response. */
function lossySockets(): { factory: ISocketFactory; loseNextResponse: () => void; lost: () => number } {
  let armed = false;
  let lost = 0;
  let dropping: net.Socket | null = null;
  const factory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = net.connect({ host, port }, onConnect);
    const write = socket.write.bind(socket) as (...a: unknown[]) => boolean;
    socket.write = ((buf: unknown, ...rest: unknown[]) => {
      // A request starts with its size (4 bytes) and its API key (2 bytes): 0 is Produce.
      if (armed && Buffer.isBuffer(buf) && buf.length > 6 && buf.readInt16BE(4) === 0) {
        armed = false;
        dropping = socket;
      }
      return write(buf, ...rest);
    }) as typeof socket.write;
    const emit = socket.emit.bind(socket) as (event: string | symbol, ...a: unknown[]) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event === 'data' && dropping === socket) {
        dropping = null;
        lost++;
        setImmediate(() => socket.destroy(new Error('response lost (test)')));
        return true;
      }
      return emit(event, ...args);
    }) as typeof socket.emit;
    return socket;
  };
  return { factory, loseNextResponse: () => (armed = true), lost: () => lost };
}

it('loses no message when a produce response is lost and another send follows', async () => {
  const sockets = lossySockets();
  const kafka = new Kafka({ brokers: [process.env.KAFKA_BROKERS!], clientId: 'lost-response', requestTimeout: 5000, logLevel: logLevel.NOTHING, socketFactory: sockets.factory });
  const topic = `${uniquePrefix('lost')}.segments`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const producer = atLeastOnceProducer(kafka);
  await producer.connect();
  const consumer = kafka.consumer({ groupId: `${topic}.reader` });
  try {
    await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'first' }] });
    sockets.loseNextResponse();
    const a = producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'A' }] });
    await new Promise((r) => setTimeout(r, 20));
    const b = producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'B' }] });
    await Promise.all([a, b]);
    expect(sockets.lost()).toBe(1);

    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    const high = Number((await admin.fetchTopicOffsets(topic))[0].high);
    await waitFor('every message read back', () => (seen.length >= high ? true : undefined), 30_000);
    // A was written, its response lost, and sent again: twice. B once. Nothing missing.
    expect(new Set(seen)).toEqual(new Set(['first', 'A', 'B']));
    expect(seen.filter((v) => v === 'B')).toHaveLength(1);
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
});
