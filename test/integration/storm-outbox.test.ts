/**
 * The storm outbox's exactly-once publication on real Kafka and Redis: an evaluator that dies
 * after its Kafka transaction committed and before it trimmed the outbox is not repeated by the
 * next one (the transaction's committed outbox offset says what went out), and one whose events
 * never went out has them published by the next.
 */
import Redis from 'ioredis';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { Registry } from 'prom-client';
import { startStorms, type Storms } from '@dumpstream/detect-service';
import { FleetState } from '@dumpstream/fleet';
import { createKafka, ensureTopics, topicsFor, type Topics } from '@dumpstream/kafka';
import { stormMetrics } from '@dumpstream/metrics';
import { silentLog, type Config } from '@dumpstream/runtime';
import { decodeStormEvent, type StormEvent } from '@dumpstream/schemas';
import { testConfig } from '../support/config';
import { freshId, uniquePrefix, waitFor } from '../support/ids';

jest.setTimeout(120_000);

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 6, 0, 0);
const SIG = 'v1:app.exe!app!CParser::Parse';
let now = T0;
let prefix: string;
let topics: Topics;
let kafka: Kafka;
let redis: Redis;
let fleet: FleetState;
let watcher: Consumer;
const events: StormEvent[] = [];
const running: Storms[] = [];

const configFor = (worker: string): Config => testConfig(prefix, { DETECT_LEASE: '3', STORM_EVALUATE_EVERY: '1h', WORKER_ID: worker });

async function evaluator(worker: string): Promise<Storms> {
  const config = configFor(worker);
  const admin = kafka.admin();
  await admin.connect();
  const s = startStorms({ config, kafka, admin, redis, topics, log: silentLog, metrics: stormMetrics(new Registry()), clock: () => now });
  const stop = s.stop;
  s.stop = async () => {
    await stop();
    await admin.disconnect();
  };
  running.push(s);
  return s;
}

beforeAll(async () => {
  prefix = uniquePrefix('outbox');
  topics = topicsFor(configFor('w0').topicPrefix);
  kafka = createKafka({ brokers: configFor('w0').kafka.brokers, clientId: 'outbox' }, silentLog);
  await ensureTopics(kafka, topics);
  redis = new Redis(process.env.REDIS_URL!);
  fleet = new FleetState(redis, { prefix });
  watcher = new Kafka({ brokers: configFor('w0').kafka.brokers, clientId: 'outbox-watch', logLevel: logLevel.NOTHING }).consumer({ groupId: `${prefix}-watch`, readUncommitted: false });
  await watcher.connect();
  await watcher.subscribe({ topic: topics.storms.name, fromBeginning: true });
  await watcher.run({ eachMessage: async ({ message }) => void events.push(decodeStormEvent(message.value!)) });
});

afterAll(async () => {
  for (const s of running) await s.stop().catch(() => undefined);
  await watcher?.disconnect();
  redis?.disconnect();
});

it('publishes each event once across evaluators that die before and after their commit', async () => {
  for (let i = 0; i < 60; i++) await fleet.record({ signature: SIG, dumpId: freshId(32), host: `h${i % 12}`, at: T0 - 20 * MIN + i * 10_000, deepestChain: 4, werFaults: 5 });
  const a = await evaluator('a');
  expect((await a.evaluate())?.transitions.map((t) => t.event?.state)).toEqual(['started']);
  await waitFor('the started event', () => (events.length === 1 ? true : undefined));

  // a dies after its transaction committed and before it trimmed the outbox: the event is back in it.
  const published = await redis.zrange(fleet.keys.outbox(), 0, -1);
  expect(published).toEqual([]);
  await redis.zadd(fleet.keys.outbox(), 1, JSON.stringify({ n: 1, ...events[0] }));
  await a.stop();

  // b takes over: the committed outbox offset covers event 1, so it is not published again.
  const b = await evaluator('b');
  expect((await b.evaluate())?.transitions).toEqual([]);
  expect(await redis.zcard(fleet.keys.outbox())).toBe(0);

  // b writes an update to the outbox and dies before publishing it (its lease lapses).
  now = T0 + 5 * MIN;
  expect(await fleet.takeLease('b-crashed', 3000)).toBe(false); // b holds it
  await b.stop(); // gives the lease back, as a crash would after DETECT_LEASE
  expect(await fleet.takeLease('b-crashed', 3000)).toBe(true);
  const st = (await fleet.statuses()).get(SIG)!;
  const update = { ...st, lastEventAt: now, seq: st.seq + 1 };
  const ev = { signature: SIG, state: 'update' as const, seq: update.seq, at: now, since: st.since, lastSeen: null, dumpsInWindow: 60, hostsInWindow: 12, windowMs: 30 * MIN, reason: st.reason, examples: [], deepestChain: 4, werFaults: 300 };
  expect(await fleet.commitTransitions('b-crashed', [{ signature: SIG, status: update, event: ev }])).toBe(true);
  await fleet.dropLease('b-crashed');

  // c publishes b's update first, and writes nothing new at the same time.
  const c = await evaluator('c');
  const newEvents = (await c.evaluate())?.transitions.filter((t) => t.event !== null);
  expect(newEvents).toEqual([]);
  await waitFor('the update', () => (events.length >= 2 ? true : undefined));
  now = T0 + 10 * MIN;
  expect((await c.evaluate())?.transitions.map((t) => t.event?.state)).toEqual(['update']);
  await waitFor('the second update', () => (events.length >= 3 ? true : undefined));
  expect(events.map((e) => `${e.state} ${e.seq}`)).toEqual(['started 1', 'update 2', 'update 3']);
});
