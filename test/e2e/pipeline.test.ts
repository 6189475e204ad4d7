/**
 * The distributed pipeline end to end, on a real Kafka broker and a real Redis: a generated fleet
 * and the seed, submitted over HTTP and through the spool folder, analysed by two parse and two
 * detect workers. The contract: every report equals the `analyze` report for the same bytes,
 * exactly one report per dump, an alert for each dump with a finding, and identical bytes sent
 * again are not reported twice.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { analyzeTranscript } from '@dumpstream/cli';
import { startDetect, type DetectHandle } from '@dumpstream/detect-service';
import { generateFleet, writeTranscript } from '@dumpstream/generator';
import { startIngest, submitTranscripts, type IngestHandle } from '@dumpstream/ingest';
import { topicsFor } from '@dumpstream/kafka';
import { startParse, type ParseHandle } from '@dumpstream/parse';
import { DumpStore } from '@dumpstream/redis';
import type { Report } from '@dumpstream/report';
import { silentLog, type Config } from '@dumpstream/runtime';
import { decodeAlert, decodeReport, type Alert } from '@dumpstream/schemas';
import { testConfig } from '../support/config';
import { uniquePrefix, waitFor } from '../support/ids';

jest.setTimeout(180_000);

const SEED = path.join(__dirname, '..', 'fixtures', 'seed-error-reporting-fault.txt');
const SEGMENT_LINES = 400;

let dir: string;
let spool: string;
let config: Config;
let ingest: IngestHandle;
const parsers: ParseHandle[] = [];
const detectors: DetectHandle[] = [];
let watcher: Consumer;
const reports = new Map<string, Report[]>();
const alerts = new Map<string, Alert[]>();
const files: { file: string; way: 'http' | 'spool' }[] = [];

function configFor(prefix: string, workerId: string): Config {
  return testConfig(prefix, { DUMPSTREAM_PARTITIONS: '4', INGEST_SPOOL_DIR: spool, INGEST_SEGMENT_LINES: String(SEGMENT_LINES), DETECT_INCOMPLETE_AFTER: '120', WORKER_ID: workerId });
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dumpstream-e2e-'));
  spool = path.join(dir, 'spool');
  await fs.mkdir(spool);
  const prefix = uniquePrefix('e2e');
  config = configFor(prefix, 'w0');

  // The fleet: varied generated dumps, the seed, and one large transcript.
  for (const d of generateFleet({ seed: 11, dumps: 16, processes: [20, 150] })) {
    const file = path.join(dir, d.name);
    await writeTranscript(d.spec, file, { answer: false });
    files.push({ file, way: files.length % 2 === 0 ? 'http' : 'spool' });
  }
  const big = path.join(dir, 'large-storm.txt');
  await writeTranscript({ seed: 5, processes: 1500, chains: [{ depth: 7, branching: 4 }], threadsPerProcess: [3, 6] }, big, { answer: false });
  files.push({ file: big, way: 'http' });
  const seed = path.join(dir, 'seed.txt');
  await fs.copyFile(SEED, seed);
  files.push({ file: seed, way: 'http' });

  const kafka = new Kafka({ brokers: config.kafka.brokers, clientId: 'e2e-watch', logLevel: logLevel.NOTHING });
  ingest = await startIngest(config, { log: silentLog });
  for (const w of ['p1', 'p2']) parsers.push(await startParse(configFor(prefix, w), { log: silentLog }));
  for (const w of ['d1', 'd2']) detectors.push(await startDetect(configFor(prefix, w), { log: silentLog }));

  // A plain Kafka consumer, as a user's tool would read reports and alerts.
  const topics = topicsFor(config.topicPrefix);
  watcher = kafka.consumer({ groupId: `${prefix}-watch`, readUncommitted: false });
  await watcher.connect();
  await watcher.subscribe({ topics: [topics.reports.name, topics.alerts.name], fromBeginning: true });
  await watcher.run({
    eachMessage: async ({ topic, message }) => {
      if (topic === topics.reports.name) {
        const r = decodeReport(message.value!);
        reports.set(r.dumpId, [...(reports.get(r.dumpId) ?? []), r]);
      } else {
        const a = decodeAlert(message.value!);
        alerts.set(a.dumpId, [...(alerts.get(a.dumpId) ?? []), a]);
      }
    },
  });

  // Half over HTTP, half through the spool.
  const viaHttp = files.filter((f) => f.way === 'http').map((f) => f.file);
  const results = await submitTranscripts({ files: viaHttp, url: ingest.url, host: 'e2e-host' });
  expect(results.filter((r) => !r.ok)).toEqual([]);
  for (const f of files.filter((x) => x.way === 'spool')) {
    await fs.copyFile(f.file, path.join(spool, `${path.basename(f.file)}.part`));
    await fs.rename(path.join(spool, `${path.basename(f.file)}.part`), path.join(spool, path.basename(f.file)));
  }
});

afterAll(async () => {
  await watcher?.disconnect();
  await ingest?.stop();
  await Promise.all([...parsers, ...detectors].map((h) => h.stop()));
  await fs.rm(dir, { recursive: true, force: true });
});

async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}

async function embedded(file: string): Promise<Report> {
  return analyzeTranscript(path.basename(file), (async function* () {
    yield await fs.readFile(file);
  })(), { segmenter: { maxLines: SEGMENT_LINES } });
}

describe('the distributed pipeline', () => {
  it('reports every dump exactly once, equal to what analyze reports for the same bytes', async () => {
    const ids = await Promise.all(files.map((f) => sha256(f.file)));
    await waitFor('a report for every dump', () => (ids.every((id) => reports.has(id)) ? true : undefined), 150_000, 250);
    for (const [i, f] of files.entries()) {
      const got = reports.get(ids[i])!;
      expect(got).toHaveLength(1);
      const want = await embedded(f.file);
      // Only what the way in adds differs: the host the upload named, and the spool's file name.
      expect({ ...got[0], source: path.basename(f.file), host: null }).toEqual({ ...want, source: path.basename(f.file) });
      expect(got[0].host).toBe(f.way === 'http' ? 'e2e-host' : null);
      expect(got[0].status).toBe('complete');
    }
  });

  it('raises one alert for each dump with a finding, readable by a plain Kafka consumer', async () => {
    const withFinding = [...reports.values()].map((r) => r[0]).filter((r) => r.findings.length > 0);
    expect(withFinding.length).toBeGreaterThan(2);
    await waitFor('an alert per finding', () => (withFinding.every((r) => alerts.has(r.dumpId)) ? true : undefined), 30_000);
    for (const r of withFinding) {
      const a = alerts.get(r.dumpId)!;
      expect(a).toHaveLength(1);
      expect(a[0]).toMatchObject({ pattern: 'error-reporting-fault', severity: r.findings[0].severity, werFaultProcesses: r.findings[0].werFaultProcesses, chainCount: r.findings[0].chains.length });
    }
    expect([...alerts.keys()].every((id) => reports.get(id)?.[0].findings.length)).toBe(true);
    const seed = reports.get(await sha256(SEED))![0];
    expect(seed.findings[0].chains).toHaveLength(3);
  });

  it('spreads one large transcript over every partition of the segments topic', async () => {
    const kafka = new Kafka({ brokers: config.kafka.brokers, clientId: 'e2e-admin', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topicsFor(config.topicPrefix).segments.name);
      expect(offsets).toHaveLength(4);
      for (const p of offsets) expect(Number(p.high)).toBeGreaterThan(5);
    } finally {
      await admin.disconnect();
    }
    const big = reports.get(await sha256(files.find((f) => f.file.endsWith('large-storm.txt'))!.file))![0];
    expect(big.stats.lines / SEGMENT_LINES).toBeGreaterThan(20);
  });

  it('recognises identical bytes sent again and does not report or alert twice', async () => {
    const [again] = await submitTranscripts({ files: [SEED], url: ingest.url });
    expect(again.ok).toBe(true);
    // Said in the answer, so nobody waits for a report that will not come.
    expect(again).toMatchObject({ duplicate: true, duplicateOf: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const redis = new Redis(process.env.REDIS_URL!);
    try {
      const store = new DumpStore(redis, { prefix: config.redisKeyPrefix });
      await waitFor('the second upload to be recognised', async () => ((await store.state(again.uploadId!)) === 'duplicate' ? true : undefined), 60_000, 200);
    } finally {
      redis.disconnect();
    }
    expect(reports.get(again.dumpId!)).toHaveLength(1);
    expect(alerts.get(again.dumpId!)).toHaveLength(1);
  });

  it('moves spooled files to done/', async () => {
    const spooled = files.filter((f) => f.way === 'spool').map((f) => path.basename(f.file));
    await waitFor('spooled files in done/', async () => {
      const done = await fs.readdir(path.join(spool, 'done')).catch(() => [] as string[]);
      return spooled.every((f) => done.includes(f)) ? true : undefined;
    });
  });
});
