// The distributed pipeline's throughput and latency through a real Kafka and Redis, with one and
// with two worker processes per stage (parse, detect), beside the embedded `analyze` on the same
// transcripts. Part of `npm run bench`; alone: `node bench/distributed.mjs`.
//
//   BENCH_FLEET=40 (transcripts)   KAFKA_BROKERS / REDIS_URL (else a local broker is started and
//   the Redis on 127.0.0.1:6379 is used)
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { Kafka, logLevel } = require('kafkajs');
const { generateFleet, writeTranscript } = require(path.join(root, 'packages/generator/dist/index.js'));
const { analyzeTranscript } = require(path.join(root, 'packages/cli/dist/index.js'));
const { submitTranscripts } = require(path.join(root, 'services/ingest/dist/index.js'));
const { decodeReport } = require(path.join(root, 'packages/schemas/dist/index.js'));
const { topicsFor, createKafka, ensureTopics } = require(path.join(root, 'packages/kafka/dist/index.js'));

const FLEET = Number(process.env.BENCH_FLEET ?? 40);
const CONCURRENT_UPLOADS = 4;
const cache = path.join(process.env.DUMPSTREAM_CACHE ?? path.join(os.homedir(), '.cache', 'dumpstream'), 'bench', `fleet-${FLEET}`);
const cli = path.join(root, 'packages/cli/dist/main.js');

async function fleet() {
  mkdirSync(cache, { recursive: true });
  const files = [];
  for (const d of generateFleet({ seed: 2026, dumps: FLEET, processes: [100, 1500], findingRate: 0.4 })) {
    const file = path.join(cache, d.name);
    if (!existsSync(file)) await writeTranscript(d.spec, file, { answer: false });
    files.push(file);
  }
  return files;
}

function brokers() {
  if (process.env.KAFKA_BROKERS) return { brokers: process.env.KAFKA_BROKERS, stop: () => {} };
  const out = execFileSync('bash', [path.join(root, 'deploy/kafka/start.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const env = Object.fromEntries(out.trim().split('\n').map((l) => l.split('=')));
  return { brokers: env.KAFKA_BROKERS, stop: () => execFileSync('bash', [path.join(root, 'deploy/kafka/stop.sh'), env.KAFKA_STATE_DIR], { stdio: 'ignore' }) };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function distributedRun(files, ids, workers, kafkaBrokers) {
  const prefix = `bench${Date.now()}`;
  const env = { ...process.env, KAFKA_BROKERS: kafkaBrokers, REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', DUMPSTREAM_TOPIC_PREFIX: `${prefix}.`, DUMPSTREAM_PARTITIONS: '4', REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'error', INGEST_LISTEN: '127.0.0.1:18787' };
  const topics = topicsFor(`${prefix}.`, { segments: 4, facts: 4 });
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  await ensureTopics(createKafka({ brokers: [kafkaBrokers], clientId: 'bench' }, silent), topics);
  const children = [];
  const start = (cmd, id) => {
    // parse and detect would serve health on 0.0.0.0:9464 by default: one free port each instead.
    const health = cmd === 'ingest' ? {} : { HEALTH_LISTEN: '127.0.0.1:0' };
    const c = spawn(process.execPath, [cli, cmd], { env: { ...env, ...health, WORKER_ID: `${cmd}-${id}` }, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(c);
  };
  start('ingest', 0);
  for (let i = 0; i < workers; i++) {
    start('parse', i);
    start('detect', i);
  }
  const kafka = new Kafka({ brokers: [kafkaBrokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `${prefix}-bench` });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.reports.name, fromBeginning: true });
  const submitted = new Map();
  const latencies = [];
  let done;
  const all = new Promise((r) => (done = r));
  await consumer.run({
    eachMessage: async ({ message }) => {
      const r = decodeReport(message.value);
      const t = submitted.get(r.dumpId);
      if (t !== undefined) latencies.push(performance.now() - t);
      if (latencies.length === files.length) done();
    },
  });
  // Wait until ingest answers.
  for (let i = 0; ; i++) {
    try {
      const res = await fetch('http://127.0.0.1:18787/readyz');
      if (res.ok) break;
    } catch {}
    if (i > 200) throw new Error('ingest did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 2000)); // consumer groups settle
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENT_UPLOADS }, async () => {
      while (next < files.length) {
        const i = next++;
        submitted.set(ids[i], performance.now());
        const [r] = await submitTranscripts({ files: [files[i]], url: 'http://127.0.0.1:18787' });
        if (!r.ok) throw new Error(`${files[i]}: ${r.error}`);
      }
    }),
  );
  await all;
  const ms = performance.now() - t0;
  await consumer.disconnect();
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.on('exit', r)))));
  latencies.sort((a, b) => a - b);
  return { ms, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

export async function benchDistributed() {
  const files = await fleet();
  const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  const ids = files.map((f) => createHash('sha256').update(readFileSync(f)).digest('hex'));
  const t0 = performance.now();
  for (const f of files) await analyzeTranscript(path.basename(f), (async function* () { yield readFileSync(f); })());
  const embeddedMs = performance.now() - t0;
  const kafka = brokers();
  try {
    const rows = [['embedded analyze (one process)', embeddedMs, null, null]];
    for (const w of [1, 2]) {
      const r = await distributedRun(files, ids, w, kafka.brokers);
      rows.push([`Kafka + Redis, ${w} parse + ${w} detect`, r.ms, r.p50, r.p99]);
    }
    console.log(`distributed pipeline — ${files.length} transcripts, ${(bytes / 1e6).toFixed(1)} MB, ${CONCURRENT_UPLOADS} uploads at a time, ${os.cpus().length} cores`);
    for (const [name, ms, p50, p99] of rows) {
      const lat = p50 === null ? '' : `   upload→report p50 ${(p50 / 1000).toFixed(2)} s, p99 ${(p99 / 1000).toFixed(2)} s`;
      console.log(`  ${name.padEnd(34)} ${(files.length / (ms / 1000)).toFixed(1).padStart(6)} transcripts/s ${(bytes / 1e6 / (ms / 1000)).toFixed(1).padStart(6)} MB/s${lat}`);
    }
  } finally {
    kafka.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchDistributed();
