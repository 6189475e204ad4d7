/**
 * A detect worker that dies while it reports a dump: another worker takes the report over once
 * the lease lapses, and publishes it exactly once. The dead worker is played by a DumpStore that
 * takes the lease (and, for the crash after the Kafka commit, commits the offset its transaction
 * would have) and then does nothing more. And an upload that never ends is reported incomplete
 * once, through a sweep request.
 */
import Redis from 'ioredis';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { analyzeTranscript } from '@dumpstream/cli';
import { detectGroup, startDetect, type DetectHandle } from '@dumpstream/detect-service';
import { createKafka, ensureTopics, topicsFor, type Topics } from '@dumpstream/kafka';
import { DumpStore } from '@dumpstream/redis';
import type { Report } from '@dumpstream/report';
import { silentLog, type Config } from '@dumpstream/runtime';
import { decodeReport } from '@dumpstream/schemas';
import { testConfig } from '../support/config';
import { uniquePrefix, waitFor } from '../support/ids';
import { prepareUpload } from '../support/upload';

jest.setTimeout(120_000);

// Small segments, so that the seed has several.
const SEGMENT_LINES = 30;

let prefix: string;
let config: Config;
let topics: Topics;
let kafka: Kafka;
let producer: Producer;
let watcher: Consumer;
let redis: Redis;
let dead: DumpStore;
let detect: DetectHandle | undefined;
const reports: Report[] = [];

const upload = () => prepareUpload(SEGMENT_LINES);

beforeAll(async () => {
  prefix = uniquePrefix('takeover');
  config = testConfig(prefix, { DUMPSTREAM_PARTITIONS: '2', DETECT_LEASE: '3', DETECT_INCOMPLETE_AFTER: '600', WORKER_ID: 'd1' });
  topics = topicsFor(config.topicPrefix, { segments: 2, facts: 2 });
  await ensureTopics(createKafka({ brokers: config.kafka.brokers, clientId: 'takeover' }, silentLog), topics);
  kafka = new Kafka({ brokers: config.kafka.brokers, clientId: 'takeover-test', logLevel: logLevel.NOTHING });
  producer = kafka.producer();
  await producer.connect();
  redis = new Redis(process.env.REDIS_URL!);
  dead = new DumpStore(redis, { prefix, leaseMs: 3000 });
  watcher = kafka.consumer({ groupId: `${prefix}-watch`, readUncommitted: false });
  await watcher.connect();
  await watcher.subscribe({ topic: topics.reports.name, fromBeginning: true });
  await watcher.run({ eachMessage: async ({ message }) => void reports.push(decodeReport(message.value!)) });
});

afterAll(async () => {
  await detect?.stop();
  await watcher?.disconnect();
  await producer?.disconnect();
  redis?.disconnect();
});

it('takes over the report of a worker that died holding the lease, when its trigger is redelivered', async () => {
  const u = await upload();
  // The dead worker merged everything; its last merge took the lease, then it died.
  await dead.recordManifest(u.uploadId, u.record);
  const merges = [];
  for (const [seq, f] of u.facts.entries()) merges.push(await dead.mergeFacts(u.uploadId, seq, f.value));
  expect(merges.at(-1)!.completion).toBe('complete');
  // Its trigger was never committed, so the message comes again to a live worker.
  await producer.send({ topic: topics.facts.name, messages: [u.facts.at(-1)!] });
  detect = await startDetect(config, { log: silentLog });

  await waitFor('the report, from the worker that took over', () => (reports.some((r) => r.dumpId === u.dumpId) ? true : undefined), 60_000, 200);
  const want = await analyzeTranscript('seed.txt', (async function* () {
    yield u.bytes;
  })(), { segmenter: { maxLines: SEGMENT_LINES } });
  const got = reports.filter((r) => r.dumpId === u.dumpId);
  expect(got).toHaveLength(1);
  expect(got[0]).toEqual(want);
  expect(await dead.state(u.uploadId)).toBe('reported');
});


it('does not publish again when the dead worker died after its transaction committed', async () => {
  await detect?.stop();
  detect = undefined;
  const u = await upload();
  await dead.recordManifest(u.uploadId, u.record);
  let last;
  for (const [seq, f] of u.facts.entries()) last = await dead.mergeFacts(u.uploadId, seq, f.value);
  expect(last!.completion).toBe('complete');
  // Its trigger, noted under the lease; its transaction published the report (not played here:
  // any report seen is a second one) and committed the trigger's offset; then it died.
  const [sent] = await producer.send({ topic: topics.facts.name, messages: [u.facts.at(-1)!] });
  expect(await dead.recordAttempt(last!.lease!, `${topics.facts.name}|${sent.partition}|${sent.baseOffset}`)).toBe(true);
  const admin = kafka.admin();
  await admin.connect();
  await admin.setOffsets({ groupId: detectGroup(config), topic: topics.facts.name, partitions: [{ partition: sent.partition, offset: String(BigInt(sent.baseOffset!) + 1n) }] });
  await admin.disconnect();

  // Nothing redelivers the trigger: the sweeper finds the upload idle once the lease lapses.
  detect = await startDetect({ ...config, detect: { ...config.detect, incompleteAfterMs: 2000 } }, { log: silentLog });
  await waitFor('the upload marked reported by the worker that took over', async () => ((await dead.state(u.uploadId)) === 'reported' ? true : undefined), 60_000, 200);
  await new Promise((r) => setTimeout(r, 3000));
  expect(reports.filter((r) => r.dumpId === u.dumpId)).toEqual([]);
  // (Keeping it for the look-up is not the taker's job: a reporter keeps its report before its
  // transaction, docs/RELIABILITY.md; test/faults/kill-workers checks that every published report is kept.)
});

it('reports an upload whose end never came as incomplete, once, through a sweep request', async () => {
  const u = await upload();
  expect(u.facts.length).toBeGreaterThan(2);
  // Two segments arrived; ingest died before the rest and the manifest.
  for (const [seq, f] of u.facts.slice(0, 2).entries()) await dead.mergeFacts(u.uploadId, seq, f.value);
  await waitFor('the incomplete report', () => (reports.some((r) => r.dumpId === u.uploadId) ? true : undefined), 60_000, 200);
  await detect!.sweep();
  await new Promise((r) => setTimeout(r, 4000));
  const got = reports.filter((r) => r.dumpId === u.uploadId);
  expect(got).toHaveLength(1);
  expect(got[0]).toMatchObject({ status: 'incomplete', incompleteReason: 'the end of the upload never arrived (ingest stopped or lost it); 2 segments arrived' });
  expect(await dead.state(u.uploadId)).toBe('incomplete');
});
