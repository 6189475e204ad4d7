/**
 * The look-up API end to end on a real Kafka broker and a real Redis: transcripts uploaded to
 * ingest, reported by a real parse and detect worker, kept by detect, and read back through
 * ingest's GET /v1/reports… and /v1/storms… and the `dumpstream report` and `dumpstream storms`
 * commands. A report fetched as JSON, HTML or text is what `dumpstream analyze` prints for the
 * same bytes; the HTML page is opened in a real browser (headless Chromium) when the machine has one.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startDetect, type DetectHandle } from '@dumpstream/detect-service';
import { writeTranscript } from '@dumpstream/generator';
import { startIngest, type IngestHandle } from '@dumpstream/ingest';
import { startParse, type ParseHandle } from '@dumpstream/parse';
import Redis from 'ioredis';
import { ReportStore, type ReportSummary } from '@dumpstream/redis';
import { silentLog, type Config } from '@dumpstream/runtime';
import { testConfig } from '../support/config';
import { runCli } from '../support/cli';
import { uniquePrefix, waitFor } from '../support/ids';
import { SEED } from '../support/upload';
import { findChromium, LOCAL_CHROMIUM } from '../render/chromium';

jest.setTimeout(180_000);

const TOKEN = 'lookup-test-token-0123456789';

let dir: string;
let config: Config;
let ingest: IngestHandle;
let parse: ParseHandle;
let detect: DetectHandle;
/** Uploaded files: path (also the upload's source, as analyze names it), host, dumpId. */
const uploads: { file: string; host: string; dumpId: string }[] = [];

const auth = { authorization: `Bearer ${TOKEN}` };
const get = (p: string, headers: Record<string, string> = auth) => fetch(`${ingest.url}${p}`, { headers });

const cli = (args: string[]) => runCli(args, { env: {} });

async function upload(file: string, host: string): Promise<void> {
  const res = await fetch(`${ingest.url}/v1/transcripts`, { method: 'POST', body: await fs.readFile(file), headers: { ...auth, 'x-dumpstream-host': host, 'x-dumpstream-source': file } });
  expect(res.status).toBe(202);
  const { dumpId } = (await res.json()) as { dumpId: string };
  uploads.push({ file, host, dumpId });
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dumpstream-lookup-'));
  config = testConfig(uniquePrefix('lookup'), { DUMPSTREAM_PARTITIONS: '2', INGEST_TOKEN: TOKEN, INGEST_SEGMENT_LINES: '200', WORKER_ID: 'l1', STORM_MIN_DUMPS: '3', STORM_EVALUATE_EVERY: '1' });
  ingest = await startIngest(config, { log: silentLog });
  parse = await startParse(config, { log: silentLog });
  detect = await startDetect(config, { log: silentLog });
  // The seed on three hosts (bytes of their own each), and a generated storm of another fault.
  const seed = await fs.readFile(SEED);
  for (const [i, host] of ['web-1', 'web-2', 'web-3', 'web-1'].entries()) {
    const file = path.join(dir, `seed-${i}.txt`);
    await fs.writeFile(file, Buffer.concat([seed, Buffer.from(`\ncopy ${i}\n`)]));
    await upload(file, host);
  }
  const storm = path.join(dir, 'storm.txt');
  await writeTranscript({ seed: 5, processes: 120, chains: [{ depth: 5, branching: 2 }] }, storm, { answer: false });
  await upload(storm, 'db-1');
  for (const u of uploads) await waitFor(`the kept report of ${u.file}`, async () => ((await get(`/v1/reports/${u.dumpId}`)).status === 200 ? true : undefined), 120_000, 250);
});

afterAll(async () => {
  await ingest?.stop();
  await parse?.stop();
  await detect?.stop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

it('serves a kept report as JSON, HTML and text: what analyze prints for the same bytes', async () => {
  for (const u of [uploads[0], uploads[4]]) {
    const json = await get(`/v1/reports/${u.dumpId}`);
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(json.headers.get('x-dumpstream-kept')).toBe('report');
    const analyzed = await cli(['analyze', '--format', 'json', u.file]);
    // Deep-equal, not byte-equal: Avro gives `system` back in schema order (packages/schemas report.ts).
    expect({ ...JSON.parse(await json.text()), host: null }).toEqual(JSON.parse(analyzed.out));

    const html = await get(`/v1/reports/${u.dumpId}?format=html`);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    // The kept report knows its host (the page says it beside the dump id); analyze does not.
    expect((await html.text()).replace(` · host ${u.host}`, '')).toBe((await cli(['analyze', '--format', 'html', u.file])).out);
    const text = await get(`/v1/reports/${u.dumpId}?format=text`);
    expect(await text.text()).toBe((await cli(['analyze', u.file])).out);
  }
});

it('serves a report kept as its summary only (larger than REPORT_KEEP_MAX_BYTES) as the summary, and says so', async () => {
  const redis = new Redis(process.env.REDIS_URL!);
  const dumpId = 'ab'.repeat(32);
  try {
    const small = new ReportStore(redis, { prefix: config.redisKeyPrefix, keepMaxBytes: 16 });
    await small.keep({ dumpId, host: 'big-1', time: Date.now(), signature: 'v1:big.exe!big!f', rootImage: 'big.exe', chainDepth: 40, werFaults: 3000, state: 'complete', source: 'huge.txt', severity: 'critical' }, randomBytes(4096));
    const json = await get(`/v1/reports/${dumpId}`);
    expect(json.status).toBe(200);
    expect(json.headers.get('x-dumpstream-kept')).toBe('summary');
    expect(await json.json()).toMatchObject({ schema: 'dumpstream.report-summary/v1', report: null, summary: { dumpId, kept: 'summary', werFaults: 3000 }, note: expect.stringMatching(/more than REPORT_KEEP_MAX_BYTES \(16\)/) });
    const text = await (await get(`/v1/reports/${dumpId}?format=text`)).text();
    expect(text).toContain('signature: v1:big.exe!big!f');
    expect(text).toMatch(/only its summary is kept/);
    expect(await (await get(`/v1/reports/${dumpId}?format=html`)).text()).toMatch(/<li>root image: big.exe; deepest chain 40; 3000 WerFault.exe<\/li>/);
    const cliText = await cli(['report', dumpId, '--url', ingest.url, '--token', TOKEN]);
    expect(cliText.code).toBe(0);
    expect(cliText.err).toMatch(/only the summary of this report was kept/);
    // Gone again, so that the listings below see the uploaded fleet only.
    await redis.del(small.keys.report(dumpId), small.keys.reportsByHost('big-1'), small.keys.reportsBySignature('v1:big.exe!big!f'));
    await redis.zrem(small.keys.reportsByTime(), dumpId);
  } finally {
    redis.disconnect();
  }
});

it('draws the HTML page in a real browser', async () => {
  // The machine's Chromium, or on the Docker path the container test/render uses.
  const browser = findChromium(await fs.realpath(dir));
  if (!browser) return console.warn(`no chromium on PATH (Debian's is ${LOCAL_CHROMIUM}) and no Docker engine to run one in: the browser check is skipped`);
  await browser.prepare();
  const file = path.join(await fs.realpath(dir), 'report.html');
  await fs.writeFile(file, await (await get(`/v1/reports/${uploads[0].dumpId}?format=html`)).text());
  let dom: string;
  try {
    dom = await browser.run(['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${path.join(path.dirname(file), 'profile')}`, '--dump-dom', `file://${file}`]);
  } finally {
    await browser.cleanup();
  }
  expect(dom).toContain(`data-source="${uploads[0].file}"`);
  expect(dom.match(/<svg[^>]* class="tree"/g)?.length ?? 0).toBeGreaterThan(0);
  expect(dom).toContain('WerFault.exe');
  expect(dom).not.toMatch(/<script/i);
}, 20 * 60_000); // the container route builds its image once where the engine lacks it

it('lists summaries newest first, filtered by host, signature and time, a page at a time', async () => {
  const list = async (q: string) => (await (await get(`/v1/reports${q}`)).json()) as { reports: ReportSummary[]; next: string | null };
  const all = await list('');
  expect(all.reports).toHaveLength(5);
  expect(all.reports.map((r) => r.time)).toEqual([...all.reports.map((r) => r.time)].sort((a, b) => b - a));
  const seedSummary = all.reports.find((r) => r.dumpId === uploads[0].dumpId)!;
  expect(seedSummary).toMatchObject({ host: 'web-1', state: 'complete', source: uploads[0].file, kept: 'report' });
  // The seed's original faults are not in the dump: their image is not known.
  expect(seedSummary.rootImage).toBeNull();
  expect(seedSummary.chainDepth).toBeGreaterThan(1);
  expect(seedSummary.werFaults).toBeGreaterThan(1);
  expect(seedSummary.signature).toMatch(/^v1:/);

  expect((await list('?host=web-1')).reports.map((r) => r.dumpId).sort()).toEqual([uploads[0].dumpId, uploads[3].dumpId].sort());
  const sig = seedSummary.signature!;
  const bySig = await list(`?signature=${encodeURIComponent(sig)}`);
  expect(bySig.reports.map((r) => r.dumpId).sort()).toEqual(uploads.slice(0, 4).map((u) => u.dumpId).sort());
  expect((await list(`?signature=${encodeURIComponent(sig)}&host=web-2`)).reports.map((r) => r.dumpId)).toEqual([uploads[1].dumpId]);
  expect((await list('?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z')).reports).toEqual([]);
  expect((await list('?since=1h')).reports).toHaveLength(5);

  const seen: string[] = [];
  let q = '?limit=2';
  for (;;) {
    const page = await list(q);
    seen.push(...page.reports.map((r) => r.dumpId));
    if (page.next === null) break;
    q = `?limit=2&cursor=${encodeURIComponent(page.next)}`;
  }
  expect(seen).toEqual(all.reports.map((r) => r.dumpId));
});

it('shows storms from the fleet state, and one storm with its dumps (signatures URL-encoded)', async () => {
  const sig = ((await (await get(`/v1/reports/${uploads[0].dumpId}`)).json()) as { findings: { signature: string }[] }).findings[0].signature;
  const all = (await (await get('/v1/storms?all=1')).json()) as { source: string; storms: { signature: string; dumps: number; hosts: number }[] };
  // Counted by the detect worker into the fleet state; the seed's fault passed STORM_MIN_DUMPS (3),
  // the other did not.
  expect(all.source).toBe('fleet-state');
  expect(all.storms.find((s) => s.signature === sig)).toMatchObject({ dumps: 4, hosts: 3, trend: 'rising' });
  expect(all.storms.find((s) => s.signature !== sig)).toMatchObject({ state: 'quiet', dumps: 1, hosts: 1 });
  const storming = await waitFor('the storm evaluator to call the seed fault a storm', async () => {
    const now = (await (await get('/v1/storms')).json()) as { storms: { signature: string; state: string; reason: string }[] };
    return now.storms.length > 0 ? now.storms : undefined;
  }, 30_000, 250);
  expect(storming).toEqual([expect.objectContaining({ signature: sig, state: 'storming', reason: 'dumps' })]);
  const one = await get(`/v1/storms/${encodeURIComponent(sig)}`);
  expect(one.status).toBe(200);
  const body = (await one.json()) as { storm: { signature: string }; dumps: ReportSummary[] };
  expect(body.storm.signature).toBe(sig);
  expect(body.dumps.map((d) => d.dumpId).sort()).toEqual(uploads.slice(0, 4).map((u) => u.dumpId).sort());
  expect((await get(`/v1/storms/${encodeURIComponent('v1:nothing.exe!x!y')}`)).status).toBe(404);
});

it('answers bad requests with a JSON error that says which parameter and why (bad input on purpose)', async () => {
  const error = async (p: string, status: number, headers?: Record<string, string>) => {
    const res = await get(p, headers);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await res.json()) as { error: string; code: string; parameter?: string };
    expect(body.error).not.toMatch(/\n\s+at /);
    return body;
  };
  expect(await error('/v1/reports?limit=0', 400)).toMatchObject({ code: 'BAD_PARAMETER', parameter: 'limit' });
  expect(await error('/v1/reports?since=yesterday', 400)).toMatchObject({ code: 'BAD_PARAMETER', parameter: 'since' });
  expect(await error('/v1/reports?cursor=xyz', 400)).toMatchObject({ code: 'BAD_PARAMETER', parameter: 'cursor' });
  expect(await error(`/v1/reports/${uploads[0].dumpId}?format=pdf`, 400)).toMatchObject({ code: 'BAD_PARAMETER', parameter: 'format' });
  expect(await error('/v1/reports/not-a-dump', 400)).toMatchObject({ code: 'BAD_PARAMETER', parameter: 'dumpId' });
  expect(await error('/v1/storms/%E0%A4%A', 400)).toMatchObject({ code: 'BAD_PARAMETER', parameter: 'path' });
  expect(await error(`/v1/reports/${'0'.repeat(64)}`, 404)).toMatchObject({ code: 'NOT_FOUND' });
  expect(await error('/v1/reports', 401, {})).toMatchObject({ code: 'UNAUTHORIZED' });
  expect(await error('/v1/storms', 401, { authorization: 'Bearer wrong-token-wrong-token' })).toMatchObject({ code: 'UNAUTHORIZED' });
  const post = await fetch(`${ingest.url}/v1/reports`, { method: 'POST', headers: auth, body: 'x' });
  expect(post.status).toBe(405);
  expect(await post.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
});

it('answers 503 while Redis is unreachable', async () => {
  const down = await startIngest(testConfig(uniquePrefix('lookupdown'), { REDIS_URL: 'redis://127.0.0.1:1', INGEST_TOKEN: TOKEN }), { log: silentLog });
  try {
    const res = await fetch(`${down.url}/v1/reports`, { headers: auth });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: 'REDIS_UNAVAILABLE' });
  } finally {
    await down.stop();
  }
});

describe('the CLI against the API', () => {
  const at = () => ['--url', ingest.url, '--token', TOKEN];

  it('prints a report as analyze does, and the storms as a table or JSON', async () => {
    const u = uploads[0];
    const json = await cli(['report', u.dumpId, '--format', 'json', ...at()]);
    expect(json.code).toBe(0);
    expect({ ...JSON.parse(json.out), host: null }).toEqual(JSON.parse((await cli(['analyze', '--format', 'json', u.file])).out));
    const html = await cli(['report', u.dumpId, '--format', 'html', ...at()]);
    expect(html.out.replace(` · host ${u.host}`, '')).toBe((await cli(['analyze', '--format', 'html', u.file])).out);
    const text = await cli(['report', u.dumpId, ...at()]);
    expect(text.out).toContain('WerFault.exe');

    const table = await cli(['storms', '--all', ...at()]);
    const now = await cli(['storms', ...at()]);
    expect(now.out.trimEnd().split('\n')).toHaveLength(2);
    expect(now.out).toMatch(/storming\s+4\s+3 /);
    expect(table.code).toBe(0);
    const lines = table.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SIGNATURE\s+STATE\s+DUMPS\s+HOSTS\s+SINCE\s+TREND$/);
    const sig = (JSON.parse(json.out) as { findings: { signature: string }[] }).findings[0].signature;
    expect(lines.find((l) => l.startsWith(sig))).toMatch(/\s4\s+3\s+\d{4}-\d\d-\d\d \d\d:\d\dZ/);
    console.log(`dumpstream storms, on the test fleet:\n${now.out}\ndumpstream storms --all:\n${table.out}\ndumpstream report ${u.dumpId} (first lines):\n${text.out.split('\n').slice(0, 12).join('\n')}`);
    const stormsJson = await cli(['storms', '--format', 'json', '--all', ...at()]);
    expect(JSON.parse(stormsJson.out).storms.length).toBeGreaterThan(0);
  });

  it('says in one line, without a stack, when the API is unreachable, refuses the token or has no such report', async () => {
    // A port nobody listens on: bound, then closed.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const closed = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    await new Promise((resolve) => server.close(resolve));
    const unreachable = await cli(['storms', '--url', closed]);
    expect(unreachable).toMatchObject({ code: 1, out: '' });
    expect(unreachable.err).toBe(`dumpstream storms: cannot reach ${closed} (ECONNREFUSED): is ingest running there? (--url or DUMPSTREAM_URL)\n`);
    const refused = await cli(['report', uploads[0].dumpId, '--url', ingest.url, '--token', 'wrong-token-wrong-token']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/refused the token .*--token or DUMPSTREAM_TOKEN/);
    const missing = await cli(['report', '0'.repeat(64), ...at()]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no report kept for dump 0{64}: never reported, or older than REPORT_RETENTION \(HTTP 404\)/);
    for (const r of [unreachable, refused, missing]) expect(r.err).not.toMatch(/\n\s+at /);
    expect((await cli(['report', '--url', ingest.url])).code).toBe(2);
    expect((await cli(['storms'])).err).toMatch(/--url is required/);
  });
});
