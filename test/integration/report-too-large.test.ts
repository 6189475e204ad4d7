/**
 * A report too large for the reports topic even without its frames (a dump of millions of
 * processes, in production; here a storm and a topic whose max.message.bytes is set low) is
 * published with its findings only, and a warning says what was left out, instead of failing
 * for ever and holding up its partition.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { analyzeTranscript } from '@dumpstream/cli';
import { startDetect, trimReport, type DetectHandle } from '@dumpstream/detect-service';
import { writeTranscript } from '@dumpstream/generator';
import { startIngest, submitTranscripts, type IngestHandle } from '@dumpstream/ingest';
import { COMPRESS_ABOVE_BYTES, topicsFor } from '@dumpstream/kafka';
import { startParse, type ParseHandle } from '@dumpstream/parse';
import type { Report } from '@dumpstream/report';
import { silentLog } from '@dumpstream/runtime';
import { decodeReport, encodeReport } from '@dumpstream/schemas';
import { testConfig } from '../support/config';
import { uniquePrefix, waitFor } from '../support/ids';

jest.setTimeout(180_000);

const SEGMENT_LINES = 400;
let dir: string;
let ingest: IngestHandle | undefined;
let parse: ParseHandle | undefined;
let detect: DetectHandle | undefined;
let watcher: Consumer | undefined;

afterAll(async () => {
  await watcher?.disconnect();
  await detect?.stop();
  await parse?.stop();
  await ingest?.stop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

/** Bytes the reports topic sees for a report: gzip above COMPRESS_ABOVE_BYTES, as detect sends it. */
const wireSize = (r: Report): number => {
  const v = encodeReport(r);
  return v.length > COMPRESS_ABOVE_BYTES ? gzipSync(v).length : v.length;
};

it('publishes a report too large even without frames with its findings only, saying so', async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dumpstream-too-large-'));
  const file = path.join(dir, 'storm.txt');
  await writeTranscript({ seed: 7, processes: 3000, chains: [{ depth: 5, branching: 3 }], threadsPerProcess: [2, 4] }, file, { answer: false });
  const want = await analyzeTranscript('storm.txt', [await fs.readFile(file)], { segmenter: { maxLines: SEGMENT_LINES } });
  const findingsOnly = wireSize(trimReport(want, 'findings'));
  const withoutFrames = wireSize(trimReport(want, 'frames'));
  // A limit the report passes even without frames, and its findings fit in.
  const limit = findingsOnly + 4096;
  expect(withoutFrames).toBeGreaterThan(2 * limit);

  const prefix = uniquePrefix('toolarge');
  const config = testConfig(prefix, { DUMPSTREAM_PARTITIONS: '2', INGEST_SEGMENT_LINES: String(SEGMENT_LINES), WORKER_ID: 'w1' });
  const topics = topicsFor(config.topicPrefix);
  const kafka = new Kafka({ brokers: config.kafka.brokers, clientId: 'too-large', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  // Created before the services, which leave existing topics as they are.
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: topics.reports.name, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: String(limit) }] }] });
  await admin.disconnect();

  ingest = await startIngest(config, { log: silentLog });
  parse = await startParse(config, { log: silentLog });
  detect = await startDetect(config, { log: silentLog });
  const reports: Report[] = [];
  watcher = kafka.consumer({ groupId: `${prefix}-watch`, readUncommitted: false, maxBytes: 64 * 1024 * 1024 });
  await watcher.connect();
  await watcher.subscribe({ topics: [topics.reports.name], fromBeginning: true });
  await watcher.run({ eachMessage: async ({ message }) => void reports.push(decodeReport(message.value!)) });

  const [sent] = await submitTranscripts({ files: [file], url: ingest.url });
  expect(sent.ok).toBe(true);
  const got = await waitFor('the report', () => reports[0], 120_000, 200);
  await new Promise((r) => setTimeout(r, 1000));
  expect(reports).toHaveLength(1);

  const expected = trimReport(want, 'findings');
  expect(got.warnings.at(-1)).toEqual(expected.warnings.at(-1));
  expect(got.warnings.at(-1)?.text).toMatch(/even without frames: only the \d+ processes its findings name are listed/);
  expect(got.findings).toEqual(expected.findings);
  expect(got.processes.map((p) => p.pid)).toEqual(expected.processes.map((p) => p.pid));
  expect(got.processes.length).toBeLessThan(want.processes.length);
  expect(got.stats).toEqual(want.stats);
});
