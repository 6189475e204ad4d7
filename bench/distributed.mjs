// The distributed pipeline against the embedded `analyze` on the same machine, in the same run:
// fleet throughput (MB/s and their ratio), upload→report latency with 4 uploads in flight, one
// 10,000-process transcript alone, and the recovery after a parse or a detect worker is SIGKILLed
// while a steady stream of uploads goes through. Part of `npm run bench`; alone:
// `BENCH_ONLY=distributed npm run bench` or `node bench/distributed.mjs`.
//
// The pipeline is as an operator runs it: 1 ingest + 2 parse + 2 detect as separate processes
// (`dumpstream ingest|parse|detect`), one local Kafka broker (deploy/kafka), the machine's Redis,
// uploads over loopback HTTP, reports read from the `reports` topic.
//
//   BENCH_FLEETS=small,large   which fleets, `none` for the recovery runs only (small: 51 transcripts, ~24 MB; large: BENCH_FLEET=40
//                              transcripts, ~157 MB)
//   BENCH_ROUNDS=2             embedded and distributed runs alternate this many times per fleet;
//                              the ratio is the median of the rounds' ratios
//   BENCH_RECOVERY=1           0 skips the SIGKILL runs; BENCH_SINGLE=0 skips the 10,000-process one
//   BENCH_WARMUP=1             0: no warm-up round of 8 other transcripts on both sides before each measured round
//   BENCH_PROFILE=DIR          the services run with `node --cpu-prof` into DIR/<fleet>-<service>-<n>
//   KAFKA_BROKERS / REDIS_URL  else a local broker is started and the Redis on 127.0.0.1:6379 used
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
const { topicsFor, createKafka, ensureTopics, installRequestQueueFix, installFastCrc32c } = require(path.join(root, 'packages/kafka/dist/index.js'));
// The bench's own client (it reads the reports) with the services' fixes: it shares the machine.
installRequestQueueFix();
installFastCrc32c();

const CONCURRENT_UPLOADS = 4;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const IDLE_MS = 5000;
const PROFILE = process.env.BENCH_PROFILE ?? null;
const cacheRoot = path.join(process.env.DUMPSTREAM_CACHE ?? path.join(os.homedir(), '.cache', 'dumpstream'), 'bench');
const cli = path.join(root, 'packages/cli/dist/main.js');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const INGEST = '127.0.0.1:18787';

const FLEETS = {
  small: { dumps: 51, processes: [25, 160], dir: 'fleet-small-51' },
  large: { dumps: Number(process.env.BENCH_FLEET ?? 40), processes: [100, 1500], dir: `fleet-${process.env.BENCH_FLEET ?? 40}` },
};

async function fleet(name) {
  const f = FLEETS[name];
  const dir = path.join(cacheRoot, f.dir);
  mkdirSync(dir, { recursive: true });
  const files = [];
  for (const d of generateFleet({ seed: 2026, dumps: f.dumps, processes: f.processes, findingRate: 0.4 })) {
    const file = path.join(dir, d.name);
    if (!existsSync(file)) await writeTranscript(d.spec, file, { answer: false });
    files.push(file);
  }
  return files;
}

/**
 * Transcripts that warm both sides up before each measured round (not in any fleet: identical
 * bytes would be reported once only). A pipeline runs for days and the embedded runs share this
 * process, so both are measured warm: without it every round measured the services' and the
 * broker's first minutes (their JIT compilers at work) against an embedded `analyze` that was warm
 * from the second round on. BENCH_WARMUP=0 measures them as they start.
 */
const WARMUP = process.env.BENCH_WARMUP !== '0';
async function warmupFleet() {
  const dir = path.join(cacheRoot, 'fleet-warmup-8');
  mkdirSync(dir, { recursive: true });
  const files = [];
  for (const d of generateFleet({ seed: 1999, dumps: 8, processes: [100, 800], findingRate: 0.5 })) {
    const file = path.join(dir, d.name);
    if (!existsSync(file)) await writeTranscript(d.spec, file, { answer: false });
    files.push(file);
  }
  return files;
}

/** Three different 10,000-process transcripts (identical bytes would be reported once only). */
async function bigOnes() {
  const dir = path.join(cacheRoot, 'single-10k');
  mkdirSync(dir, { recursive: true });
  const files = [];
  for (let i = 0; i < 3; i++) {
    const file = path.join(dir, `p10k-${i}.txt`);
    if (!existsSync(file)) {
      const [d] = generateFleet({ seed: 7100 + i, dumps: 1, processes: [10_000, 10_000], findingRate: 1, overrides: { threadsPerProcess: [1, 1], framesPerStack: [1, 2] } });
      await writeTranscript(d.spec, file, { answer: false });
    }
    files.push(file);
  }
  return files;
}

function brokers() {
  if (process.env.KAFKA_BROKERS) {
    // A broker of deploy/kafka (KAFKA_STATE_DIR given): its CPU is counted too.
    const pidFile = process.env.KAFKA_STATE_DIR ? path.join(process.env.KAFKA_STATE_DIR, 'broker.pid') : null;
    return { brokers: process.env.KAFKA_BROKERS, pid: pidFile && existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : null, stop: () => {} };
  }
  // deploy/kafka's JVM settings (C1 only). With the optimising compiler on (KAFKA_JVM_PERF_OPTS=
  // '-XX:+UseG1GC -XX:MaxGCPauseMillis=20') the broker used more CPU in runs this short, not less:
  // small fleet 3.6–7.9 CPU s against 2.3–2.9 s, its compiler threads competing on 2 cores.
  const out = execFileSync('bash', [path.join(root, 'deploy/kafka/start.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const env = Object.fromEntries(out.trim().split('\n').map((l) => l.split('=')));
  const pid = Number(readFileSync(path.join(env.KAFKA_STATE_DIR, 'broker.pid'), 'utf8'));
  return { brokers: env.KAFKA_BROKERS, pid, stop: () => execFileSync('bash', [path.join(root, 'deploy/kafka/stop.sh'), env.KAFKA_STATE_DIR], { stdio: 'ignore' }) };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = (xs) => {
  const o = [...xs].sort((a, b) => a - b);
  const m = o.length >> 1;
  return o.length % 2 === 1 ? o[m] : (o[m - 1] + o[m]) / 2;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}
function redisCpu() {
  try {
    const info = execFileSync('redis-cli', ['-u', REDIS_URL, 'info', 'cpu'], { encoding: 'utf8' });
    const v = (k) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return v('used_cpu_user') + v('used_cpu_sys');
  } catch {
    return 0;
  }
}

/** Embedded `analyze` of every file, in this process, one after the other. */
async function embedded(files) {
  const t0 = performance.now();
  for (const f of files) await analyzeTranscript(path.basename(f), (async function* () { yield readFileSync(f); })());
  return performance.now() - t0;
}

/**
 * A pipeline of its own (topics and Redis keys under a new prefix): ingest, parse×2, detect×2 as
 * child processes, and a consumer of `reports` that notes when each dumpId's report arrives.
 */
async function pipeline(kafkaBrokers, label, broker) {
  const prefix = `bench${Date.now()}`;
  const env = { ...process.env, KAFKA_BROKERS: kafkaBrokers, REDIS_URL, DUMPSTREAM_TOPIC_PREFIX: `${prefix}.`, DUMPSTREAM_PARTITIONS: '4', REDIS_KEY_PREFIX: prefix, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error', INGEST_LISTEN: INGEST };
  const topics = topicsFor(`${prefix}.`, { segments: 4, facts: 4 });
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  await ensureTopics(createKafka({ brokers: [kafkaBrokers], clientId: 'bench' }, silent), topics);
  const procs = new Map();
  const start = (cmd, id) => {
    // parse and detect would serve health on 0.0.0.0:9464 by default: one free port each instead.
    const health = cmd === 'ingest' ? {} : { HEALTH_LISTEN: '127.0.0.1:0' };
    const prof = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.join(PROFILE, `${label}-${cmd}-${id}`)}`] : [];
    const c = spawn(process.execPath, [...prof, cli, cmd], { env: { ...env, ...health, WORKER_ID: `${cmd}-${id}` }, stdio: ['ignore', 'ignore', 'inherit'] });
    procs.set(`${cmd}-${id}`, c);
    return c;
  };
  start('ingest', 0);
  for (let i = 0; i < 2; i++) {
    start('parse', i);
    start('detect', i);
  }
  const kafka = new Kafka({ brokers: [kafkaBrokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `${prefix}-bench` });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.reports.name, fromBeginning: true });
  const reportedAt = new Map();
  const waiters = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      // Reports are keyed by dumpId: no need to decode them.
      const id = message.key.toString();
      if (!reportedAt.has(id)) reportedAt.set(id, performance.now());
      for (const w of [...waiters]) w();
    },
  });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://${INGEST}/readyz`)).ok) break;
    } catch {}
    if (i > 300) throw new Error('ingest did not start');
    await sleep(100);
  }
  await sleep(3000); // consumer groups settle
  const cpu0 = new Map();
  const cpuMark = () => {
    for (const [k, c] of procs) cpu0.set(k, cpuSeconds(c.pid));
    cpu0.set('broker', broker ? cpuSeconds(broker) : 0);
    cpu0.set('redis', redisCpu());
    cpu0.set('bench', process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6);
  };
  const cpuSince = () => {
    const out = {};
    for (const [k, c] of procs) out[k] = cpuSeconds(c.pid) - (cpu0.get(k) ?? 0);
    out.broker = broker ? cpuSeconds(broker) - cpu0.get('broker') : 0;
    out.redis = redisCpu() - cpu0.get('redis');
    out.bench = process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 - cpu0.get('bench');
    return out;
  };
  const upload = async (file) => {
    const [r] = await submitTranscripts({ files: [file], url: `http://${INGEST}` });
    if (!r.ok) throw new Error(`${file}: ${r.error}`);
  };
  const reported = (ids) =>
    new Promise((resolve) => {
      const check = () => {
        if (ids.every((id) => reportedAt.has(id))) {
          waiters.splice(waiters.indexOf(check), 1);
          resolve();
        }
      };
      waiters.push(check);
      check();
    });
  const stop = async () => {
    await consumer.disconnect();
    for (const c of procs.values()) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all([...procs.values()].map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.on('exit', r)))));
  };
  return { procs, start, upload, reported, reportedAt, cpuMark, cpuSince, stop };
}

/** Uploads `files` 4 at a time; throughput and upload→report latencies. */
async function throughput(p, files, ids) {
  const sentAt = new Map();
  p.cpuMark();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENT_UPLOADS }, async () => {
      while (next < files.length) {
        const i = next++;
        sentAt.set(ids[i], performance.now());
        await p.upload(files[i]);
      }
    }),
  );
  const uploadsMs = performance.now() - t0;
  await p.reported(ids);
  const ms = performance.now() - t0;
  const lat = ids.map((id) => p.reportedAt.get(id) - sentAt.get(id)).sort((a, b) => a - b);
  return { ms, uploadsMs, p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1], cpu: p.cpuSince() };
}

/** One transcript at a time on the idle pipeline: upload start → its report. */
async function alone(p, files) {
  const out = [];
  for (const f of files) {
    const id = sha256(f);
    const t0 = performance.now();
    await p.upload(f);
    await p.reported([id]);
    out.push(p.reportedAt.get(id) - t0);
    await sleep(500);
  }
  return out;
}

/**
 * A steady stream of 2 uploads a second; `victim` is SIGKILLed 8 s in and started again 1 s later
 * (as a supervisor would). The issue's measure is on the uploads the dead worker held up, not on
 * a survivor's first report: those in flight at the kill (sent before it, not reported by then),
 * whose last report must come within 10 s of the kill, and those sent after it, none of which may
 * wait more than 10 s either (the group's rebalance holds them too). Held up (for context): the
 * uploads reported after the kill whose upload→report time was more than twice (and at least 1 s
 * more than) the median of those reported before it; on a noisy machine an upload sent long after
 * the kill can count here, which is why it is not the measure.
 */
async function recovery(p, files, ids, victim) {
  const sentAt = new Map();
  const start = performance.now();
  const stream = (async () => {
    for (let i = 0; i < files.length; i++) {
      sentAt.set(ids[i], performance.now());
      void p.upload(files[i]).catch((e) => console.error(`  upload failed: ${e.message}`));
      await sleep(Math.max(0, (i + 1) * 500 - (performance.now() - start)));
    }
  })();
  await sleep(8000);
  const killAt = performance.now();
  const [cmd, id] = victim.split('-');
  p.procs.get(victim).kill('SIGKILL');
  setTimeout(() => p.start(cmd, id), 1000);
  await stream;
  await p.reported(ids);
  const latency = (x) => p.reportedAt.get(x) - sentAt.get(x);
  const before = ids.filter((x) => p.reportedAt.get(x) < killAt).map(latency);
  const normal = before.length > 0 ? median(before) : 0;
  const heldUp = ids.filter((x) => p.reportedAt.get(x) >= killAt && latency(x) > Math.max(2 * normal, normal + 1000));
  const inFlight = ids.filter((x) => sentAt.get(x) < killAt && p.reportedAt.get(x) >= killAt);
  const after = ids.filter((x) => sentAt.get(x) >= killAt);
  return {
    normal,
    heldUp: heldUp.length,
    inFlight: inFlight.length,
    lastInFlight: Math.max(0, ...inFlight.map((x) => p.reportedAt.get(x) - killAt)),
    after: after.length,
    worstAfter: Math.max(0, ...after.map(latency)),
    worst: Math.max(...ids.map(latency)),
  };
}

const s = (ms) => `${(ms / 1000).toFixed(2)} s`;

export async function benchDistributed() {
  const which = (process.env.BENCH_FLEETS ?? 'small,large').split(',').filter((f) => f !== '' && f !== 'none');
  const kafka = brokers();
  const lines = [];
  const say = (l) => {
    console.log(l);
    lines.push(l);
  };
  try {
    say(`distributed pipeline — 1 ingest + 2 parse + 2 detect processes, ${CONCURRENT_UPLOADS} uploads in flight, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}, node ${process.version}; ${WARMUP ? 'both sides warmed up with 8 other transcripts before each round' : 'no warm-up (BENCH_WARMUP=0)'}`);
    for (const name of which) {
      const files = await fleet(name);
      const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
      const ids = files.map(sha256);
      const mb = bytes / 1e6;
      say(`fleet ${name}: ${files.length} transcripts, ${mb.toFixed(1)} MB`);
      const ratios = [];
      const rows = [];
      for (let r = 0; r < ROUNDS; r++) {
        const warm = WARMUP ? await warmupFleet() : [];
        await embedded(warm);
        const e = await embedded(files);
        const p = await pipeline(kafka.brokers, `${name}${r}`, kafka.pid);
        let d;
        try {
          if (warm.length > 0) await throughput(p, warm, warm.map(sha256));
          if (r === 0) {
            // What the pipeline costs doing nothing (heartbeats, fetch polls, timers): paid on any fleet.
            p.cpuMark();
            await sleep(IDLE_MS);
            const idle = Object.entries(p.cpuSince()).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
            say(`  idle for ${IDLE_MS / 1000} s before round 1, CPU s: ${idle}`);
          }
          d = await throughput(p, files, ids);
          if (name === which[0] && r === 0 && process.env.BENCH_SINGLE !== '0') {
            const big = await bigOnes();
            const times = await alone(p, big);
            say(`  one 10,000-process transcript alone (${(statSync(big[0]).size / 1e6).toFixed(1)} MB), upload start → report: ${times.map(s).join(', ')} (median ${s(median(times))})`);
          }
        } finally {
          await p.stop();
        }
        const ratio = e / d.ms;
        ratios.push(ratio);
        const cpu = Object.entries(d.cpu).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
        rows.push(`  round ${r + 1}: embedded ${(mb / (e / 1000)).toFixed(1)} MB/s, distributed ${(mb / (d.ms / 1000)).toFixed(1)} MB/s = ${ratio.toFixed(2)} of embedded; upload→report p50 ${s(d.p50)}, p99 ${s(d.p99)}, max ${s(d.max)}\n           last upload answered after ${s(d.uploadsMs)}, last report after ${s(d.ms)}; CPU s: ${cpu}`);
        say(rows[rows.length - 1]);
      }
      say(`  ${name}: distributed / embedded = ${median(ratios).toFixed(2)} (median of ${ROUNDS}; goal ≥ 0.70)`);
    }
    if (process.env.BENCH_RECOVERY !== '0') {
      const files = await fleet('small');
      const ids = files.map(sha256);
      for (const victim of ['parse-1', 'detect-1']) {
        const p = await pipeline(kafka.brokers, `kill-${victim}`, kafka.pid);
        try {
          const r = await recovery(p, files, ids, victim);
          say(`  SIGKILL ${victim} (2 uploads/s, restarted after 1 s): ${r.inFlight} uploads in flight at the kill, the last reported ${s(r.lastInFlight)} after it; ${r.after} sent after it, the longest upload→report ${s(r.worstAfter)} (goal ≤ 10 s both); median upload→report before the kill ${s(r.normal)}, ${r.heldUp} uploads reported after it at over twice that (and 1 s more)`);
        } finally {
          await p.stop();
        }
      }
    }
  } finally {
    kafka.stop();
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) await benchDistributed();
