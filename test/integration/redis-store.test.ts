/** The DumpStore on a real Redis: idempotent merges, atomic completion, one reporter per upload. */
import Redis from 'ioredis';
import { DumpStore } from '@dumpstream/redis';
import { freshId, uniquePrefix } from '../support/ids';

let redis: Redis;
let store: DumpStore;

beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL!, { lazyConnect: false, maxRetriesPerRequest: 3 });
  store = new DumpStore(redis, { prefix: uniquePrefix('store'), leaseMs: 2000 });
});
afterAll(async () => {
  await redis.quit();
});

const manifest = (segments: number, dumpId = freshId(32)) => ({ segments, dumpId, source: 'x.txt', host: 'h1', lines: 10, bytes: 100, receivedAt: 1, status: 'complete' as const });

describe('DumpStore', () => {
  it('completes once every segment and the manifest are in, in any order, whoever merges', async () => {
    const upload = freshId();
    expect((await store.mergeFacts(upload, 1, Buffer.from('one'))).completion).toBe('pending');
    expect((await store.recordManifest(upload, manifest(3))).completion).toBe('pending');
    expect((await store.mergeFacts(upload, 1, Buffer.from('one again'))).added).toBe(false);
    expect((await store.mergeFacts(upload, 0, Buffer.from([0, 255, 1]))).completion).toBe('pending');
    const last = await store.mergeFacts(upload, 2, Buffer.from('two'));
    expect(last.completion).toBe('complete');
    expect(last.lease).not.toBeNull();
    // A redelivery while the lease is held sees it claimed, not complete.
    expect((await store.mergeFacts(upload, 2, Buffer.from('two'))).completion).toBe('claimed');
    expect((await store.facts(upload)).map((f) => [f.seq, f.blob])).toEqual([
      [0, Buffer.from([0, 255, 1])],
      [1, Buffer.from('one')],
      [2, Buffer.from('two')],
    ]);
    expect(await store.finish(last.lease!, 'reported')).toBe(true);
    expect(await store.state(upload)).toBe('reported');
    expect((await store.mergeFacts(upload, 0, Buffer.from('late'))).completion).toBe('done');
    expect(await store.facts(upload)).toEqual([]);
  });

  it('gives the lease to exactly one of many concurrent completers', async () => {
    const upload = freshId();
    await store.recordManifest(upload, manifest(20));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.mergeFacts(upload, i, Buffer.from(String(i)))));
    expect(results.filter((r) => r.completion === 'complete')).toHaveLength(1);
  });

  it('lets another worker take over when a reporter dies holding the lease', async () => {
    const upload = freshId();
    await store.recordManifest(upload, manifest(1));
    const first = await store.mergeFacts(upload, 0, Buffer.from('x'));
    expect(first.completion).toBe('complete');
    await new Promise((r) => setTimeout(r, 2200));
    const again = await store.mergeFacts(upload, 0, Buffer.from('x'));
    expect(again.completion).toBe('complete');
    expect(await store.finish(first.lease!, 'reported')).toBe(false); // the dead worker's lease is void
    expect(await store.finish(again.lease!, 'reported')).toBe(true);
  });

  it('keeps a lease only for its holder, and remembers what the holder was publishing with', async () => {
    const upload = freshId();
    await store.recordManifest(upload, manifest(1));
    const first = await store.mergeFacts(upload, 0, Buffer.from('x'));
    expect(await store.recordAttempt(first.lease!, 'facts|3|41')).toBe(true);
    // Renewed past its lease time, it stays held: nobody else takes over a live reporter.
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 900));
      expect(await store.renew(first.lease!)).toBe(true);
    }
    expect((await store.mergeFacts(upload, 0, Buffer.from('x'))).completion).toBe('claimed');
    // Not renewed, it lapses; the next holder finds the attempt the first one noted.
    await new Promise((r) => setTimeout(r, 2200));
    const again = await store.mergeFacts(upload, 0, Buffer.from('x'));
    expect(again.completion).toBe('complete');
    expect(await store.renew(first.lease!)).toBe(false);
    expect(await store.recordAttempt(first.lease!, 'facts|3|99')).toBe(false);
    expect(await store.attempt(upload)).toBe('facts|3|41');
    expect(await store.finish(again.lease!, 'reported')).toBe(true);
  });

  it('recognises identical content reported before', async () => {
    const dumpId = freshId(32);
    expect(await store.claimContent(dumpId, 'aaaaaaaaaaaaaaaa')).toBe(true);
    expect(await store.claimContent(dumpId, 'aaaaaaaaaaaaaaaa')).toBe(true);
    expect(await store.claimContent(dumpId, 'bbbbbbbbbbbbbbbb')).toBe(false);
  });

  it('gives two identical uploads at once the same holder of their content, until it lets go', async () => {
    const dumpId = freshId(32);
    const [a, b] = ['cccccccccccccccc', 'dddddddddddddddd'];
    const holders = await Promise.all([store.contentHolder(dumpId, a), store.contentHolder(dumpId, b)]);
    expect(holders[0]).toBe(holders[1]);
    const winner = holders[0];
    const loser = winner === a ? b : a;
    expect(await store.claimContent(dumpId, loser)).toBe(false);
    expect(await store.releaseContent(dumpId, loser)).toBe(false);
    expect(await store.releaseContent(dumpId, winner)).toBe(true);
    expect(await store.contentHolder(dumpId, loser)).toBe(loser);
  });

  it('drops an aborted upload and reports idle ones for the incomplete sweep', async () => {
    const aborted = freshId();
    await store.mergeFacts(aborted, 0, Buffer.from('x'));
    expect((await store.recordManifest(aborted, { ...manifest(5), status: 'aborted' })).completion).toBe('aborted');
    const stalled = freshId();
    await store.mergeFacts(stalled, 0, Buffer.from('x'));
    await new Promise((r) => setTimeout(r, 50));
    expect(await store.idle(10, 10_000)).toContain(stalled);
    const lease = await store.claimIncomplete(stalled);
    expect(lease).not.toBeNull();
    expect(await store.claimIncomplete(stalled)).toBeNull();
    expect(await store.finish(lease!, 'incomplete')).toBe(true);
    expect(await store.idle(10, 10_000)).not.toContain(stalled);
  });

  it('refuses ids that could inject into keys', async () => {
    await expect(store.mergeFacts('x}:evil', 0, Buffer.from('x'))).rejects.toThrow(/not a dumpstream id/);
  });
});
