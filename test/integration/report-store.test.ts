/**
 * ReportStore on a real Redis: keeping is idempotent (a redelivery or a takeover keeps nothing
 * twice), a complete report replaces an incomplete one of the same content, the size cap keeps
 * the summary only and says so, the retention bounds both the reports and their indexes (on a
 * clock the test moves), and the indexes list newest first, filtered and paged.
 */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { CursorError, ReportStore, type ReportSummaryInput } from '@dumpstream/redis';
import { uniquePrefix } from '../support/ids';

const HOUR = 3_600_000;
let redis: Redis;
let prefix: string;
let clock: number;

const store = (options: { retentionMs?: number; keepMaxBytes?: number } = {}) => new ReportStore(redis, { prefix, now: () => clock, ...options });
const dumpId = () => randomBytes(32).toString('hex');
const summary = (over: Partial<ReportSummaryInput> = {}): ReportSummaryInput => ({
  dumpId: dumpId(),
  host: 'web-1',
  time: clock,
  signature: 'v1:app.exe!app!crash',
  rootImage: 'app.exe',
  chainDepth: 3,
  werFaults: 3,
  state: 'complete',
  source: 'dump.txt',
  severity: 'critical',
  ...over,
});

beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL!);
});
beforeEach(() => {
  prefix = uniquePrefix('reports');
  clock = Date.parse('2026-12-01T12:00:00Z');
});
afterAll(() => redis.disconnect());

it('keeps a report once: the same report again (a redelivery, a takeover) changes nothing', async () => {
  const s = store();
  const input = summary();
  const avro = Buffer.from('the published avro bytes');
  expect(await s.keep(input, avro)).toBe('kept');
  const before = await redis.hgetall(s.keys.report(input.dumpId));
  expect(await s.keep({ ...input, time: clock + 5000, host: 'elsewhere' }, Buffer.from('other bytes'))).toBe('already');
  expect(await redis.hgetall(s.keys.report(input.dumpId))).toEqual(before);
  const kept = await s.get(input.dumpId);
  expect(kept!.avro).toEqual(avro);
  expect(kept!.summary).toMatchObject({ ...input, kept: 'report' });
  // Indexed once, at the first keep's time, in every index.
  expect(await redis.zrange(s.keys.reportsByTime(), 0, -1, 'WITHSCORES')).toEqual([input.dumpId, String(clock)]);
  expect(await redis.zrange(s.keys.reportsByHost('web-1'), 0, -1)).toEqual([input.dumpId]);
  expect(await redis.zrange(s.keys.reportsBySignature('v1:app.exe!app!crash'), 0, -1)).toEqual([input.dumpId]);
  expect(await redis.exists(s.keys.reportsByHost('elsewhere'))).toBe(0);
});

it('makes the indexes whole again when a keeper died between the report and its indexes', async () => {
  const s = store();
  const input = summary();
  await s.keep(input, Buffer.from('x'));
  await redis.del(s.keys.reportsByTime(), s.keys.reportsByHost('web-1'));
  expect(await s.keep(input, Buffer.from('x'))).toBe('already');
  expect(await redis.zrange(s.keys.reportsByTime(), 0, -1)).toEqual([input.dumpId]);
  expect(await redis.zrange(s.keys.reportsByHost('web-1'), 0, -1)).toEqual([input.dumpId]);
});

it('replaces an incomplete report with a complete one of the same content, and moves its index entries', async () => {
  const s = store();
  const partial = summary({ state: 'incomplete', signature: null, host: 'web-1' });
  await s.keep(partial, Buffer.from('partial'));
  const whole = { ...partial, state: 'complete' as const, signature: 'v1:app.exe!app!crash', host: 'web-2', time: clock + 1000 };
  expect(await s.keep(whole, Buffer.from('whole'))).toBe('kept');
  expect((await s.get(partial.dumpId))!.avro).toEqual(Buffer.from('whole'));
  expect(await redis.zrange(s.keys.reportsByHost('web-1'), 0, -1)).toEqual([]);
  expect((await s.list({ host: 'web-2' })).reports.map((r) => r.dumpId)).toEqual([partial.dumpId]);
  // And never the other way round.
  expect(await s.keep({ ...partial, time: clock + 2000 }, Buffer.from('partial again'))).toBe('already');
  expect((await s.get(partial.dumpId))!.summary.state).toBe('complete');
});

it('keeps a report larger than the cap without its frames when that fits, and says so', async () => {
  const s = store({ keepMaxBytes: 1024 });
  const input = summary();
  const lean = Buffer.from('the report without its frames');
  expect(await s.keep(input, randomBytes(4096), () => lean)).toBe('kept');
  const kept = await s.get(input.dumpId);
  expect(kept!.avro).toEqual(lean);
  expect(kept!.summary.kept).toBe('without-frames');
  expect(kept!.summary.note).toMatch(/more than REPORT_KEEP_MAX_BYTES \(1024\): it is kept without its threads' and stacks' frames/);
  // Still over without frames: the summary only.
  const other = summary();
  expect(await s.keep(other, randomBytes(4096), () => randomBytes(4096))).toBe('kept');
  expect((await s.get(other.dumpId))!.summary.kept).toBe('summary');
});

it('keeps only the summary of a report larger than the cap, and says so', async () => {
  const s = store({ keepMaxBytes: 1024 });
  const input = summary();
  expect(await s.keep(input, randomBytes(4096))).toBe('kept');
  const kept = await s.get(input.dumpId);
  expect(kept!.avro).toBeNull();
  expect(kept!.summary.kept).toBe('summary');
  expect(kept!.summary.note).toMatch(/^the report was \d+ bytes compressed, more than REPORT_KEEP_MAX_BYTES \(1024\): only its summary is kept/);
  expect(await redis.hexists(s.keys.report(input.dumpId), 'report')).toBe(0);
  // Still listed: the summary is what the lists show.
  expect((await s.list()).reports.map((r) => r.dumpId)).toEqual([input.dumpId]);
});

it('keeps a report for the retention from its time, and trims expired index entries', async () => {
  const s = store({ retentionMs: 24 * HOUR });
  const old = summary({ time: clock - 20 * HOUR, host: 'old-host', signature: 'v1:old.exe!old!f' });
  const recent = summary({ time: clock - HOUR });
  expect(await s.keep(summary({ time: clock - 25 * HOUR }), Buffer.from('x'))).toBe('expired');
  await s.keep(old, Buffer.from('x'));
  await s.keep(recent, Buffer.from('x'));
  // The hash expires when its retention ends, counted from the report's time.
  const ttl = await redis.pttl(s.keys.report(old.dumpId));
  expect(ttl).toBeGreaterThan(3 * HOUR);
  expect(ttl).toBeLessThanOrEqual(4 * HOUR);
  // Five hours later the old one is past its retention: no longer listed, and trimmed.
  clock += 5 * HOUR;
  expect((await s.list()).reports.map((r) => r.dumpId)).toEqual([recent.dumpId]);
  expect(await s.trim()).toBe(3); // time, host and signature entries of the old one
  expect(await redis.zrange(s.keys.reportsByTime(), 0, -1)).toEqual([recent.dumpId]);
  expect(await redis.exists(s.keys.reportsByHost('old-host'))).toBe(0);
  expect(await redis.zrange(s.keys.reportIndexes(), 0, -1)).toEqual(expect.not.arrayContaining([s.keys.reportsByHost('old-host')]));
});

it('lists newest first, filtered by signature, host and time, a page at a time', async () => {
  const s = store();
  const all: ReportSummaryInput[] = [];
  for (let i = 0; i < 25; i++) {
    // Some share a time, so that paging must break ties.
    const input = summary({ time: clock - Math.floor(i / 3) * 60_000, host: `web-${i % 3}`, signature: i % 2 === 0 ? 'v1:a.exe!a!f' : 'v1:<unknown-root>' });
    all.push(input);
    await s.keep(input, Buffer.from(String(i)));
  }
  const newestFirst = (xs: ReportSummaryInput[]) => [...xs].sort((a, b) => b.time - a.time || (a.dumpId < b.dumpId ? 1 : -1)).map((x) => x.dumpId);
  const pages: string[][] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await s.list({ limit: 7, cursor });
    pages.push(page.reports.map((r) => r.dumpId));
    if (page.next === null) break;
    cursor = page.next;
  }
  expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 4]);
  expect(pages.flat()).toEqual(newestFirst(all));

  const unknown = all.filter((x) => x.signature === 'v1:<unknown-root>');
  expect((await s.list({ signature: 'v1:<unknown-root>', limit: 100 })).reports.map((r) => r.dumpId)).toEqual(newestFirst(unknown));
  const both = all.filter((x) => x.signature === 'v1:a.exe!a!f' && x.host === 'web-1');
  expect((await s.list({ signature: 'v1:a.exe!a!f', host: 'web-1' })).reports.map((r) => r.dumpId)).toEqual(newestFirst(both));
  const window = all.filter((x) => x.time >= clock - 3 * 60_000 && x.time <= clock - 60_000);
  expect((await s.list({ since: clock - 3 * 60_000, until: clock - 60_000 })).reports.map((r) => r.dumpId)).toEqual(newestFirst(window));

});

it('refuses a cursor it did not make (bad input on purpose)', async () => {
  await expect(store().list({ cursor: 'not-a-cursor' })).rejects.toThrow(CursorError);
  await expect(store().list({ cursor: Buffer.from('12:}{').toString('base64url') })).rejects.toMatchObject({ code: 'BAD_CURSOR' });
});
