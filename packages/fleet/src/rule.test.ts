import { BUCKET_MS, bucketOf, DEFAULT_STORM_SETTINGS as S, dumpsInWindow, nextStorm, stormReason, type StormStatus } from './rule';

const MIN = 60_000;
const T0 = bucketOf(Date.UTC(2026, 0, 1)) * BUCKET_MS;
/** Counts with `perBucket[i]` dumps in the i-th bucket ending at `now`'s (last = now's bucket). */
const counts = (now: number, perBucket: number[], hostsInWindow = 0) => {
  const buckets = new Map<number, number>();
  perBucket.forEach((n, i) => n > 0 && buckets.set(bucketOf(now) - perBucket.length + 1 + i, n));
  return { buckets, hostsInWindow };
};

describe('stormReason', () => {
  it('storms at 50 dumps in the 30-minute window, not at 49', () => {
    // Steady at 8 a bucket for two hours before: no spike, only the window's count decides.
    const steady = Array<number>(24).fill(8);
    expect(stormReason(counts(T0, [...steady, 10, 8, 8, 8, 8, 8]), T0, S)).toBe('dumps');
    expect(dumpsInWindow(counts(T0, [...steady, 9, 8, 8, 8, 8, 8]), T0, S.windowMs)).toBe(49);
    expect(stormReason(counts(T0, [...steady, 9, 8, 8, 8, 8, 8]), T0, S)).toBeNull();
    // Dumps outside the window (7 buckets back) do not count.
    expect(stormReason(counts(T0, [40, 8, 0, 0, 0, 0, 1]), T0, S)).toBeNull();
  });

  it('storms at 10 hosts in the window', () => {
    expect(stormReason(counts(T0, [1, 1], 10), T0, S)).toBe('hosts');
    expect(stormReason(counts(T0, [1, 1], 9), T0, S)).toBeNull();
  });

  it('storms on a spike: the last 3 buckets hold 10 dumps and 5× the trailing rate', () => {
    const baseline = Array<number>(24).fill(0).map((_, i) => (i % 4 === 0 ? 1 : 0)); // 6 in 2 h: 0.25 per bucket
    expect(stormReason(counts(T0, [...baseline, 3, 4, 3]), T0, S)).toBe('spike');
    // Steady at 3-4 per bucket: 10 in 3 buckets, but no jump over its own baseline.
    expect(stormReason(counts(T0, [...Array<number>(24).fill(3), 3, 4, 3]), T0, S)).toBeNull();
    // A jump, but under 10 dumps: not a spike.
    expect(stormReason(counts(T0, [...baseline, 3, 3, 3]), T0, S)).toBeNull();
  });
});

describe('nextStorm', () => {
  const run = (steps: [number, boolean][]) => {
    let st: StormStatus | null = null;
    const events: string[] = [];
    for (const [min, hot] of steps) {
      const r = nextStorm(st, hot ? 'dumps' : null, T0 + min * MIN, S);
      st = r.status;
      if (r.event) events.push(`${min}:${r.event}:${st!.seq}`);
    }
    return { events, st };
  };

  it('starts, updates every 5 minutes, and ends after 30 quiet minutes', () => {
    const steps: [number, boolean][] = [];
    for (let m = 0; m <= 80; m += 0.5) steps.push([m, m >= 10 && m < 22]);
    expect(run(steps).events).toEqual(['10:started:1', '15:update:2', '20:update:3', '25:update:4', '30:update:5', '35:update:6', '40:update:7', '45:update:8', '50:update:9', '51.5:ended:10']);
  });

  it('gives nothing new for a second evaluation at the same time', () => {
    const a = nextStorm(null, 'hosts', T0, S);
    expect(a.event).toBe('started');
    expect(nextStorm(a.status, 'hosts', T0, S)).toEqual({ status: a.status, event: null });
  });

  it('a storm that ended starts again with the next seq', () => {
    const ended: StormStatus = { state: 'ended', since: T0, lastHotAt: T0, lastEventAt: T0 + 30 * MIN, seq: 7, reason: 'dumps' };
    const r = nextStorm(ended, 'spike', T0 + 2 * 3600_000, S);
    expect(r).toEqual({ event: 'started', status: { state: 'storming', since: T0 + 2 * 3600_000, lastHotAt: T0 + 2 * 3600_000, lastEventAt: T0 + 2 * 3600_000, seq: 8, reason: 'spike' } });
  });
});
