/**
 * An upload's facts and its report request share one partition of `facts`, so the detect worker
 * that merged the facts builds the report from the copy it holds, not from Redis: on a real broker
 * and Redis, with parse and detect as the services run them.
 */
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { Registry } from 'prom-client';
import { analyzeTranscript } from '@dumpstream/cli';
import { REPORT_REQUEST_HEADER, startDetect, type DetectHandle } from '@dumpstream/detect-service';
import { createKafka, ensureTopics, topicsFor } from '@dumpstream/kafka';
import { startParse, type ParseHandle } from '@dumpstream/parse';
import type { Report } from '@dumpstream/report';
import { silentLog } from '@dumpstream/runtime';
import { decodeReport } from '@dumpstream/schemas';
import { testConfig } from '../support/config';
import { uniquePrefix, waitFor } from '../support/ids';
import { prepareUpload } from '../support/upload';
import { watchTopic } from '../support/watch';

jest.setTimeout(120_000);

const SEGMENT_LINES = 12;
const PARTITIONS = 4;
let detect: DetectHandle | undefined;
let parse: ParseHandle | undefined;
const consumers: Consumer[] = [];

afterAll(async () => {
  await Promise.allSettled([detect?.stop(), parse?.stop(), ...consumers.map((c) => c.disconnect())]);
});

async function factsRead(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('dumpstream_detect_facts_read_total')!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.from), v.value]));
}

it('puts an upload’s facts and its report request on one partition, and reports from the facts the merging worker holds', async () => {
  const prefix = uniquePrefix('facts-by-upload');
  const config = testConfig(prefix, { DUMPSTREAM_PARTITIONS: String(PARTITIONS), WORKER_ID: 'w1' });
  const topics = topicsFor(config.topicPrefix, { segments: PARTITIONS, facts: PARTITIONS });
  await ensureTopics(createKafka({ brokers: config.kafka.brokers, clientId: 'facts-by-upload' }, silentLog), topics);
  const kafka = new Kafka({ brokers: config.kafka.brokers, clientId: 'facts-by-upload-test', logLevel: logLevel.NOTHING });

  // What lands on `facts`, as a plain consumer sees it.
  const onFacts: { partition: number; key: string; request: boolean }[] = [];
  const reports: Report[] = [];
  consumers.push(
    await watchTopic(kafka, `${prefix}-facts-watch`, topics.facts.name, ({ partition, message }) =>
      void onFacts.push({ partition, key: message.key!.toString(), request: message.headers?.[REPORT_REQUEST_HEADER] !== undefined }),
    ),
    await watchTopic(kafka, `${prefix}-reports-watch`, topics.reports.name, ({ message }) => void reports.push(decodeReport(message.value!))),
  );

  const registry = new Registry();
  parse = await startParse(config, { log: silentLog, registry: new Registry() });
  detect = await startDetect(config, { log: silentLog, registry });

  const u = await prepareUpload(SEGMENT_LINES);
  expect(u.segments.length).toBeGreaterThan(PARTITIONS * 2);
  const producer = kafka.producer();
  await producer.connect();
  // As ingest sends them: segments spread over every partition by their `uploadId:seq` key.
  await producer.send({ topic: topics.segments.name, messages: u.segments });
  await producer.send({ topic: topics.manifests.name, messages: [u.manifest] });
  await producer.disconnect();

  await waitFor('the report', () => (reports.length > 0 ? true : undefined), 60_000, 200);
  const want = await analyzeTranscript('seed.txt', (async function* () {
    yield u.bytes;
  })(), { segmenter: { maxLines: SEGMENT_LINES } });
  expect(reports).toEqual([want]);

  await waitFor('the report request on facts', () => (onFacts.some((m) => m.request) ? true : undefined), 10_000, 100);
  const ours = onFacts.filter((m) => m.key.startsWith(u.uploadId));
  expect(ours.filter((m) => !m.request)).toHaveLength(u.segments.length);
  expect(new Set(ours.map((m) => m.partition)).size).toBe(1);
  expect(ours.filter((m) => m.request)).toEqual([{ partition: ours[0].partition, key: u.uploadId, request: true }]);
  // One worker merged every segment and reported: all from its memory, none read back from Redis.
  expect(await factsRead(registry)).toEqual({ memory: u.segments.length, redis: 0 });
});
