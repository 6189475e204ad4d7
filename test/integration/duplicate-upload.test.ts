/**
 * What a user sees when the same bytes are sent twice (issue 12, item 8), over a real Kafka and
 * Redis: ingest's answer says `duplicate: true` with the earlier upload, also for two identical
 * uploads at once; `dumpstream submit` prints it; `dumpstream watch --count N --timeout S` stops
 * waiting for the report that will not come; and `watch --format text` prints a report as
 * `analyze` does.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { Kafka, logLevel } from 'kafkajs';
import { analyzeTranscript, run } from '@dumpstream/cli';
import { startIngest, submitTranscripts, type IngestHandle } from '@dumpstream/ingest';
import { ensureTopics, topicsFor } from '@dumpstream/kafka';
import { renderText } from '@dumpstream/report';
import { silentLog } from '@dumpstream/runtime';
import { encodeReport } from '@dumpstream/schemas';
import { testConfig } from '../support/config';
import { uniquePrefix } from '../support/ids';

jest.setTimeout(60_000);

const SEED = path.resolve(__dirname, '..', 'fixtures', 'seed-error-reporting-fault.txt');
const prefix = uniquePrefix('dup');
const config = testConfig(prefix);
let ingest: IngestHandle;
let dir: string;

beforeAll(async () => {
  ingest = await startIngest(config, { log: silentLog });
  dir = await fs.mkdtemp(path.join(require('node:os').tmpdir(), 'ds-dup-'));
});

afterAll(async () => {
  await ingest?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

/** A transcript no other test sends: the seed with a unique comment line, so its dumpId is new. */
async function freshTranscript(name: string): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, `${(await fs.readFile(SEED, 'utf8')).trimEnd()}\n0: kd> * ${uniquePrefix(name)}\n`);
  return file;
}

/** Runs the dumpstream command in this process, as a user would, and keeps what it printed. */
async function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await run(args, { stdout, stderr, stdin: Readable.from([]), env });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

describe('a duplicate upload', () => {
  it('is answered duplicate: true with the earlier upload, the first one duplicate: false', async () => {
    const file = await freshTranscript('once.txt');
    const [first] = await submitTranscripts({ files: [file], url: ingest.url });
    expect(first).toMatchObject({ ok: true, status: 202, duplicate: false });
    const [again] = await submitTranscripts({ files: [file], url: ingest.url });
    expect(again).toMatchObject({ ok: true, status: 202, duplicate: true, duplicateOf: first.uploadId, dumpId: first.dumpId });
    expect(again.uploadId).not.toBe(first.uploadId);
  });

  it('is told apart honestly when two identical uploads arrive at once: exactly one is first', async () => {
    const file = await freshTranscript('twice.txt');
    const results = (await Promise.all([1, 2, 3].map(() => submitTranscripts({ files: [file], url: ingest.url })))).flat();
    expect(results.every((r) => r.ok)).toBe(true);
    const originals = results.filter((r) => r.duplicate === false);
    expect(originals).toHaveLength(1);
    for (const r of results.filter((x) => x.duplicate === true)) expect(r.duplicateOf).toBe(originals[0].uploadId);
    expect(results.filter((r) => r.duplicate === true)).toHaveLength(2);
  });

  it('is printed by dumpstream submit, on stdout and as a note on stderr', async () => {
    const file = await freshTranscript('cli.txt');
    const one = await cli(['submit', '--url', ingest.url, file]);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ file, duplicate: false });
    const two = await cli(['submit', '--url', ingest.url, file]);
    expect(two.code).toBe(0);
    const line = JSON.parse(two.stdout);
    expect(line).toMatchObject({ file, duplicate: true, duplicateOf: JSON.parse(one.stdout).uploadId });
    expect(two.stderr).toBe(`${file}: identical to upload ${line.duplicateOf} sent before: no new report will come (its report has dumpId ${line.dumpId})\n`);
  });
});

describe('ingest without its Redis', () => {
  it('still takes uploads, and its answer says it cannot tell: duplicate: null', async () => {
    const t0 = Date.now();
    // Port 1: nothing listens there.
    const alone = await startIngest(testConfig(prefix, { REDIS_URL: 'redis://127.0.0.1:1' }), { log: silentLog });
    try {
      expect(Date.now() - t0).toBeLessThan(15_000);
      const [r] = await submitTranscripts({ files: [SEED], url: alone.url });
      expect(r).toMatchObject({ ok: true, status: 202, duplicate: null });
      expect(r.duplicateOf).toBeUndefined();
    } finally {
      await alone.stop();
    }
  });
});

describe('dumpstream watch', () => {
  const env = { ...process.env, KAFKA_BROKERS: process.env.KAFKA_BROKERS, DUMPSTREAM_TOPIC_PREFIX: `${prefix}.` };

  it('stops waiting after --timeout with one line saying how many came, exit status 1', async () => {
    const t0 = Date.now();
    const r = await cli(['watch', 'reports', '--count', '2', '--timeout', '3', '--format', 'json'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^dumpstream watch: 0 of 2 reports in \d+ s; stopped waiting \(--timeout 3\)\. An upload answered "duplicate": true gets no report of its own\.\n$/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3_000);
  });

  it('prints a report as analyze prints it with --format text, and NDJSON with --format json', async () => {
    const report = await analyzeTranscript('seed.txt', (async function* () {
      yield await fs.readFile(SEED);
    })());
    const kafka = new Kafka({ brokers: config.kafka.brokers, clientId: 'watch-test', logLevel: logLevel.NOTHING });
    const topics = topicsFor(config.topicPrefix);
    await ensureTopics(kafka, topics);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: topics.reports.name, messages: [{ key: report.dumpId, value: encodeReport(report) }] });
    await producer.disconnect();

    const text = await cli(['watch', 'reports', '--from-beginning', '--count', '1', '--timeout', '30', '--format', 'text'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(`${renderText(report)}\n`);
    const json = await cli(['watch', 'reports', '--from-beginning', '--count', '1', '--timeout', '30'], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(report)));
  });
});
