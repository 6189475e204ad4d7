/**
 * The incomplete-dump sweeper calls an upload stalled only when nothing of it can still be in
 * Kafka: an upload whose segments wait for parse (a parse outage, a backlog) longer than
 * DETECT_INCOMPLETE_AFTER is reported complete once they are parsed, not incomplete before.
 */
import Redis from 'ioredis';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { analyzeTranscript } from '@dumpstream/cli';
import { startDetect, type DetectHandle } from '@dumpstream/detect-service';
import { createKafka, ensureTopics, topicsFor } from '@dumpstream/kafka';
import { startParse, type ParseHandle } from '@dumpstream/parse';
import { DumpStore } from '@dumpstream/redis';
import type { Report } from '@dumpstream/report';
import { silentLog } from '@dumpstream/runtime';
import { decodeReport } from '@dumpstream/schemas';
import { testConfig } from '../support/config';
import { uniquePrefix, waitFor } from '../support/ids';
import { watchTopic } from '../support/watch';
import { prepareUpload } from '../support/upload';

jest.setTimeout(120_000);

const SEGMENT_LINES = 30;
let detect: DetectHandle | undefined;
let parse: ParseHandle | undefined;
let watcher: Consumer | undefined;
let redis: Redis | undefined;

afterAll(async () => {
  await Promise.allSettled([detect?.stop(), parse?.stop(), watcher?.disconnect()]);
  redis?.disconnect();
});

it('waits for segments still queued for parse before it calls an upload stalled', async () => {
  const prefix = uniquePrefix('sweep');
  const config = testConfig(prefix, { DUMPSTREAM_PARTITIONS: '2', DETECT_INCOMPLETE_AFTER: '2', DETECT_LEASE: '3', WORKER_ID: 'w1' });
  const topics = topicsFor(config.topicPrefix, { segments: 2, facts: 2 });
  await ensureTopics(createKafka({ brokers: config.kafka.brokers, clientId: 'sweep' }, silentLog), topics);
  const kafka = new Kafka({ brokers: config.kafka.brokers, clientId: 'sweep-test', logLevel: logLevel.NOTHING });
  const reports: Report[] = [];
  watcher = await watchTopic(kafka, `${prefix}-watch`, topics.reports.name, ({ message }) => void reports.push(decodeReport(message.value!)));

  const u = await prepareUpload(SEGMENT_LINES);
  expect(u.segments.length).toBeGreaterThan(2);
  // Segment 0 was parsed and merged before parse went away; the others and the manifest are in Kafka.
  redis = new Redis(process.env.REDIS_URL!);
  await new DumpStore(redis, { prefix }).mergeFacts(u.uploadId, 0, u.facts[0].value);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: topics.segments.name, messages: u.segments.slice(1) });
  await producer.send({ topic: topics.manifests.name, messages: [u.manifest] });
  await producer.disconnect();

  // Parse is down for longer than DETECT_INCOMPLETE_AFTER: nothing is reported meanwhile.
  detect = await startDetect(config, { log: silentLog });
  await new Promise((r) => setTimeout(r, 8000));
  expect(reports.map((r) => `${r.status}: ${r.incompleteReason}`)).toEqual([]);

  // Parse comes back: the dump is reported, whole.
  parse = await startParse(config, { log: silentLog });
  await waitFor('the report', () => (reports.length > 0 ? true : undefined), 60_000, 200);
  const want = await analyzeTranscript('seed.txt', (async function* () {
    yield u.bytes;
  })(), { segmenter: { maxLines: SEGMENT_LINES } });
  await new Promise((r) => setTimeout(r, 2000));
  expect(reports).toEqual([want]);
});
