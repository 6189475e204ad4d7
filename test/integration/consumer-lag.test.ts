/**
 * watchConsumerLag on a real broker: the lag of a consumer's assigned partitions grows while the
 * consumer is stuck on a message (no batch ends, so only a look at the brokers' offsets can show
 * it), and goes back to zero once it has processed and committed everything.
 */
import { Kafka, logLevel } from 'kafkajs';
import { watchConsumerLag, type ConsumerLagWatch } from '@dumpstream/kafka';
import { uniquePrefix, waitFor } from '../support/ids';

const kafka = new Kafka({ brokers: (process.env.KAFKA_BROKERS ?? '').split(','), clientId: 'lag-test', logLevel: logLevel.NOTHING });

describe('watchConsumerLag', () => {
  it('shows the lag growing while the consumer is stuck, and zero once it catches up', async () => {
    const prefix = uniquePrefix('lag');
    const topic = `${prefix}.segments`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2, replicationFactor: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const send = (n: number, from: number) => producer.send({ topic, acks: -1, messages: Array.from({ length: n }, (_, i) => ({ key: String(from + i), value: 'x' })) });
    await send(10, 0);

    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const consumer = kafka.consumer({ groupId: `${prefix}-group`, sessionTimeout: 10_000, heartbeatInterval: 500 });
    const lags: number[] = [];
    let lag: ConsumerLagWatch | null = null;
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      lag = watchConsumerLag(kafka, consumer, { groupId: `${prefix}-group`, topics: { [topic]: 'segments' }, everyMs: 200, onLag: (t, n) => t === 'segments' && lags.push(n) });
      await consumer.run({ autoCommitInterval: 100, partitionsConsumedConcurrently: 1, eachMessage: () => stuck });

      await waitFor('the lag of 10 messages not processed', () => (lags.at(-1) === 10 ? true : undefined), 30_000);
      await send(5, 10);
      await waitFor('the lag to grow to 15 while the consumer is stuck', () => (lags.at(-1) === 15 ? true : undefined), 10_000);
      release();
      await waitFor('the lag back to 0', () => (lags.at(-1) === 0 ? true : undefined), 20_000);
    } finally {
      release();
      await lag?.stop();
      await consumer.disconnect();
      await producer.disconnect();
    }
  });
});
