/**
 * Detect publishes every report in a Kafka transaction of its own, one after the other. On a real
 * broker the transaction begun just after a commit has its AddPartitionsToTxn refused with
 * CONCURRENT_TRANSACTIONS while the coordinator writes the last one's markers; kafkajs on its own
 * then retries the whole send after its retry policy's wait (200 ms and more), refreshing the
 * metadata first. With installTransactionRetryFix (installed by createKafka) the request alone is
 * sent again within milliseconds: every transaction commits, each message is read once, and
 * kafkajs's own retry (whose metadata refresh shows it) is never needed.
 */
import type { Kafka } from 'kafkajs';
import { concurrentTransactionsRetried, createKafka, type Log } from '@dumpstream/kafka';
import { uniquePrefix } from '../support/ids';

const quiet: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const TRANSACTIONS = 40;

let kafka: Kafka;
beforeAll(() => {
  kafka = createKafka({ brokers: (process.env.KAFKA_BROKERS ?? '').split(','), clientId: 'txn-test' }, quiet);
});

it('commits transactions back to back without waiting on kafkajs\'s retry, each message once', async () => {
  const prefix = uniquePrefix('txn');
  const topic = `${prefix}.out`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2, replicationFactor: 1 }, { topic: `${prefix}.in`, numPartitions: 1, replicationFactor: 1 }] });
  const producer = kafka.producer({ transactionalId: `${prefix}-tx`, idempotent: true, maxInFlightRequests: 1 });
  const requests = new Map<string, number>();
  producer.on(producer.events.REQUEST, (e) => requests.set(e.payload.apiName, (requests.get(e.payload.apiName) ?? 0) + 1));
  await producer.connect();
  const before = concurrentTransactionsRetried();
  const metadataBefore = requests.get('Metadata') ?? 0;
  for (let i = 0; i < TRANSACTIONS; i++) {
    const tx = await producer.transaction();
    await tx.send({ topic, messages: [{ key: `k${i}`, value: `report ${i}` }] });
    await tx.sendOffsets({ consumerGroupId: `${prefix}-group`, topics: [{ topic: `${prefix}.in`, partitions: [{ partition: 0, offset: String(i + 1) }] }] });
    await tx.commit();
  }
  // The fix did the retrying: the coordinator refused some first sends, and kafkajs's own retry
  // (a metadata refresh, then the whole send again) was never taken.
  expect(concurrentTransactionsRetried() - before).toBeGreaterThan(0);
  expect((requests.get('Metadata') ?? 0) - metadataBefore).toBeLessThanOrEqual(1);
  await producer.disconnect();

  const offsets = await admin.fetchOffsets({ groupId: `${prefix}-group`, topics: [`${prefix}.in`] });
  expect(offsets[0].partitions[0].offset).toBe(String(TRANSACTIONS));
  await admin.disconnect();

  const consumer = kafka.consumer({ groupId: `${prefix}-reader`, readUncommitted: false });
  const seen: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const all = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.key!.toString());
        if (seen.length >= TRANSACTIONS) resolve();
      },
    });
  });
  await all;
  await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive in this time
  await consumer.disconnect();
  expect(seen.sort()).toEqual(Array.from({ length: TRANSACTIONS }, (_, i) => `k${i}`).sort());
});
