/**
 * A report request that finds nothing of its upload in Redis: a `complete` one (the upload was
 * whole when its merge asked, so Redis lost it since: flushed, evicted) is reported incomplete by
 * its upload id, never dropped without a word; an `idle` one (the sweeper's, stale) publishes nothing.
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { REPORT_REQUEST_HEADER, startDetect, type DetectHandle } from '@dumpstream/detect-service';
import { createKafka, ensureTopics, topicsFor } from '@dumpstream/kafka';
import { DumpStore } from '@dumpstream/redis';
import type { Report } from '@dumpstream/report';
import { silentLog } from '@dumpstream/runtime';
import { decodeReport } from '@dumpstream/schemas';
import { testConfig } from '../support/config';
import { uniquePrefix, waitFor } from '../support/ids';
import { watchTopic } from '../support/watch';

jest.setTimeout(60_000);

let detect: DetectHandle | undefined;
let watcher: Consumer | undefined;
let redis: Redis | undefined;

afterAll(async () => {
  await Promise.allSettled([detect?.stop(), watcher?.disconnect()]);
  redis?.disconnect();
});

it('reports an upload lost from Redis after it was whole as incomplete, and drops a stale sweep request', async () => {
  const prefix = uniquePrefix('lost-upload');
  const config = testConfig(prefix, { DUMPSTREAM_PARTITIONS: '2', WORKER_ID: 'w1' });
  const topics = topicsFor(config.topicPrefix, { segments: 2, facts: 2 });
  await ensureTopics(createKafka({ brokers: config.kafka.brokers, clientId: 'lost-upload' }, silentLog), topics);
  const kafka = new Kafka({ brokers: config.kafka.brokers, clientId: 'lost-upload-test', logLevel: logLevel.NOTHING });
  const reports: Report[] = [];
  watcher = await watchTopic(kafka, `${prefix}-watch`, topics.reports.name, ({ message }) => void reports.push(decodeReport(message.value!)));
  detect = await startDetect(config, { log: silentLog });

  const [stale, lost] = [randomUUID(), randomUUID()];
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: topics.facts.name, messages: [{ key: stale, value: 'sweep', headers: { [REPORT_REQUEST_HEADER]: 'idle' } }] });
  await producer.send({ topic: topics.facts.name, messages: [{ key: lost, value: 'report', headers: { [REPORT_REQUEST_HEADER]: 'complete' } }] });
  await producer.disconnect();

  await waitFor('the lost upload’s report', () => (reports.length > 0 ? true : undefined), 30_000, 100);
  expect(reports).toHaveLength(1);
  expect(reports[0]).toMatchObject({ dumpId: lost, status: 'incomplete', source: '(unknown: lost from Redis before the report)' });
  expect(reports[0].incompleteReason).toMatch(/lost from Redis \(flushed or evicted\) before it was reported; 0 segments left/);

  redis = new Redis(process.env.REDIS_URL!);
  const store = new DumpStore(redis, { prefix });
  await waitFor('the stale request handled', async () => ((await store.state(stale)) === 'incomplete' ? true : undefined), 20_000, 100);
  await new Promise((r) => setTimeout(r, 1000));
  expect(reports.map((r) => r.dumpId)).toEqual([lost]);
});
