/**
 * The ingest service over a real Kafka: uploads over HTTP (plain, gzip, through the client) come
 * out on the segments topic exactly as a local SegmentCutter cuts them, then one manifest with the
 * file's sha256; bad uploads get their status and never a `complete` manifest; the spool folder
 * takes files dropped in it, before or after start, and files away what it cannot read.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import type { Consumer, Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { generateTranscript } from '@dumpstream/generator';
import { createKafka, ensureTopics, topicsFor, type Topics } from '@dumpstream/kafka';
import { loadConfig, silentLog, type Config } from '@dumpstream/runtime';
import { decodeDumpManifest, decodeSegment, type DumpManifest, type SegmentMessage } from '@dumpstream/schemas';
import { SegmentCutter, type Segment } from '@dumpstream/transcript';
// The service under test, by path (its src, as jest runs it).
import { startIngest, submitTranscripts, type IngestHandle } from '../../services/ingest/src';
import { uniquePrefix, waitFor } from '../support/ids';

jest.setTimeout(60_000);

const SEED = path.resolve(__dirname, '..', 'fixtures', 'seed-error-reporting-fault.txt');
const SEGMENT_LINES = 500;
const TOKEN = 'test-token-0123456789abcdef';
const STRICT_MAX = 2 * 1024 * 1024;

const prefix = `${uniquePrefix('ingest')}.`;
const topics: Topics = topicsFor(prefix, { segments: 8 });
let kafka: Kafka;
let consumer: Consumer;
let tmp: string;
let generated: string; // a few MB from packages/generator
const started: IngestHandle[] = [];

// Everything ingest produced, as the consumer sees it.
const segmentsByUpload = new Map<string, Map<number, SegmentMessage>>();
const partitionsByUpload = new Map<string, Set<number>>();
const manifests: DumpManifest[] = [];

function configFor(env: Record<string, string> = {}): Config {
  return loadConfig(
    {
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      REDIS_URL: process.env.REDIS_URL ?? '',
      REDIS_KEY_PREFIX: prefix.slice(0, -1),
      DUMPSTREAM_TOPIC_PREFIX: prefix,
      INGEST_LISTEN: '127.0.0.1:0',
      INGEST_SEGMENT_LINES: String(SEGMENT_LINES),
      INGEST_MAX_BYTES: '64m',
      ...env,
    },
    { kafka: true },
  );
}

async function start(env: Record<string, string> = {}, registry = new Registry(), extra: Parameters<typeof startIngest>[1] = {}): Promise<IngestHandle> {
  const handle = await startIngest(configFor(env), { log: silentLog, registry, idleTimeoutMs: 5_000, ...extra });
  started.push(handle);
  return handle;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ingest-test-'));
  generated = path.join(tmp, 'generated-2000.txt');
  const out = fs.openSync(generated, 'w');
  for (const chunk of generateTranscript({ seed: 2024, processes: 2000, chains: [{ depth: 3 }], style: 'investigation' }).chunks) fs.writeSync(out, chunk);
  fs.closeSync(out);

  kafka = createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'ingest-test' }, silentLog);
  await ensureTopics(kafka, topics);
  consumer = kafka.consumer({ groupId: `${prefix}reader`, sessionTimeout: 6000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.segments.name, topics.manifests.name], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      if (topic === topics.manifests.name) {
        manifests.push(decodeDumpManifest(message.value!));
        return;
      }
      const s = decodeSegment(message.value!);
      expect(message.key?.toString()).toBe(`${s.uploadId}:${s.seq}`);
      if (!segmentsByUpload.has(s.uploadId)) segmentsByUpload.set(s.uploadId, new Map());
      segmentsByUpload.get(s.uploadId)!.set(s.seq, s);
      if (!partitionsByUpload.has(s.uploadId)) partitionsByUpload.set(s.uploadId, new Set());
      partitionsByUpload.get(s.uploadId)!.add(partition);
    },
  });
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(started.map((h) => h.stop()));
  await consumer?.disconnect();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}, 60_000);

// ---------------------------------------------------------------------------------------------
// helpers

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: Record<string, unknown>;
}

/** POSTs a body (a Buffer, or a stream sent chunked); resolves on the answer, whatever happens to the rest of the body. */
function post(url: string, body: Buffer | Readable, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const all = Buffer.isBuffer(body) && !('transfer-encoding' in headers) ? { 'content-length': String(body.length), ...headers } : headers;
    const req = http.request(`${url}/v1/transcripts`, { method: 'POST', headers: all, agent: false });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode!, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
        req.destroy();
      });
    });
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    if (Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The segments a local SegmentCutter cuts from these bytes, with the same maxLines as the service. */
function localSegments(bytes: Buffer): { segments: Segment[]; lines: number } {
  const segments: Segment[] = [];
  const s = new SegmentCutter((seg) => segments.push(seg), { maxLines: SEGMENT_LINES });
  for (let i = 0; i < bytes.length; i += 65536) s.push(bytes.subarray(i, i + 65536));
  return { segments, lines: s.end().lines };
}

const manifestOf = (pred: (m: DumpManifest) => boolean, what: string): Promise<DumpManifest> =>
  waitFor(what, () => manifests.find(pred), 20_000);

/** Waits for the upload's manifest and segments and checks them against the file. */
async function expectIngested(uploadId: string, bytes: Buffer, source: string, host: string | null = null): Promise<{ manifest: DumpManifest; partitions: number }> {
  const local = localSegments(bytes);
  const manifest = await manifestOf((m) => m.uploadId === uploadId, `the manifest of ${source}`);
  expect(manifest).toMatchObject({
    uploadId,
    dumpId: sha256(bytes),
    source,
    host,
    segments: local.segments.length,
    lines: local.lines,
    bytes: bytes.length,
    status: 'complete',
    reason: null,
  });
  const got = await waitFor(`${manifest.segments} segments of ${source}`, () => {
    const m = segmentsByUpload.get(uploadId);
    return m && m.size === manifest.segments ? m : undefined;
  }, 20_000);
  for (const [seq, want] of local.segments.entries()) {
    const s = got.get(seq)!;
    expect(s).toBeDefined();
    expect({ source: s.source, host: s.host, receivedAt: s.receivedAt }).toEqual({ source, host, receivedAt: manifest.receivedAt });
    expect({ seq: s.seq, firstLine: s.firstLine, context: s.context, lines: s.lines, truncatedLines: s.truncatedLines }).toEqual(want);
  }
  return { manifest, partitions: partitionsByUpload.get(uploadId)!.size };
}

async function metric(url: string, name: string): Promise<number> {
  const text = await new Promise<string>((resolve, reject) => {
    http.get(`${url}/metrics`, (res) => {
      let s = '';
      res.on('data', (c: Buffer) => (s += c.toString()));
      res.on('end', () => resolve(s));
    }).on('error', reject);
  });
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let s = '';
      res.on('data', (c: Buffer) => (s += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: s }));
    }).on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------

describe('ingest over HTTP', () => {
  let open: IngestHandle;
  beforeAll(async () => {
    open = await start();
  });

  it('takes the seed transcript: segments as a local SegmentCutter cuts them, then a complete manifest', async () => {
    const bytes = fs.readFileSync(SEED);
    const a = await post(open.url, bytes, { 'X-Dumpstream-Source': 'seed.txt', 'X-Dumpstream-Host': 'srv-01' });
    expect(a.status).toBe(202);
    // The first upload of these bytes under this test's Redis keys (test/integration/duplicate-upload covers the second).
    expect(a.json).toEqual({ uploadId: expect.stringMatching(/^[0-9a-f-]{36}$/), dumpId: sha256(bytes), segments: expect.any(Number), lines: expect.any(Number), bytes: bytes.length, duplicate: false });
    await expectIngested(a.json.uploadId as string, bytes, 'seed.txt', 'srv-01');
  });

  it('takes a generated transcript of a few MB, plain and gzip, over several partitions', async () => {
    const bytes = fs.readFileSync(generated);
    expect(bytes.length).toBeGreaterThan(2_000_000);
    const plain = await post(open.url, bytes, { 'X-Dumpstream-Source': 'generated.txt' });
    expect(plain.status).toBe(202);
    const zipped = await post(open.url, Readable.from([zlib.gzipSync(bytes)]), { 'Content-Encoding': 'gzip', 'Transfer-Encoding': 'chunked' });
    expect(zipped.status).toBe(202);
    expect(zipped.json.dumpId).toBe(plain.json.dumpId); // the same transcript, whatever the encoding
    expect(zipped.json.uploadId).not.toBe(plain.json.uploadId);
    const p = await expectIngested(plain.json.uploadId as string, bytes, 'generated.txt');
    const z = await expectIngested(zipped.json.uploadId as string, bytes, 'upload');
    expect(p.manifest.segments).toBeGreaterThan(50);
    expect(p.partitions).toBeGreaterThan(1);
    expect(z.partitions).toBeGreaterThan(1);
  });

  it('reads source and host from the query too, as UTF-8', async () => {
    const bytes = fs.readFileSync(SEED);
    const q = await new Promise<Answer>((resolve, reject) => {
      const req = http.request(`${open.url}/v1/transcripts?source=${encodeURIComponent('сервер.txt')}&host=h%C3%A9`, { method: 'POST', agent: false }, (res) => {
        let s = '';
        res.on('data', (c: Buffer) => (s += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, json: JSON.parse(s) as Record<string, unknown> }));
      });
      req.on('error', reject);
      req.end(bytes);
    });
    expect(q.status).toBe(202);
    await expectIngested(q.json.uploadId as string, bytes, 'сервер.txt', 'hé');
  });

  it('submits files with the client: one result per file, one line per failure', async () => {
    const stderr = new PassThrough();
    let errText = '';
    stderr.on('data', (c: Buffer) => (errText += c.toString()));
    const seen: string[] = [];
    const results = await submitTranscripts({
      files: [SEED, generated, path.join(tmp, 'missing.txt'), tmp],
      url: `${open.url}/`,
      host: 'fleet-7',
      gzip: true,
      stderr,
      onResult: (r) => seen.push(r.file),
    });
    expect(seen).toEqual([SEED, generated, path.join(tmp, 'missing.txt'), tmp]);
    expect(results.map((r) => [r.ok, r.status])).toEqual([
      [true, 202],
      [true, 202],
      [false, 0],
      [false, 0],
    ]);
    expect(results[0].dumpId).toBe(sha256(fs.readFileSync(SEED)));
    await expectIngested(results[1].uploadId!, fs.readFileSync(generated), 'generated-2000.txt', 'fleet-7');
    expect(errText).toBe(`${path.join(tmp, 'missing.txt')}: cannot read: no such file\n${tmp}: is a folder, not a transcript\n`);

    const down = await submitTranscripts({ files: [SEED], url: 'http://127.0.0.1:1' });
    expect(down[0]).toEqual({ file: SEED, ok: false, status: 0, error: 'cannot connect to http://127.0.0.1:1: connection refused (is the ingest service running?)' });
  });

  it('serves health and metrics on the API port', async () => {
    expect(open.ready()).toBe(true);
    expect(await get(`${open.url}/healthz`)).toEqual({ status: 200, body: 'ok\n' });
    expect(await get(`${open.url}/readyz`)).toEqual({ status: 200, body: 'ready\n' });
    expect(await metric(open.url, 'dumpstream_transcripts_received_total{way="http"}')).toBeGreaterThanOrEqual(6);
    expect(await metric(open.url, 'dumpstream_segments_produced_total')).toBeGreaterThan(100);
    expect(await metric(open.url, 'dumpstream_received_bytes_total{way="http"}')).toBeGreaterThan(6_000_000);
    expect(await metric(open.url, 'dumpstream_upload_duration_seconds_count{way="http"}')).toBeGreaterThanOrEqual(6);
    const nf = await get(`${open.url}/nowhere`);
    expect(nf.status).toBe(404);
    expect(JSON.parse(nf.body)).toEqual({ error: 'not found: uploads go to POST /v1/transcripts', code: 'NOT_FOUND' });
  });
});

describe('ingest refusing uploads', () => {
  let strict: IngestHandle;
  const auth = { Authorization: `Bearer ${TOKEN}` };
  beforeAll(async () => {
    strict = await start({ INGEST_TOKEN: TOKEN, INGEST_MAX_BYTES: String(STRICT_MAX), INGEST_MAX_CONCURRENT: '1' });
  });

  it('401 without the token or with a wrong one', async () => {
    const bytes = fs.readFileSync(SEED);
    const none = await post(strict.url, bytes);
    expect([none.status, none.json, none.headers['www-authenticate']]).toEqual([401, { error: 'a bearer token is required (Authorization: Bearer <token>)', code: 'UNAUTHORIZED' }, 'Bearer realm="dumpstream"']);
    const wrong = await post(strict.url, bytes, { Authorization: `Bearer ${TOKEN}x` });
    expect([wrong.status, wrong.json]).toEqual([401, { error: 'the bearer token is not valid', code: 'UNAUTHORIZED' }]);
    const client = await submitTranscripts({ files: [SEED], url: strict.url, token: 'not-the-token' });
    expect(client[0].error).toBe('401 Unauthorized: the bearer token is not valid');
    expect((await post(strict.url, bytes, auth)).status).toBe(202);
  });

  it('413 by Content-Length up front, and midway for a chunked body, with an aborted manifest', async () => {
    const big = Buffer.alloc(STRICT_MAX + 1, 'kd> !process 0 0\n');
    const announced = await post(strict.url, big, { ...auth, 'X-Dumpstream-Source': 'announced-big.txt' });
    expect([announced.status, announced.json]).toEqual([413, { error: `Content-Length ${STRICT_MAX + 1} is larger than the limit of 2 MiB (${STRICT_MAX} bytes)`, code: 'TOO_LARGE' }]);
    const chunked = await post(strict.url, Readable.from([big.subarray(0, 1 << 20), big.subarray(1 << 20)]), { ...auth, 'X-Dumpstream-Source': 'chunked-big.txt', 'Transfer-Encoding': 'chunked' });
    expect([chunked.status, chunked.json]).toEqual([413, { error: 'transcript larger than the limit of 2 MiB', code: 'TOO_LARGE' }]);
    const m = await manifestOf((x) => x.source === 'chunked-big.txt', 'the aborted manifest');
    expect(m).toMatchObject({ status: 'aborted', reason: 'transcript larger than the limit of 2 MiB' });
    expect(manifests.some((x) => x.source === 'announced-big.txt')).toBe(false);
  });

  it('413 for a gzip bomb (1 GiB of text in about 1 MiB) after inflating little', async () => {
    const member = zlib.gzipSync(Buffer.alloc(16 * 1024 * 1024, 'x'), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 64 }, () => member));
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const before = await metric(strict.url, 'dumpstream_received_bytes_total{way="http"}');
    const t0 = Date.now();
    const a = await post(strict.url, bomb, { ...auth, 'Content-Encoding': 'gzip', 'X-Dumpstream-Source': 'bomb.txt' });
    expect([a.status, a.json]).toEqual([413, { error: 'transcript larger than the limit of 2 MiB (decompressed)', code: 'TOO_LARGE' }]);
    expect(Date.now() - t0).toBeLessThan(5000);
    const inflated = (await metric(strict.url, 'dumpstream_received_bytes_total{way="http"}')) - before;
    expect(inflated).toBeLessThanOrEqual(STRICT_MAX + 64 * 1024);
    expect(await manifestOf((x) => x.source === 'bomb.txt', 'the bomb manifest')).toMatchObject({ status: 'aborted' });
  });

  it('415 for binary input, 400 for an empty body, bad metadata or bad gzip', async () => {
    const mdmp = Buffer.concat([Buffer.from('MDMP'), Buffer.alloc(40_000, 0)]);
    const bin = await post(strict.url, mdmp, { ...auth, 'X-Dumpstream-Source': 'memory.dmp' });
    expect([bin.status, bin.json]).toEqual([415, { error: 'not a transcript: binary data (a minidump file, MDMP): run the debugger on it and submit the transcript', code: 'NOT_TRANSCRIPT' }]);
    const zeros = await post(strict.url, Buffer.from('kd> !process 0 0\n\0\0\0'), auth);
    expect([zeros.status, zeros.json.code]).toEqual([415, 'NOT_TRANSCRIPT']);
    expect(manifests.some((x) => x.source === 'memory.dmp')).toBe(false); // refused before a segment

    const empty = await post(strict.url, Buffer.alloc(0), auth);
    expect([empty.status, empty.json]).toEqual([400, { error: 'empty transcript: the body has no bytes', code: 'EMPTY' }]);
    const emptyChunked = await post(strict.url, Readable.from([]), { ...auth, 'Transfer-Encoding': 'chunked' });
    expect([emptyChunked.status, emptyChunked.json.code]).toEqual([400, 'EMPTY']);
    const bad = await post(strict.url, fs.readFileSync(SEED), { ...auth, 'X-Dumpstream-Host': 'a\tb' });
    expect([bad.status, bad.json]).toEqual([400, { error: 'host contains an unprintable character (U+0009) at position 1', code: 'BAD_METADATA' }]);
    const notGzip = await post(strict.url, fs.readFileSync(SEED), { ...auth, 'Content-Encoding': 'gzip' });
    expect([notGzip.status, notGzip.json.code]).toEqual([400, 'BAD_ENCODING']);
    const br = await post(strict.url, fs.readFileSync(SEED), { ...auth, 'Content-Encoding': 'br' });
    expect([br.status, br.json.code]).toEqual([415, 'UNSUPPORTED_ENCODING']);
  });

  it('415 for text that holds nothing a debugger prints (an HTML page, JSON, a web server log), with an aborted manifest', async () => {
    const inputs: [string, string][] = [
      ['status.html', '<!doctype html>\n<html><head><title>Status</title></head>\n<body><p>All systems normal.</p></body></html>\n'.repeat(200)],
      ['events.json', `${JSON.stringify(Array.from({ length: 300 }, (_, i) => ({ id: i, process: `p${i}.exe`, pid: 1000 + i, thread: 7 })), null, 1)}\n`],
      ['access.log', '127.0.0.1 - - [29/Nov/2026:14:00:00 +0000] "GET /index.html HTTP/1.1" 200 512 "-" "curl/8.5"\n'.repeat(500)],
    ];
    for (const [source, text] of inputs) {
      const r = await post(strict.url, Buffer.from(text), { ...auth, 'X-Dumpstream-Source': source });
      const lines = text.split('\n').length - 1;
      expect([source, r.status, r.json]).toEqual([source, 415, { error: `not a debugger transcript: no prompt, process, thread or stack in ${lines} lines`, code: 'NOT_TRANSCRIPT' }]);
      // Segments may be out already: the manifest says the upload is not whole, so detect drops it.
      expect((await manifestOf((m) => m.source === source, `the manifest of ${source}`)).status).toBe('aborted');
    }
  });

  it('413 when a segment would be larger than the topic accepts (long lines, no boundary)', async () => {
    // Its own topics, the segments topic made with a 1 MiB max.message.bytes before ingest starts.
    const small = `${uniquePrefix('ingsmall')}.`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: `${small}segments`, numPartitions: 2, replicationFactor: -1, configEntries: [{ name: 'max.message.bytes', value: String(1024 * 1024) }] }] });
    await admin.disconnect();
    const h = await start({ DUMPSTREAM_TOPIC_PREFIX: small });
    const lines = Array.from({ length: 2050 }, () => randomBytes(749).toString('base64')); // 1000 characters each, incompressible
    const a = await post(h.url, Buffer.from(`${lines.join('\n')}\n`), { 'X-Dumpstream-Source': 'long-lines.txt' });
    expect([a.status, a.json]).toEqual([413, { error: 'a segment of this transcript is larger than Kafka accepts: very long lines with no command, PROCESS or THREAD line between them', code: 'SEGMENT_TOO_LARGE' }]);
    await h.stop();
  });

  it('429 past the concurrency limit; a client that disconnects midway leaves an aborted manifest', async () => {
    const bytes = fs.readFileSync(generated);
    const before = await metric(strict.url, 'dumpstream_received_bytes_total{way="http"}');
    // One upload that sends 256 KiB and then stalls, holding the only slot.
    const stalled = http.request(`${strict.url}/v1/transcripts`, { method: 'POST', agent: false, headers: { ...auth, 'X-Dumpstream-Source': 'stalled.txt', 'Transfer-Encoding': 'chunked' } });
    stalled.on('error', () => {});
    stalled.write(bytes.subarray(0, 256 * 1024));
    await waitFor('the stalled upload to be read', async () => ((await metric(strict.url, 'dumpstream_received_bytes_total{way="http"}')) - before >= 256 * 1024 ? true : undefined));

    const busy = await post(strict.url, fs.readFileSync(SEED), auth);
    expect([busy.status, busy.json, busy.headers['retry-after']]).toEqual([429, { error: '1 uploads are in progress already: retry after 5 s', code: 'TOO_MANY_UPLOADS' }, '5']);

    stalled.destroy();
    const m = await manifestOf((x) => x.source === 'stalled.txt', 'the aborted manifest of the stalled upload');
    expect(m).toMatchObject({ status: 'aborted', reason: 'the client disconnected before the end of the transcript' });
    expect(m.segments).toBeGreaterThan(0);
    // The slot is free again.
    await waitFor('the slot to be free', async () => ((await post(strict.url, fs.readFileSync(SEED), auth)).status === 202 ? true : undefined), 10_000, 200);
  });
});

describe('ingest stopping', () => {
  it('finishes an upload in progress before it stops, and takes no new ones meanwhile', async () => {
    const h = await start();
    const bytes = fs.readFileSync(generated);
    const body = new PassThrough();
    const answer = post(h.url, body, { 'X-Dumpstream-Source': 'during-stop.txt', 'Transfer-Encoding': 'chunked' });
    body.write(bytes.subarray(0, 1 << 20));
    await new Promise((r) => setTimeout(r, 200));
    const stopping = h.stop();
    expect(h.ready()).toBe(false);
    await expect(post(h.url, fs.readFileSync(SEED))).rejects.toThrow(/ECONNREFUSED/);
    body.end(bytes.subarray(1 << 20));
    const a = await answer;
    expect(a.status).toBe(202);
    await stopping;
    await expectIngested(a.json.uploadId as string, bytes, 'during-stop.txt');
    await expect(post(h.url, bytes)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('ingest from a spool folder', () => {
  it('takes files present before start, files dropped after, and files away what it cannot read', async () => {
    const dir = path.join(tmp, 'spool');
    fs.mkdirSync(path.join(dir, 'work'), { recursive: true });
    const seed = fs.readFileSync(SEED);
    const gen = fs.readFileSync(generated);
    fs.writeFileSync(path.join(dir, 'before.txt'), seed);
    fs.writeFileSync(path.join(dir, 'crashed.log'), gen.subarray(0, 300_000)); // left in work/ by a crash
    fs.renameSync(path.join(dir, 'crashed.log'), path.join(dir, 'work', 'crashed.log'));

    const registry = new Registry();
    const h = await start({ INGEST_SPOOL_DIR: dir }, registry, { spool: { stableMs: 200, scanEveryMs: 200 } });

    fs.writeFileSync(path.join(dir, 'late.txt.host'), 'dc-02\n');
    fs.writeFileSync(path.join(dir, 'late.txt'), gen);
    fs.writeFileSync(path.join(dir, 'late.txt.gz'), zlib.gzipSync(seed));
    fs.writeFileSync(path.join(dir, 'memory.dmp'), Buffer.concat([Buffer.from('MDMP'), Buffer.alloc(4096)]));
    fs.symlinkSync('/etc/hostname', path.join(dir, 'escape.txt'));
    fs.writeFileSync(path.join(dir, '.partial.txt'), seed); // hidden: still being written

    const exists = (...p: string[]) => () => (fs.existsSync(path.join(dir, ...p)) ? true : undefined);
    for (const name of ['before.txt', 'crashed.log', 'late.txt', 'late.txt.host', 'late.txt.gz']) await waitFor(`done/${name}`, exists('done', name), 20_000);
    for (const name of ['memory.dmp', 'escape.txt']) await waitFor(`failed/${name}.reason`, exists('failed', `${name}.reason`), 20_000);

    expect(fs.readFileSync(path.join(dir, 'failed', 'memory.dmp.reason'), 'utf8')).toBe('NOT_TRANSCRIPT: not a transcript: binary data (a minidump file, MDMP): run the debugger on it and submit the transcript\n');
    expect(fs.readFileSync(path.join(dir, 'failed', 'escape.txt.reason'), 'utf8')).toBe('UNREADABLE: symbolic links are refused: copy the file into the spool folder\n');
    expect(fs.lstatSync(path.join(dir, 'failed', 'escape.txt')).isSymbolicLink()).toBe(true); // moved, never followed
    expect(fs.existsSync(path.join(dir, '.partial.txt'))).toBe(true);
    expect(fs.readdirSync(path.join(dir, 'work'))).toEqual([]);

    const bySource = (s: string) => manifestOf((m) => m.source === s && m.status === 'complete', `the manifest of ${s}`);
    await expectIngested((await bySource('before.txt')).uploadId, seed, 'before.txt');
    await expectIngested((await bySource('crashed.log')).uploadId, gen.subarray(0, 300_000), 'crashed.log');
    await expectIngested((await bySource('late.txt')).uploadId, gen, 'late.txt', 'dc-02');
    await expectIngested((await bySource('late.txt.gz')).uploadId, seed, 'late.txt.gz');
    expect(manifests.some((m) => m.source === 'memory.dmp')).toBe(false);

    const m = await registry.getSingleMetricAsString('dumpstream_transcripts_received_total');
    expect(m).toContain('dumpstream_transcripts_received_total{way="spool"} 4');
    await h.stop();
  });
});
