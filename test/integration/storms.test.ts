/**
 * Fleet-wide storms over real Kafka and Redis, on a simulated clock: a generated fleet over three
 * hours in which one fault (A) storms across 30 hosts, another (B) stays steady and low, and a
 * third (C) spikes from a low baseline. Two detect workers report and count the dumps; the one
 * that evaluates storms is stopped mid-storm and the other takes over; then every facts and
 * manifest message is sent again (a replay). The storms topic must carry exactly the expected
 * transitions, the fleet state the fleet's counts, and ingest's look-up API and `dumpstream
 * storms` show them (on the same simulated clock).
 *
 * The dumps go in as facts and manifests (as parse and ingest would put them), so that each
 * dump's report time (the manifest's receivedAt) is the simulated one.
 */
import Redis from 'ioredis';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { PassThrough, Readable } from 'node:stream';
import { analyzeTranscript, run as runCli } from '@dumpstream/cli';
import { detectGroup, startDetect, stormOutboxGroup, type DetectHandle } from '@dumpstream/detect-service';
import { dumpsInWindow, FleetState, reportSignature } from '@dumpstream/fleet';
import { generateTranscript } from '@dumpstream/generator';
import { startIngest, type IngestHandle } from '@dumpstream/ingest';
import { createKafka, ensureTopics, topicsFor, type Topics } from '@dumpstream/kafka';
import { silentLog, type Config } from '@dumpstream/runtime';
import { decodeStormEvent, encodeDumpManifest, encodeFacts, type StormEvent } from '@dumpstream/schemas';
import { Segmenter, type Facts } from '@dumpstream/transcript';
import { testConfig } from '../support/config';
import { freshId, uniquePrefix, waitFor } from '../support/ids';

jest.setTimeout(180_000);

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
let now = T0;

/** One dump of the fleet: which fault, when (minutes after T0), from which host. */
interface PlannedDump {
  fault: 'A' | 'B' | 'C';
  minute: number;
  host: string;
}

function fleetPlan(): PlannedDump[] {
  const plan: PlannedDump[] = [];
  // A: four dumps in the first hour, then 60 in twenty minutes from 30 hosts.
  for (const m of [2, 17, 32, 47]) plan.push({ fault: 'A', minute: m, host: 'a0' });
  for (let i = 0; i < 60; i++) plan.push({ fault: 'A', minute: 61 + i / 3, host: `h${i % 30}` });
  // B: one dump every ten minutes from three hosts, all along.
  for (let m = 3; m < 180; m += 10) plan.push({ fault: 'B', minute: m, host: `b${(m - 3) / 10 % 3}` });
  // C: one every half hour from one host, then twelve in six minutes from four.
  for (const m of [10, 40, 70, 100]) plan.push({ fault: 'C', minute: m, host: 'c0' });
  for (let i = 0; i < 12; i++) plan.push({ fault: 'C', minute: 121 + i / 2, host: `c${1 + (i % 4)}` });
  return plan.sort((a, b) => a.minute - b.minute);
}

const SEEDS = { A: 1, B: 9, C: 12 } as const;

let prefix: string;
let topics: Topics;
let kafka: Kafka;
let producer: Producer;
let watcher: Consumer;
let redis: Redis;
let fleet: FleetState;
const workers: (DetectHandle | null)[] = [];
let ingest: IngestHandle;
const sent: { topic: string; key: string; value: Buffer }[] = [];
const events: { outbox: number; event: StormEvent }[] = [];
const facts: Record<string, Facts[]> = {};
const signature: Record<string, string> = {};
const werFaults: Record<string, number> = {};

function configFor(worker: string): Config {
  // STORM_EVALUATE_EVERY of an hour: the test evaluates at each simulated tick itself.
  return testConfig(prefix, { DUMPSTREAM_PARTITIONS: '2', DETECT_LEASE: '3', STORM_EVALUATE_EVERY: '1h', WORKER_ID: worker });
}

beforeAll(async () => {
  prefix = uniquePrefix('storms');
  const config = configFor('w0');
  topics = topicsFor(config.topicPrefix, { segments: 2, facts: 2 });
  await ensureTopics(createKafka({ brokers: config.kafka.brokers, clientId: 'storms' }, silentLog), topics);
  kafka = new Kafka({ brokers: config.kafka.brokers, clientId: 'storms-test', logLevel: logLevel.NOTHING });
  producer = kafka.producer();
  await producer.connect();
  redis = new Redis(process.env.REDIS_URL!);
  fleet = new FleetState(redis, { prefix });
  watcher = kafka.consumer({ groupId: `${prefix}-watch`, readUncommitted: false });
  await watcher.connect();
  await watcher.subscribe({ topic: topics.storms.name, fromBeginning: true });
  await watcher.run({ eachMessage: async ({ message }) => void events.push({ outbox: Number(String(message.headers?.['x-dumpstream-outbox'])), event: decodeStormEvent(message.value!) }) });
  // Each fault's transcript, parsed once; its dumps differ by upload, dumpId and host only.
  for (const [fault, seed] of Object.entries(SEEDS)) {
    const text = [...generateTranscript({ seed, processes: 8, chains: [{ depth: 3 }] }).chunks].join('');
    const report = await analyzeTranscript(fault, [text]);
    signature[fault] = reportSignature(report)!;
    werFaults[fault] = report.findings[0].werFaultProcesses;
    const out: Facts[] = [];
    const seg = new Segmenter((_s, f) => out.push(f), { maxLines: 200 });
    seg.push(Buffer.from(text));
    seg.end();
    facts[fault] = out;
  }
  for (const w of ['w1', 'w2']) workers.push(await startDetect(configFor(w), { log: silentLog, registry: new Registry(), clock: () => now }));
  // Only for its look-up API: the dumps go in as facts and manifests.
  ingest = await startIngest(configFor('i1'), { log: silentLog, now: () => now });
});

afterAll(async () => {
  for (const w of workers) await w?.stop();
  await ingest?.stop();
  await watcher?.disconnect();
  await producer?.disconnect();
  redis?.disconnect();
});

async function send(d: PlannedDump): Promise<void> {
  const uploadId = freshId();
  const f = facts[d.fault];
  const messages = f.map((x, seq) => ({ topic: topics.facts.name, key: `${uploadId}:${seq}`, value: encodeFacts({ ...x, uploadId }) }));
  const manifest = encodeDumpManifest({ uploadId, dumpId: freshId(32), source: `${d.fault}.txt`, host: d.host, segments: f.length, lines: 1, bytes: 1, receivedAt: T0 + Math.round(d.minute * MIN), status: 'complete', reason: null });
  messages.push({ topic: topics.manifests.name, key: uploadId, value: manifest });
  sent.push(...messages);
  for (const m of messages) await producer.send({ topic: m.topic, messages: [{ key: m.key, value: m.value }] });
}

interface ApiStorm {
  signature: string;
  state: string;
  dumps: number;
  hosts: number;
  reason: string | null;
}
const apiStorms = async (query = ''): Promise<ApiStorm[]> => ((await (await fetch(`${ingest.url}/v1/storms${query}`)).json()) as { storms: ApiStorm[] }).storms;
const faultOf = (sig: string) => Object.keys(signature).find((k) => signature[k] === sig);

async function stormsCli(): Promise<string> {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d) => (out += d));
  const code = await runCli(['storms', '--all', '--url', ingest.url], { stdout, stderr: new PassThrough(), stdin: Readable.from([]), env: {} });
  expect(code).toBe(0);
  return out;
}

const counted = async (fault: string) => (await fleet.counts(signature[fault], now, 30 * MIN)).dumps;

async function caughtUp(): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const topic of [topics.facts.name, topics.manifests.name]) {
      const [c] = await admin.fetchOffsets({ groupId: detectGroup(configFor('w0')), topics: [topic] });
      for (const { partition, high } of await admin.fetchTopicOffsets(topic)) {
        const o = c.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
        if (BigInt(o) < BigInt(high)) return false;
      }
    }
    return true;
  } finally {
    await admin.disconnect();
  }
}

it('publishes exactly the storms of the fleet, once each, through a takeover and a replay', async () => {
  const plan = fleetPlan();
  const want: Record<string, number> = { A: 0, B: 0, C: 0 };
  const evaluators: string[] = [];
  let next = 0;
  for (let t = 5; t <= 180; t += 5) {
    now = T0 + t * MIN;
    for (; next < plan.length && plan[next].minute <= t; next++) {
      await send(plan[next]);
      want[plan[next].fault]++;
    }
    for (const fault of ['A', 'B', 'C']) await waitFor(`fault ${fault}'s dumps counted at minute ${t}`, async () => ((await counted(fault)) === want[fault] ? true : undefined), 60_000, 50);
    // Both evaluate; the lease lets one through.
    let ran = 0;
    for (const [i, w] of workers.entries()) {
      if (w === null) continue;
      const result = await w.evaluateStorms();
      if (result !== null) {
        ran++;
        evaluators.push(`${t}:w${i + 1}`);
      }
    }
    expect({ t, ran }).toEqual({ t, ran: 1 });
    if (t === 70) {
      // A storms (by hosts, since 65): the look-up says so; B and C are not storming.
      expect((await apiStorms()).map((x) => [faultOf(x.signature), x.state, x.reason])).toEqual([['A', 'storming', 'hosts']]);
      const table = await stormsCli();
      expect(table.split('\n')[1]).toMatch(new RegExp(`^${signature.A.replace(/[!.:<>]/g, '\\$&')}\\s+storming\\s`));
      // eslint-disable-next-line no-console
      if (process.env.STORMS_PRINT) console.log(`dumpstream storms --all at minute 70:\n${table}`);
    }
    if (t === 100) {
      // Mid-storm: the evaluating worker goes away; the other takes its partitions and the lease.
      const i = Number(evaluators[evaluators.length - 1].split(':w')[1]) - 1;
      await workers[i]!.stop();
      workers[i] = null;
    }
  }
  expect(new Set(evaluators.map((e) => e.split(':')[1])).size).toBe(2);

  // The replay: every facts and manifest message again, as after an offset reset.
  for (const m of sent) await producer.send({ topic: m.topic, messages: [{ key: m.key, value: m.value }] });
  await waitFor('the replay consumed', async () => ((await caughtUp()) ? true : undefined), 60_000, 200);
  const live = workers.find((w) => w !== null)!;
  expect((await live.evaluateStorms())?.transitions).toEqual([]);

  // Everything published is committed: read the topic up to the last outbox number committed.
  const admin = kafka.admin();
  await admin.connect();
  const [o] = await admin.fetchOffsets({ groupId: stormOutboxGroup(configFor('w0')), topics: [topics.storms.name] });
  await admin.disconnect();
  const last = Number(o.partitions.find((p) => p.partition === 0)!.offset);
  await waitFor('the storm events', () => (events.some((e) => e.outbox === last) ? true : undefined), 30_000);

  const seen = events.map(({ event: e }) => `${Object.keys(signature).find((k) => signature[k] === e.signature)} ${e.state} ${e.seq} @${(e.at - T0) / MIN}`);
  const expected: string[] = [];
  const storm = (fault: string, start: number, end: number) => {
    let seq = 0;
    const out = [`${fault} started ${++seq} @${start}`];
    for (let m = start + 5; m < end; m += 5) out.push(`${fault} update ${++seq} @${m}`);
    out.push(`${fault} ended ${++seq} @${end}`);
    return out;
  };
  // A storms from minute 65 (15 hosts in the window) and stays hot while the window overlaps the
  // hour of its 30 hosts (to 145); it ends 30 quiet minutes later. C spikes at 130 (its twelve
  // dumps in the last three buckets, 115-130) and is hot at 130 only (125-140 holds four).
  expected.push(...storm('A', 65, 175), ...storm('C', 130, 160));
  const byTime = (s: string) => Number(s.split('@')[1]);
  expect(seen.sort((a, b) => byTime(a) - byTime(b) || (a < b ? -1 : 1))).toEqual(expected.sort((a, b) => byTime(a) - byTime(b) || (a < b ? -1 : 1)));
  // Exactly once: no (signature, seq) twice, outbox numbers strictly increasing.
  expect(events.map((e) => e.outbox)).toEqual([...events.map((e) => e.outbox)].sort((a, b) => a - b));
  expect(new Set(events.map((e) => e.outbox)).size).toBe(events.length);

  const started = events.filter((e) => e.event.state === 'started').map((e) => e.event);
  expect(started.map((e) => [e.signature, e.reason, e.dumpsInWindow, e.hostsInWindow])).toEqual([
    [signature.A, 'hosts', 14, 14],
    [signature.C, 'spike', 12, 5],
  ]);
  // The counts equal the fleet's, after the takeover and the replay.
  for (const [fault, hosts] of [['A', 31], ['B', 3], ['C', 5]] as const) {
    const c = await fleet.counts(signature[fault], now, 30 * MIN);
    const dumps = plan.filter((d) => d.fault === fault);
    expect({ fault, dumps: c.dumps, hosts: c.hosts, werFaults: c.werFaults, deepest: c.deepestChain, firstSeen: c.firstSeen, lastSeen: c.lastSeen }).toEqual({
      fault,
      dumps: dumps.length,
      hosts,
      werFaults: dumps.length * werFaults[fault],
      deepest: 3,
      firstSeen: T0 + Math.round(dumps[0].minute * MIN),
      lastSeen: T0 + Math.round(dumps[dumps.length - 1].minute * MIN),
    });
  }
  // The look-up and the CLI at minute 180: only B has dumps in the window, and never stormed; A
  // and C ended (each storm's own page says so).
  const all = await apiStorms('?all=1');
  // (The window is whole 5-minute buckets, the current one last: 155-180 holds two of B's dumps.)
  const bInWindow = dumpsInWindow(await fleet.counts(signature.B, now, 30 * MIN), now, 30 * MIN);
  expect(bInWindow).toBe(2);
  expect(all.map((x) => [faultOf(x.signature), x.state, x.dumps])).toEqual([['B', 'quiet', bInWindow]]);
  for (const fault of ['A', 'C']) {
    const one = (await (await fetch(`${ingest.url}/v1/storms/${encodeURIComponent(signature[fault])}`)).json()) as { storm: ApiStorm };
    expect([fault, one.storm.state]).toEqual([fault, 'ended']);
  }
  const table = await stormsCli();
  expect(table).toContain(signature.B);
  expect(table.split('\n')[0]).toMatch(/^SIGNATURE\s+STATE\s+DUMPS\s+HOSTS\s+SINCE\s+TREND/);
  // eslint-disable-next-line no-console
  if (process.env.STORMS_PRINT) console.log(`dumpstream storms --all at minute 180:\n${table}`);
  // eslint-disable-next-line no-console
  if (process.env.STORMS_PRINT) console.log(JSON.stringify(events.slice(0, 3).concat(events.slice(-2)), null, 1));
});
