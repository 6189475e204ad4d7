/**
 * Facts delivered more than once (a replay, a producer that retried, a mirror that copied twice):
 * every copy of a whole upload's facts merges again and would complete the upload again. The
 * worker asks for the upload's report once per batch, not once per copy, and does not wait on the
 * lease its own merges of later copies hold (a lease poll per copy held a replayed large dump's
 * partition for many minutes in test/faults/replay). On a real broker and Redis.
 */
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { analyzeTranscript } from '@dumpstream/cli';
import { REPORT_REQUEST_HEADER, startDetect, type DetectHandle } from '@dumpstream/detect-service';
import { ByUploadPartitioner, createKafka, ensureTopics, topicsFor } from '@dumpstream/kafka';
import type { Report } from '@dumpstream/report';
import { silentLog } from '@dumpstream/runtime';
import { decodeReport } from '@dumpstream/schemas';
import { testConfig } from '../support/config';
import { uniquePrefix, waitFor } from '../support/ids';
import { prepareUpload } from '../support/upload';
import { watchTopic } from '../support/watch';

jest.setTimeout(120_000);

const SEGMENT_LINES = 12;
const PARTITIONS = 2;
const COPIES = 3;
let detect: DetectHandle | undefined;
const consumers: Consumer[] = [];

afterAll(async () => {
  await Promise.allSettled([detect?.stop(), ...consumers.map((c) => c.disconnect())]);
});

it('reports an upload whose facts came three times once, asking for its report once per batch, not once per copy', async () => {
  const prefix = uniquePrefix('duplicate-facts');
  const config = testConfig(prefix, { DUMPSTREAM_PARTITIONS: String(PARTITIONS), WORKER_ID: 'w1' });
  const topics = topicsFor(config.topicPrefix, { segments: PARTITIONS, facts: PARTITIONS });
  await ensureTopics(createKafka({ brokers: config.kafka.brokers, clientId: 'duplicate-facts' }, silentLog), topics);
  const kafka = new Kafka({ brokers: config.kafka.brokers, clientId: 'duplicate-facts-test', logLevel: logLevel.NOTHING });

  const requests: string[] = [];
  const reports: Report[] = [];
  consumers.push(
    await watchTopic(kafka, `${prefix}-facts-watch`, topics.facts.name, ({ message }) => {
      if (message.headers?.[REPORT_REQUEST_HEADER] !== undefined) requests.push(String(message.headers[REPORT_REQUEST_HEADER]));
    }),
    await watchTopic(kafka, `${prefix}-reports-watch`, topics.reports.name, ({ message }) => void reports.push(decodeReport(message.value!))),
  );

  // The whole upload is on Kafka before detect starts, its facts three times over on their
  // partition (as parse puts them): detect's first fetch holds the copies in one batch.
  const u = await prepareUpload(SEGMENT_LINES);
  expect(u.facts.length).toBeGreaterThan(5);
  const producer = kafka.producer({ createPartitioner: ByUploadPartitioner });
  await producer.connect();
  await producer.send({ topic: topics.manifests.name, messages: [u.manifest] });
  for (let i = 0; i < COPIES; i++) await producer.send({ topic: topics.facts.name, messages: u.facts });
  await producer.disconnect();

  detect = await startDetect(config, { log: silentLog });
  await waitFor('the report', () => (reports.length > 0 ? true : undefined), 60_000, 200);
  const want = await analyzeTranscript('seed.txt', (async function* () {
    yield u.bytes;
  })(), { segmenter: { maxLines: SEGMENT_LINES } });
  expect(reports).toEqual([want]);

  // Every message handled, the requests among them too.
  const admin = kafka.admin();
  await admin.connect();
  await waitFor('detect to commit every message on facts', async () => {
    const highs = await admin.fetchTopicOffsets(topics.facts.name);
    const [committed] = await admin.fetchOffsets({ groupId: `${config.topicPrefix}detect`, topics: [topics.facts.name] });
    return highs.every((h) => h.high === '0' || committed.partitions.find((c) => c.partition === h.partition)?.offset === h.high) ? true : undefined;
  }, 60_000, 200);
  await admin.disconnect();

  // Each copy after the first completes the upload again: asked once per batch that held copies
  // (one here, two if the fetch split them), not once per copy (2 × facts).
  expect(requests.length).toBeGreaterThanOrEqual(1);
  expect(requests.length).toBeLessThanOrEqual(COPIES);
  expect(requests.every((r) => r === 'complete')).toBe(true);
  expect(reports).toHaveLength(1);
});
