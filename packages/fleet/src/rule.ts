/**
 * The storm rule: pure functions from a signature's counts and its storm status to the next
 * status and the event to publish, if any. No clock of their own: `now` is passed in, so a test
 * drives them over simulated hours.
 */

/** Dumps are counted in buckets of this size (fixed: the fleet state's keys are per bucket). */
export const BUCKET_MS = 5 * 60_000;

/** The storm rule's settings (README, "Fleet-wide storms"; env STORM_* in @dumpstream/runtime). */
export interface StormSettings {
  /** The window the dump and host counts are taken over. Default 30 min (STORM_WINDOW). */
  windowMs: number;
  /** Storming at this many dumps in the window. Default 50 (STORM_MIN_DUMPS). */
  minDumps: number;
  /** Storming at this many distinct hosts in the window. Default 10 (STORM_MIN_HOSTS). */
  minHosts: number;
  /** Buckets a spike is measured over, the latest ones. Default 3 (STORM_SPIKE_BUCKETS). */
  spikeBuckets: number;
  /** A spike needs at least this many dumps in those buckets. Default 10 (STORM_SPIKE_MIN_DUMPS). */
  spikeMinDumps: number;
  /** … and a rate this many times the trailing baseline's. Default 5 (STORM_SPIKE_FACTOR). */
  spikeFactor: number;
  /** Buckets before the spike's that make the baseline. Default 24, two hours (STORM_SPIKE_BASELINE_BUCKETS). */
  spikeBaselineBuckets: number;
  /** A storm ends after this long with no condition met. Default 30 min (STORM_QUIET). */
  quietMs: number;
  /** While storming, an `update` event this often. Default 5 min (STORM_UPDATE_EVERY). */
  updateEveryMs: number;
}

/** The documented defaults. */
export const DEFAULT_STORM_SETTINGS: Readonly<StormSettings> = Object.freeze({
  windowMs: 30 * 60_000,
  minDumps: 50,
  minHosts: 10,
  spikeBuckets: 3,
  spikeMinDumps: 10,
  spikeFactor: 5,
  spikeBaselineBuckets: 24,
  quietMs: 30 * 60_000,
  updateEveryMs: 5 * 60_000,
});

/** Which condition makes a signature storm; the first that holds, in this order. */
export type StormReason = 'dumps' | 'hosts' | 'spike';

/** What the rule reads of a signature's counts at `now`. */
export interface StormCounts {
  /** Dumps per bucket number (floor(ms / BUCKET_MS)); missing buckets had none. */
  buckets: ReadonlyMap<number, number>;
  /** Distinct hosts over the window (estimated: see FleetState.counts). */
  hostsInWindow: number;
}

/** The bucket number of a time. */
export function bucketOf(ms: number): number {
  return Math.floor(ms / BUCKET_MS);
}

/** Dumps in the buckets that end with now's and span `windowMs`. */
export function dumpsInWindow(counts: StormCounts, now: number, windowMs: number): number {
  const last = bucketOf(now);
  const n = Math.max(1, Math.round(windowMs / BUCKET_MS));
  let sum = 0;
  for (let b = last - n + 1; b <= last; b++) sum += counts.buckets.get(b) ?? 0;
  return sum;
}

/**
 * Why the signature storms at `now`, or null: `dumps` when the window holds at least minDumps,
 * `hosts` when at least minHosts hosts, `spike` when the latest spikeBuckets buckets hold at least
 * spikeMinDumps and their rate per bucket is at least spikeFactor times the mean of the
 * spikeBaselineBuckets before them (a baseline of none counts as zero: a new fault that arrives
 * fast is a spike).
 */
export function stormReason(counts: StormCounts, now: number, s: StormSettings): StormReason | null {
  if (dumpsInWindow(counts, now, s.windowMs) >= s.minDumps) return 'dumps';
  if (counts.hostsInWindow >= s.minHosts) return 'hosts';
  const last = bucketOf(now);
  let recent = 0;
  for (let b = last - s.spikeBuckets + 1; b <= last; b++) recent += counts.buckets.get(b) ?? 0;
  if (recent < s.spikeMinDumps) return null;
  let base = 0;
  for (let b = last - s.spikeBuckets - s.spikeBaselineBuckets + 1; b <= last - s.spikeBuckets; b++) base += counts.buckets.get(b) ?? 0;
  const baseRate = s.spikeBaselineBuckets > 0 ? base / s.spikeBaselineBuckets : 0;
  return recent / s.spikeBuckets >= s.spikeFactor * baseRate ? 'spike' : null;
}

/** A signature's storm, as the evaluator keeps it. */
export interface StormStatus {
  state: 'storming' | 'ended';
  /** When the current (or last) storm started. */
  since: number;
  /** The last evaluation at which a condition held. */
  lastHotAt: number;
  /** When the last event was written. */
  lastEventAt: number;
  /** The signature's last event number: 1, 2, 3, … across all its storms. */
  seq: number;
  /** The condition that started the storm. */
  reason: StormReason | null;
}

/** The kind of a storm event. */
export type StormEventState = 'started' | 'update' | 'ended';

/**
 * The next status of a signature and the event it calls for (null: none). A storm starts when a
 * condition holds; while one lasts, an `update` follows every updateEveryMs; it ends once no
 * condition has held for quietMs. Evaluations at the same `now` give nothing new (idempotent).
 */
export function nextStorm(prev: StormStatus | null, reason: StormReason | null, now: number, s: StormSettings): { status: StormStatus | null; event: StormEventState | null } {
  const seq = prev?.seq ?? 0;
  if (prev === null || prev.state === 'ended') {
    if (reason === null) return { status: prev, event: null };
    return { status: { state: 'storming', since: now, lastHotAt: now, lastEventAt: now, seq: seq + 1, reason }, event: 'started' };
  }
  const lastHotAt = reason !== null ? Math.max(prev.lastHotAt, now) : prev.lastHotAt;
  if (reason === null && now - lastHotAt >= s.quietMs) {
    return { status: { ...prev, state: 'ended', lastEventAt: now, seq: seq + 1 }, event: 'ended' };
  }
  if (now - prev.lastEventAt >= s.updateEveryMs) {
    return { status: { ...prev, lastHotAt, lastEventAt: now, seq: seq + 1 }, event: 'update' };
  }
  return { status: lastHotAt === prev.lastHotAt ? prev : { ...prev, lastHotAt }, event: null };
}
