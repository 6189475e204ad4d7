/**
 * The fleet state's Lua on a real Redis: a dump counted once whatever redelivers it, buckets and
 * host logs by the dump's report time, everything expiring, and storm transitions written only
 * under the evaluator's lease.
 */
import Redis from 'ioredis';
import { bucketOf, BUCKET_MS, DEFAULT_STORM_SETTINGS, evaluateStorms, FleetState, topSignatures, type FleetDump } from '@dumpstream/fleet';
import { freshId, uniquePrefix } from '../support/ids';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
let redis: Redis;
let state: FleetState;
let prefix: string;

beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 3 });
});
beforeEach(() => {
  prefix = uniquePrefix('fleet');
  state = new FleetState(redis, { prefix });
});
afterAll(async () => {
  await redis.quit();
});

const dump = (signature: string, at: number, host: string, more: Partial<FleetDump> = {}): FleetDump => ({ signature, dumpId: freshId(32), host, at, deepestChain: 3, werFaults: 4, ...more });

describe('FleetState.record', () => {
  it('counts a dump once, however often and by however many workers it is recorded', async () => {
    const d = dump('v1:app.exe!app!Parse', T0, 'h1');
    const other = new FleetState(redis, { prefix }); // a second worker
    const results = await Promise.all([state.record(d), other.record(d), state.record(d), other.record(d)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const c = await state.counts(d.signature, T0, 30 * 60_000);
    expect(c).toMatchObject({ dumps: 1, hosts: 1, hostsInWindow: 1, firstSeen: T0, lastSeen: T0, deepestChain: 3, werFaults: 4, examples: [d.dumpId] });
    expect([...c.buckets]).toEqual([[bucketOf(T0), 1]]);
  });

  it('buckets by report time, counts hosts per hour, keeps the deepest chain and a few examples', async () => {
    const sig = 'v1:svc.exe!<no-stack>';
    const ds = [dump(sig, T0 + 1000, 'a', { deepestChain: 7 }), dump(sig, T0 + BUCKET_MS, 'b'), dump(sig, T0 + HOUR + 5, 'a'), ...Array.from({ length: 6 }, (_, i) => dump(sig, T0 + HOUR + 10 + i, `h${i}`))];
    // Out of order, as workers report.
    for (const d of [...ds].reverse()) expect(await state.record(d, T0 + 2 * HOUR)).toBe(true);
    const c = await state.counts(sig, T0 + HOUR + 40 * 60_000, 30 * 60_000);
    expect(c.dumps).toBe(9);
    expect(c.hosts).toBe(8); // a, b, h0…h5
    expect(c.hostsInWindow).toBe(7); // the hour the window overlaps: a, h0…h5
    expect(c.firstSeen).toBe(T0 + 1000);
    expect(c.lastSeen).toBe(T0 + HOUR + 15);
    expect(c.deepestChain).toBe(7);
    expect(c.werFaults).toBe(36);
    expect(c.examples).toHaveLength(5);
    expect(c.buckets.get(bucketOf(T0))).toBe(1);
    expect(c.buckets.get(bucketOf(T0 + HOUR))).toBe(7);
  });

  it('does not count a dump older than the retained day, and every key it writes expires', async () => {
    const sig = 'v1:old.exe!<no-stack>';
    expect(await state.record(dump(sig, T0, 'h'), T0 + 25 * HOUR)).toBe(false);
    expect(await state.record(dump(sig, T0 + 24 * HOUR, 'h'), T0 + 24 * HOUR)).toBe(true);
    const keys = await redis.keys(`${prefix}:fleet:{f:*`);
    expect(keys.length).toBe(5); // seen, buckets, meta, examples, hosts of the hour
    for (const k of keys) {
      const ttl = await redis.ttl(k);
      expect({ k, ttl: ttl > 24 * 3600 && ttl <= 25 * 3600 }).toEqual({ k, ttl: true });
    }
  });

  it('drops buckets that fall out of the day as new dumps come', async () => {
    const sig = 'v1:drift.exe!<no-stack>';
    await state.record(dump(sig, T0, 'h'));
    await state.record(dump(sig, T0 + 25 * HOUR, 'h'));
    expect(await redis.hkeys(state.keys.buckets(sig))).toEqual([String(bucketOf(T0 + 25 * HOUR))]);
    expect(await state.signatures(T0 + 25 * HOUR)).toEqual([sig]);
  });
});

describe('storm evaluation on the state', () => {
  const S = DEFAULT_STORM_SETTINGS;

  it('writes a transition and its event only under the lease, once per evaluation time', async () => {
    const sig = 'v1:storm.exe!storm!Crash';
    for (let i = 0; i < 60; i++) await state.record(dump(sig, T0 + i * 20_000, `host${i % 30}`));
    const now = T0 + 20 * 60_000;
    expect(await state.takeLease('worker-a', 10_000)).toBe(true);
    expect(await state.takeLease('worker-b', 10_000)).toBe(false);
    // worker-b evaluates without the lease: nothing is written.
    expect((await evaluateStorms(state, 'worker-b', now, S)).committed).toBe(false);
    expect(await state.outbox()).toEqual([]);
    const first = await evaluateStorms(state, 'worker-a', now, S);
    expect(first.committed).toBe(true);
    expect(first.transitions.map((t) => t.event?.state)).toEqual(['started']);
    // The same time again, as a restarted evaluator would: nothing new.
    expect((await evaluateStorms(state, 'worker-a', now, S)).transitions).toEqual([]);
    const [ev] = await state.outbox();
    expect(ev).toMatchObject({ n: 1, signature: sig, state: 'started', seq: 1, since: now, dumpsInWindow: 60, reason: 'dumps', deepestChain: 3, werFaults: 240 });
    expect(ev.hostsInWindow).toBe(30);
    expect(ev.examples).toHaveLength(5);
    await state.trimOutbox(1);
    expect(await state.outbox()).toEqual([]);
    await state.dropLease('worker-a');
    expect(await state.takeLease('worker-b', 10_000)).toBe(true);
    expect(topSignatures(first, 10).map((t) => [t.signature, t.dumpsInWindow, t.storming])).toEqual([[sig, 60, true]]);
  });
});
