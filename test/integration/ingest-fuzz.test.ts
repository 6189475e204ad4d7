/**
 * Fuzzing ingest's HTTP endpoint over a raw socket (fast-check): any method, path, headers
 * (encodings, lengths that lie, tokens, labels with any characters) and body (transcript bytes,
 * random bytes, gzip whole or cut). Whatever comes, ingest answers with a status it documents
 * and a JSON `{ error, code }` (or Node's own 400 for bytes that are not HTTP, or closes a request
 * that never ends), never a 5xx; and it lets the upload slot go (INGEST_MAX_CONCURRENT=1: a valid
 * upload right after is taken).
 *
 * Requests fuzzing found that broke something are kept in test/fixtures/fuzz/http-*.json and
 * replayed first.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { createKafka, ensureTopics, topicsFor } from '@dumpstream/kafka';
import { loadConfig, silentLog } from '@dumpstream/runtime';
import { INGEST_ERROR_CODES, startIngest, type IngestHandle } from '../../services/ingest/src';
import { uniquePrefix } from '../support/ids';

jest.setTimeout(600_000);

const SEED = readFileSync(path.resolve(__dirname, '..', 'fixtures', 'seed-error-reporting-fault.txt'));
const TOKEN = 'fuzz-token-0123456789abcdef';
const FUZZ = path.resolve(__dirname, '..', 'fixtures', 'fuzz');

interface FuzzRequest {
  method: string;
  target: string;
  headers: [string, string][];
  body: readonly number[];
  /** Content-Length to announce: the body's, fewer, more, or none. */
  length: 'exact' | 'fewer' | 'more' | 'none' | 'chunked';
}

interface Outcome {
  status: number;
  headers: string;
  body: string;
}

/** Sends the request as bytes and reads until the server closes (or 15 s pass: then half-closes). */
function send(port: number, r: FuzzRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    const body = Buffer.from(r.body);
    const lines = [`${r.method} ${r.target} HTTP/1.1`, 'Host: ingest.test', 'Connection: close', ...r.headers.map(([k, v]) => `${k}: ${v}`)];
    let payload = body;
    if (r.length === 'exact') lines.push(`Content-Length: ${body.length}`);
    if (r.length === 'fewer') lines.push(`Content-Length: ${Math.max(0, body.length - 7)}`);
    if (r.length === 'more') lines.push(`Content-Length: ${body.length + 1000}`);
    if (r.length === 'chunked') {
      lines.push('Transfer-Encoding: chunked');
      payload = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
    }
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      // Interim answers (100 Continue) come first; the final one counts.
      const text = Buffer.concat(chunks).toString('latin1').replace(/^(HTTP\/1\.1 1\d\d[^\r]*\r\n(?:[^\r]+\r\n)*\r\n)+/, '');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      const sep = text.indexOf('\r\n\r\n');
      resolve({ status: m ? Number(m[1]) : 0, headers: sep < 0 ? text : text.slice(0, sep), body: sep < 0 ? '' : text.slice(sep + 4) });
    };
    // A request that announced more than it sent is left waiting by design; the client gives up.
    const timer = setTimeout(() => socket.end(), 15_000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', finish);
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      socket.write(head);
      socket.write(payload);
    });
  });
}

const ALLOWED = new Set([202, 400, 401, 404, 405, 408, 413, 415, 429, 431]);
const CODES = new Set<string>(INGEST_ERROR_CODES.filter((c) => c !== 'INTERNAL' && c !== 'KAFKA' && c !== 'STOPPING'));

/** The problem with an outcome, or null when it is one ingest documents. */
function judge(r: FuzzRequest, o: Outcome): string | null {
  if (o.status === 0) return r.length === 'more' ? null : 'no answer';
  if (!ALLOWED.has(o.status)) return `status ${o.status}: ${o.body.slice(0, 200)}`;
  if (r.method === 'HEAD') return null; // no body, by definition
  if (o.status === 202) return /"uploadId"/.test(o.body) ? null : `202 without an uploadId: ${o.body.slice(0, 200)}`;
  let json: { error?: unknown; code?: unknown } | null = null;
  try {
    json = JSON.parse(o.body) as { error?: unknown; code?: unknown };
  } catch {
    // Node's own answer to bytes that are not HTTP (no JSON): only 400 and 431 are that.
    return o.status === 400 || o.status === 431 ? null : `status ${o.status} without JSON: ${o.body.slice(0, 200)}`;
  }
  if (typeof json?.error !== 'string' || typeof json.code !== 'string' || !CODES.has(json.code)) return `not a documented error: ${o.body.slice(0, 200)}`;
  return null;
}

const gz = (b: Buffer) => gzipSync(b);
const bodies = fc.oneof(
  fc.constant([...SEED]),
  fc.tuple(fc.nat(SEED.length), fc.nat(SEED.length)).map(([a, b]) => [...SEED.subarray(Math.min(a, b), Math.max(a, b))]),
  fc.uint8Array({ maxLength: 3000 }).map((a) => [...a]),
  fc.constant([...gz(SEED)]),
  fc.nat(200).map((n) => [...gz(SEED).subarray(0, n)]),
  fc.uint8Array({ maxLength: 500 }).map((a) => [...gz(Buffer.from(a))]),
  fc.constant([] as number[]),
);
const label = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('../../etc/passwd', 'a}:b', ' ', 'x'.repeat(300), '\u202eevil', 'ok.txt'));
// Header values as raw latin1 bytes: anything but CR and LF (those would split the request).
const headerValue = (s: fc.Arbitrary<string>) => s.map((v) => Buffer.from(v, 'utf8').toString('latin1').replace(/[\r\n]/g, ''));
const header = fc.oneof(
  fc.constantFrom<[string, string]>(['Authorization', `Bearer ${TOKEN}`], ['Authorization', `bearer   ${TOKEN}  `], ['Authorization', 'Bearer'], ['Authorization', `Basic ${Buffer.from('a:b').toString('base64')}`], ['Authorization', `Bearer ${TOKEN}x`]),
  fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'gzip, gzip', 'GZIP', 'x-gzip', '', 'compress').map((v): [string, string] => ['Content-Encoding', v]),
  fc.constantFrom('text/plain', 'multipart/form-data; boundary=x', 'application/json', 'application/octet-stream', '').map((v): [string, string] => ['Content-Type', v]),
  headerValue(label).map((v): [string, string] => ['X-Dumpstream-Source', v]),
  headerValue(label).map((v): [string, string] => ['X-Dumpstream-Host', v]),
  fc.constant<[string, string]>(['Expect', '100-continue']),
);
const request: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.constantFrom('POST', 'POST', 'POST', 'POST', 'GET', 'PUT', 'HEAD', 'DELETE', 'OPTIONS'),
  target: fc.oneof(
    fc.constant('/v1/transcripts'),
    fc.constant('/v1/transcripts'),
    label.map((l) => `/v1/transcripts?source=${encodeURIComponent(l)}&host=${encodeURIComponent(l)}`),
    fc.constantFrom('/', '/v1/transcripts/', '/v1/transcripts/../metrics', '/%2e%2e/%2e%2e/etc/passwd', '//v1//transcripts', '/v1/transcripts?source=a&source=b', '*', '/v1/transcripts#x'),
  ),
  headers: fc.array(header, { maxLength: 5 }).map((h) => (h.some(([k]) => k === 'Authorization') ? h : [['Authorization', `Bearer ${TOKEN}`] as [string, string], ...h])),
  body: bodies,
  length: fc.constantFrom<FuzzRequest['length']>('exact', 'exact', 'exact', 'chunked', 'fewer', 'more', 'none'),
});

let ingest: IngestHandle;
let port: number;

beforeAll(async () => {
  const prefix = `${uniquePrefix('httpfuzz')}.`;
  const config = loadConfig(
    { KAFKA_BROKERS: process.env.KAFKA_BROKERS, DUMPSTREAM_TOPIC_PREFIX: prefix, INGEST_LISTEN: '127.0.0.1:0', INGEST_TOKEN: TOKEN, INGEST_MAX_BYTES: '1m', INGEST_MAX_CONCURRENT: '1', INGEST_SEGMENT_LINES: '50' },
    { kafka: true },
  );
  await ensureTopics(createKafka({ brokers: config.kafka.brokers, clientId: 'httpfuzz' }, silentLog), topicsFor(prefix, { segments: 2, facts: 2 }));
  ingest = await startIngest(config, { log: silentLog, idleTimeoutMs: 3000, headersTimeoutMs: 5000 });
  port = ingest.port;
});

afterAll(async () => {
  await ingest?.stop();
});

const VALID: FuzzRequest = { method: 'POST', target: '/v1/transcripts', headers: [['Authorization', `Bearer ${TOKEN}`]], body: [...SEED], length: 'exact' };

/** Whether a valid upload is taken within 10 s (a request ending late may hold the one slot a while). */
async function slotFree(): Promise<boolean> {
  const until = Date.now() + 10_000;
  for (;;) {
    const o = await send(port, VALID);
    if (o.status === 202) return true;
    if (o.status !== 429 || Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('ingest over HTTP, fuzzed', () => {
  const found = readdirSync(FUZZ)
    .filter((f) => /^http-.*\.json$/.test(f))
    .map((f) => ({ name: f, request: JSON.parse(readFileSync(path.join(FUZZ, f), 'utf8')) as FuzzRequest }));

  it('answers the requests fuzzing once found, and lets their upload slots go', async () => {
    expect(found.length).toBeGreaterThan(0);
    for (const f of found) {
      expect({ case: f.name, problem: judge(f.request, await send(port, f.request)) }).toEqual({ case: f.name, problem: null });
      expect({ case: f.name, slotFree: await slotFree() }).toEqual({ case: f.name, slotFree: true });
    }
  });

  it('answers any request with a documented status and error, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const o = await send(port, r);
        expect({ problem: judge(r, o), status: o.status }).toMatchObject({ problem: null });
        // And the request let its upload slot go (INGEST_MAX_CONCURRENT=1): a valid upload gets in.
        expect(await slotFree()).toBe(true);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 120), interruptAfterTimeLimit: 400_000 },
    );
  });

  it('still takes uploads afterwards', async () => {
    expect(await slotFree()).toBe(true);
  });
});
