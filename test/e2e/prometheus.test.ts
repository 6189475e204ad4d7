/**
 * What operators see, checked against a real Prometheus: ingest, parse and detect run in this
 * process on a real Kafka and Redis with their own registries, as in production; a Prometheus
 * (the machine's binary, on a free loopback port) scrapes their /metrics every second and
 * evaluates deploy/prometheus's alert rules. After a small end-to-end run (the seed and a few
 * generated dumps, over HTTP from two hosts and through the spool folder), PromQL through the HTTP
 * API gives exactly the counts the run produced: the reports on the reports topic and the segments
 * on the segments topic are the reference. Every dashboard query runs there too.
 */
import { createHash } from 'node:crypto';
import { promises as fs, readFileSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { faultRootsOf, startDetect, type DetectHandle } from '@dumpstream/detect-service';
import { generateFleet, writeTranscript } from '@dumpstream/generator';
import { startIngest, submitTranscripts, type IngestHandle } from '@dumpstream/ingest';
import { topicsFor } from '@dumpstream/kafka';
import { CappedLabel } from '@dumpstream/metrics';
import { startParse, type ParseHandle } from '@dumpstream/parse';
import type { Report } from '@dumpstream/report';
import { silentLog, type Config } from '@dumpstream/runtime';
import { decodeReport } from '@dumpstream/schemas';
import { testConfig } from '../support/config';
import { uniquePrefix, waitFor } from '../support/ids';
import { startPrometheus, type PrometheusHandle, type Sample } from '../support/prometheus';

jest.setTimeout(120_000);

const ROOT = path.join(__dirname, '..', '..');
const SEED = path.join(ROOT, 'test', 'fixtures', 'seed-error-reporting-fault.txt');
const RULES = path.join(ROOT, 'deploy', 'prometheus', 'rules');
const DASHBOARDS = path.join(ROOT, 'deploy', 'grafana', 'dashboards');

interface Upload {
  file: string;
  way: 'http' | 'spool';
  host: string | null;
  dumpId: string;
  bytes: number;
}

let dir: string;
let spool: string;
let prefix: string;
let ingest: IngestHandle;
let parse: ParseHandle;
let detect: DetectHandle;
let prometheus: PrometheusHandle;
let watcher: Consumer;
const uploads: Upload[] = [];
const reports = new Map<string, Report>();

function configFor(workerId: string, env: Record<string, string> = {}): Config {
  // Storms evaluated every second, so the storms dashboard has the run's signatures in time.
  return testConfig(prefix, { DUMPSTREAM_PARTITIONS: '2', INGEST_SPOOL_DIR: spool, INGEST_SEGMENT_LINES: '300', WORKER_ID: workerId, STORM_EVALUATE_EVERY: '1', ...env });
}

/** One number per label value: `{ http: 3, spool: 2 }`. */
function byLabel(samples: Sample[], label: string): Record<string, number> {
  return Object.fromEntries(samples.map((s) => [s.metric[label] ?? '', s.value]).sort(([a], [b]) => String(a).localeCompare(String(b))));
}

function tally(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of [...values].sort()) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** The value of a query once Prometheus has scraped the end of the run (polls until it equals `want`, then compares for a readable diff). */
async function settled<T>(expr: string, read: (s: Sample[]) => T, want: T, timeoutMs = 15_000): Promise<T> {
  let got: T | undefined;
  try {
    await waitFor(`${expr} to equal ${JSON.stringify(want)}`, async () => {
      got = read(await prometheus.query(expr));
      return JSON.stringify(got) === JSON.stringify(want) ? true : undefined;
    }, timeoutMs, 250);
  } catch {
    // fall through to the comparison below, which shows the difference
  }
  expect({ expr, got }).toEqual({ expr, got: want });
  return got!;
}
const total = (s: Sample[]) => s.reduce((n, x) => n + x.value, 0);

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dumpstream-prom-e2e-'));
  spool = path.join(dir, 'spool');
  await fs.mkdir(spool);
  prefix = uniquePrefix('prom');

  // The run: the seed and six generated dumps, most with findings; from two hosts over HTTP, and
  // through the spool (no host).
  const seed = path.join(dir, 'seed.txt');
  await fs.copyFile(SEED, seed);
  const files = [seed];
  for (const d of generateFleet({ seed: 4, dumps: 6, findingRate: 0.8, processes: [20, 80] })) {
    const file = path.join(dir, d.name);
    await writeTranscript(d.spec, file, { answer: false });
    files.push(file);
  }
  for (const [i, file] of files.entries()) {
    const bytes = await fs.readFile(file);
    const way = i % 3 === 2 ? 'spool' : 'http';
    uploads.push({ file, way, host: way === 'spool' ? null : i % 2 === 0 ? 'HOST-A' : 'host-b', dumpId: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length });
  }

  // Each service as the CLI runs it: its own registry with the default metrics; parse and detect
  // serve /metrics on a port of their own, ingest on its API port.
  ingest = await startIngest(configFor('i1'), { log: silentLog });
  parse = await startParse(configFor('p1', { HEALTH_LISTEN: '127.0.0.1:0' }), { log: silentLog, lagEveryMs: 500 });
  detect = await startDetect(configFor('d1', { HEALTH_LISTEN: '127.0.0.1:0' }), { log: silentLog, lagEveryMs: 500 });

  prometheus = await startPrometheus({
    targets: [
      { name: 'ingest', address: `127.0.0.1:${ingest.port}` },
      { name: 'parse', address: `127.0.0.1:${parse.healthPort}` },
      { name: 'detect', address: `127.0.0.1:${detect.healthPort}` },
    ],
    ruleFiles: readdirSync(RULES).filter((f) => f.endsWith('.yml')).map((f) => path.join(RULES, f)),
  });
  // Scraped once before anything happens, so that increase() sees every count from zero.
  await waitFor('Prometheus to scrape the three services', async () => {
    const up = await prometheus.query('up{job="dumpstream"} == 1');
    const seen = await prometheus.query('count by (service) ({__name__=~"dumpstream_transcripts_received_total|dumpstream_segments_parsed_total|dumpstream_dumps_analysed_total"})');
    return up.length === 3 && seen.length === 3 ? true : undefined;
  }, 20_000, 250);

  const kafka = new Kafka({ brokers: configFor('w').kafka.brokers, clientId: 'prom-e2e-watch', logLevel: logLevel.NOTHING });
  watcher = kafka.consumer({ groupId: `${prefix}-watch` });
  await watcher.connect();
  await watcher.subscribe({ topics: [topicsFor(`${prefix}.`).reports.name], fromBeginning: true });
  await watcher.run({
    eachMessage: async ({ message }) => {
      const r = decodeReport(message.value!);
      reports.set(r.dumpId, r);
    },
  });

  for (const host of ['HOST-A', 'host-b']) {
    const results = await submitTranscripts({ files: uploads.filter((u) => u.way === 'http' && u.host === host).map((u) => u.file), url: ingest.url, host });
    expect(results.filter((r) => !r.ok)).toEqual([]);
  }
  for (const u of uploads.filter((x) => x.way === 'spool')) {
    const name = path.basename(u.file);
    await fs.copyFile(u.file, path.join(spool, `${name}.part`));
    await fs.rename(path.join(spool, `${name}.part`), path.join(spool, name));
  }
  await waitFor('a report for every upload', () => (uploads.every((u) => reports.has(u.dumpId)) ? true : undefined), 60_000, 200);
});

afterAll(async () => {
  await watcher?.disconnect();
  await ingest?.stop();
  await parse?.stop();
  await detect?.stop();
  await prometheus?.stop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('Prometheus scraping an end-to-end run', () => {
  it('scrapes /metrics of every service, each labelled with its name', async () => {
    const up = await prometheus.query('up{job="dumpstream"}');
    expect(byLabel(up, 'target')).toEqual({ detect: 1, ingest: 1, parse: 1 });
    const services = await prometheus.query('count by (service, target) (process_resident_memory_bytes)');
    expect(services.map((s) => `${s.metric.target}=${s.metric.service}`).sort()).toEqual(['detect=detect', 'ingest=ingest', 'parse=parse']);
  });

  it('counts the transcripts and bytes received, by way in', async () => {
    const want = tally(uploads.map((u) => u.way));
    expect(Object.keys(want)).toEqual(['http', 'spool']);
    await settled('sum by (way) (dumpstream_transcripts_received_total)', (s) => byLabel(s, 'way'), want);
    const bytes: Record<string, number> = {};
    for (const u of uploads) bytes[u.way] = (bytes[u.way] ?? 0) + u.bytes;
    await settled('sum by (way) (dumpstream_received_bytes_total)', (s) => byLabel(s, 'way'), bytes);
  });

  it('counts the segments produced and parsed: as many as the segments topic holds', async () => {
    const kafka = new Kafka({ brokers: configFor('w').kafka.brokers, clientId: 'prom-e2e-admin', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    let onTopic = 0;
    try {
      for (const p of await admin.fetchTopicOffsets(topicsFor(`${prefix}.`).segments.name)) onTopic += Number(p.high);
    } finally {
      await admin.disconnect();
    }
    expect(onTopic).toBeGreaterThan(uploads.length);
    await settled('sum(dumpstream_segments_produced_total)', total, onTopic);
    await settled('sum by (outcome) (dumpstream_segments_parsed_total)', (s) => byLabel(s, 'outcome'), { 'dead-letter': 0, ok: onTopic });
  });

  it('counts the dumps analysed by outcome, and their latency from upload to report', async () => {
    await settled('sum by (outcome) (dumpstream_dumps_analysed_total)', (s) => byLabel(s, 'outcome'), { aborted: 0, complete: uploads.length, duplicate: 0, failed: 0, incomplete: 0 });
    await settled('sum(dumpstream_upload_to_report_seconds_count)', total, uploads.length);
    const p95 = await prometheus.query('histogram_quantile(0.95, sum by (le) (dumpstream_upload_to_report_seconds_bucket))');
    expect(p95[0].value).toBeGreaterThan(0);
    expect(p95[0].value).toBeLessThan(60);
  });

  it('counts the findings by severity, the chains and their lengths, and WerFault.exe per dump', async () => {
    const all = uploads.map((u) => reports.get(u.dumpId)!);
    const findings = all.flatMap((r) => r.findings);
    expect(findings.length).toBeGreaterThanOrEqual(3);
    const severities = { critical: 0, high: 0, medium: 0, ...tally(findings.map((f) => f.severity)) };
    await settled('sum by (severity) (dumpstream_findings_total{pattern="error-reporting-fault"})', (s) => byLabel(s, 'severity'), severities);
    const chains = findings.flatMap((f) => f.chains);
    await settled('sum(dumpstream_wer_chain_length_count)', total, chains.length);
    await settled('sum(dumpstream_wer_chain_length_sum)', total, chains.reduce((n, c) => n + c.length, 0));
    await settled('sum(dumpstream_wer_chain_length_bucket{le="3"})', total, chains.filter((c) => c.length <= 3).length);
    await settled('sum(dumpstream_werfault_processes_count)', total, uploads.length);
    const werFaults = all.map((r) => r.findings[0]?.werFaultProcesses ?? r.processes.filter((p) => /werfault\.exe$/i.test(p.image ?? '')).length);
    await settled('sum(dumpstream_werfault_processes_sum)', total, werFaults.reduce((a, b) => a + b, 0));
  });

  it('counts the original faults by root image and by host', async () => {
    const images = new CappedLabel(1000);
    const hosts = new CappedLabel(1000);
    const faults = uploads.flatMap((u) => faultRootsOf(reports.get(u.dumpId)!).map((image) => ({ image: images.value(image), host: hosts.value(u.host) })));
    expect(faults.length).toBeGreaterThanOrEqual(3);
    expect(new Set(faults.map((f) => f.image)).size).toBeGreaterThanOrEqual(2);
    await settled('sum by (root_image) (dumpstream_faults_total)', (s) => byLabel(s, 'root_image'), tally(faults.map((f) => f.image)));
    // Host names are lower-cased (Windows ignores their case); spooled transcripts name none.
    const byHost = tally(faults.map((f) => f.host));
    expect(Object.keys(byHost).every((h) => ['host-a', 'host-b', 'unknown'].includes(h))).toBe(true);
    await settled('sum by (host) (dumpstream_faults_total)', (s) => byLabel(s, 'host'), byHost);
  });

  it('shows the consumer lag of every consumed topic going back to zero', async () => {
    await settled('sum by (service, topic) (dumpstream_consumer_lag_messages)', (s) => s.map((x) => `${x.metric.service}/${x.metric.topic}=${x.value}`).sort(), ['detect/facts=0', 'detect/manifests=0', 'parse/segments=0']);
    await settled('sum(dumpstream_dead_letters_total)', total, 0);
    await settled('sum(dumpstream_kafka_errors_total) + sum(dumpstream_redis_errors_total)', total, 0);
  });

  it('fires the WER recursion storm alert from deploy/prometheus/rules on this run', async () => {
    const severities = new Set(uploads.flatMap((u) => reports.get(u.dumpId)!.findings.map((f) => f.severity)).filter((s) => s !== 'medium'));
    expect(severities.size).toBeGreaterThan(0);
    const firing = await waitFor('the WerRecursionStorm alert', async () => {
      const alerts = await prometheus.query('ALERTS{alertname="WerRecursionStorm",alertstate="firing"}');
      return alerts.length === severities.size ? alerts : undefined;
    }, 15_000, 250);
    expect(firing.map((a) => a.metric.severity).sort()).toEqual([...severities].sort());
    // The run went through: the pipeline is not stalled, no dead letters, no lag.
    expect(await prometheus.query('ALERTS{alertname=~"PipelineStalled|DeadLettersGrowing|ConsumerLagGrowing|DumpstreamServiceDown"}')).toEqual([]);
  });

  it('answers every dashboard query, and the panels an operator reads first show the run', async () => {
    const empty: string[] = [];
    const range = `${Math.ceil(process.uptime()) + 60}s`;
    for (const file of readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'))) {
      const board = JSON.parse(readFileSync(path.join(DASHBOARDS, file), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
      for (const panel of board.panels) {
        for (const t of panel.targets ?? []) {
          const expr = t.expr.replace(/\$__range/g, range).replace(/\$__rate_interval/g, '1m').replace(/\$(root_image|host|job)\b/g, '.*');
          const result = await prometheus.query(expr); // rejects on a query Prometheus refuses
          if (result.length === 0) empty.push(`${file}: ${panel.title}`);
        }
      }
    }
    // Empty after a clean run: errors, dead letters, rejections and warnings that did not happen.
    // A small run does not storm: the active storms table is empty.
    const mayBeEmpty = /Redis and Kafka errors|Dead letters by topic|Uploads rejected|Parse warnings|Upload duration|Chain length \(median|WerFault\.exe processes per dump \(median|storms\.json: Active storms$/;
    expect(empty.filter((e) => !mayBeEmpty.test(e))).toEqual([]);
  });
});
