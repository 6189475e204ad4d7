import type { Redis } from 'ioredis';
import { FleetKeys } from './keys';
import { bucketOf, BUCKET_MS, type StormEventState, type StormReason, type StormStatus } from './rule';
import { COMMIT_TRANSITIONS, DROP_LEASE, RECORD_DUMP, TAKE_LEASE } from './scripts';

/** One reported dump as the fleet counts it. */
export interface FleetDump {
  signature: string;
  dumpId: string;
  host: string | null;
  /** The dump's report time (ms): its upload's receivedAt. Every count is by this time, never the worker's clock. */
  at: number;
  deepestChain: number;
  werFaults: number;
}

/** What the fleet knows of one signature at `now`. */
export interface SignatureCounts {
  signature: string;
  /** Dumps per bucket number over the retained day. */
  buckets: Map<number, number>;
  /**
   * Distinct hosts in the hours the window overlaps (one HyperLogLog per hour, ±0.81%): the
   * window's hosts and up to an hour more before it.
   */
  hostsInWindow: number;
  /** Distinct hosts over the retained day. */
  hosts: number;
  /** Dumps over the retained day. */
  dumps: number;
  firstSeen: number | null;
  lastSeen: number | null;
  deepestChain: number;
  werFaults: number;
  /** The latest dumpIds, newest first. */
  examples: string[];
}

/** A storm event as the outbox holds it; `n` is its outbox number (the order of publication). */
export interface StormEventRecord {
  n: number;
  signature: string;
  state: StormEventState;
  /** The signature's event number, 1, 2, 3, …: a consumer that saw it already is seeing a re-publication. */
  seq: number;
  /** The evaluation time that wrote it. */
  at: number;
  since: number;
  lastSeen: number | null;
  dumpsInWindow: number;
  hostsInWindow: number;
  windowMs: number;
  reason: StormReason | null;
  examples: string[];
  deepestChain: number;
  werFaults: number;
}

/** One storm transition for commitTransitions: the new status, and its event or null. */
export interface StormTransition {
  signature: string;
  status: StormStatus;
  event: Omit<StormEventRecord, 'n'> | null;
}

export interface FleetStateOptions {
  /** Key prefix (default `ds`). */
  prefix?: string;
  /** How long counts are kept (default a day): the buckets, markers and host logs expire after it. */
  retainMs?: number;
  /** dumpIds kept per signature as examples (default 5). */
  examples?: number;
}

type Scripted = Redis & {
  dsFleetRecord(seen: string, buckets: string, meta: string, examples: string, hosts: string, ...argv: (string | number)[]): Promise<number>;
  dsFleetTakeLease(lease: string, token: string, ttlMs: number): Promise<number>;
  dsFleetDropLease(lease: string, token: string): Promise<number>;
  dsFleetCommit(lease: string, status: string, outbox: string, counter: string, token: string, ...argv: string[]): Promise<number>;
};

const HOUR_MS = 3_600_000;

/**
 * The fleet's counts per signature, shared by every detect worker in Redis, and the storm
 * statuses and outbox the storm evaluator keeps beside them. Every write is a Lua script on one
 * slot; every key expires (counts a little after `retainMs`).
 */
export class FleetState {
  readonly keys: FleetKeys;
  readonly retainMs: number;
  private readonly redis: Scripted;
  private readonly examples: number;
  private readonly ttlSeconds: number;

  constructor(redis: Redis, options: FleetStateOptions = {}) {
    this.keys = new FleetKeys(options.prefix);
    this.retainMs = options.retainMs ?? 24 * HOUR_MS;
    this.examples = options.examples ?? 5;
    // An hour past the retained day: the host log of the oldest hour the day overlaps is still there.
    this.ttlSeconds = Math.ceil((this.retainMs + HOUR_MS) / 1000);
    const r = redis as Scripted;
    if (typeof r.dsFleetRecord !== 'function') {
      r.defineCommand('dsFleetRecord', { numberOfKeys: 5, lua: RECORD_DUMP });
      r.defineCommand('dsFleetTakeLease', { numberOfKeys: 1, lua: TAKE_LEASE });
      r.defineCommand('dsFleetDropLease', { numberOfKeys: 1, lua: DROP_LEASE });
      r.defineCommand('dsFleetCommit', { numberOfKeys: 4, lua: COMMIT_TRANSITIONS });
    }
    this.redis = r;
  }

  /**
   * Counts a reported dump under its signature, once: true when this call counted it, false when
   * it was counted before (a redelivery, a replay, another worker) or is older than the retained
   * day at `now`. Idempotent; safe from any number of workers at once.
   */
  async record(d: FleetDump, now: number = d.at): Promise<boolean> {
    const k = this.keys;
    // The index first (another slot): a crash between the two leaves an indexed signature with
    // no new count, which the redelivery that follows completes.
    await this.redis.zadd(k.signatures(), 'GT', d.at, d.signature);
    const counted = await this.redis.dsFleetRecord(
      k.seen(d.signature, d.dumpId),
      k.buckets(d.signature),
      k.meta(d.signature),
      k.examples(d.signature),
      k.hosts(d.signature, Math.floor(d.at / HOUR_MS)),
      d.at,
      BUCKET_MS,
      now,
      this.retainMs,
      this.ttlSeconds,
      d.signature,
      d.dumpId,
      d.host ?? '',
      d.deepestChain,
      d.werFaults,
      this.examples,
    );
    return counted === 1;
  }

  /** Signatures with a dump since `since` (ms), most recent first; drops those older than the retained day. */
  async signatures(now: number, since: number = now - this.retainMs): Promise<string[]> {
    await this.redis.zremrangebyscore(this.keys.signatures(), '-inf', `(${now - this.retainMs}`);
    return this.redis.zrevrangebyscore(this.keys.signatures(), '+inf', since);
  }

  /** What the fleet knows of a signature at `now`; the host count is over the hours `windowMs` overlaps. */
  async counts(signature: string, now: number, windowMs: number): Promise<SignatureCounts> {
    const k = this.keys;
    const lastHour = Math.floor(now / HOUR_MS);
    const windowHours: string[] = [];
    for (let h = Math.floor((now - windowMs) / HOUR_MS); h <= lastHour; h++) windowHours.push(k.hosts(signature, h));
    const dayHours: string[] = [];
    for (let h = Math.floor((now - this.retainMs) / HOUR_MS); h <= lastHour; h++) dayHours.push(k.hosts(signature, h));
    const res = await this.redis
      .multi()
      .hgetall(k.buckets(signature))
      .hgetall(k.meta(signature))
      .lrange(k.examples(signature), 0, -1)
      .pfcount(windowHours[0], ...windowHours.slice(1))
      .pfcount(dayHours[0], ...dayHours.slice(1))
      .exec();
    if (res === null) throw new Error('fleet counts: the transaction was aborted');
    for (const [e] of res) if (e) throw e;
    const [b, m, ex, hw, hd] = res.map(([, v]) => v) as [Record<string, string>, Record<string, string>, string[], number, number];
    const oldest = bucketOf(now - this.retainMs);
    const buckets = new Map<number, number>();
    let dumps = 0;
    for (const [bucket, n] of Object.entries(b)) {
      const i = Number(bucket);
      if (i < oldest || i > bucketOf(now)) continue;
      buckets.set(i, Number(n));
      dumps += Number(n);
    }
    return {
      signature,
      buckets,
      hostsInWindow: hw,
      hosts: hd,
      dumps,
      firstSeen: m.firstSeen ? Number(m.firstSeen) : null,
      lastSeen: m.lastSeen ? Number(m.lastSeen) : null,
      deepestChain: Number(m.deepestChain ?? 0),
      werFaults: Number(m.werFaults ?? 0),
      examples: ex,
    };
  }

  /** Takes or renews the evaluator's lease: true while `token` holds it. */
  async takeLease(token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.dsFleetTakeLease(this.keys.evaluatorLease(), token, ttlMs)) === 1;
  }

  /** Gives the lease back if `token` holds it. */
  async dropLease(token: string): Promise<void> {
    await this.redis.dsFleetDropLease(this.keys.evaluatorLease(), token);
  }

  /** Every signature's storm status. */
  async statuses(): Promise<Map<string, StormStatus>> {
    const all = await this.redis.hgetall(this.keys.stormStatus());
    return new Map(Object.entries(all).map(([sig, json]) => [sig, JSON.parse(json) as StormStatus]));
  }

  /** Forgets the status of signatures whose storm ended before `before` (their seq restarts only after a day of silence). */
  async forgetStatuses(signatures: string[]): Promise<void> {
    if (signatures.length > 0) await this.redis.hdel(this.keys.stormStatus(), ...signatures);
  }

  /**
   * Writes storm transitions and their events to the outbox, atomically and only while `token`
   * holds the lease: false (nothing written) when it does not.
   */
  async commitTransitions(token: string, transitions: StormTransition[]): Promise<boolean> {
    if (transitions.length === 0) return true;
    const argv: string[] = [];
    for (const t of transitions) {
      argv.push(t.signature, JSON.stringify(t.status), t.event ? JSON.stringify({ n: 0, ...t.event }) : '');
    }
    const k = this.keys;
    return (await this.redis.dsFleetCommit(k.evaluatorLease(), k.stormStatus(), k.outbox(), k.outboxCounter(), token, ...argv)) === 1;
  }

  /** Events of the outbox numbered above `after`, in order, at most `limit`. */
  async outbox(after = 0, limit = 100): Promise<StormEventRecord[]> {
    const raw = await this.redis.zrangebyscore(this.keys.outbox(), `(${after}`, '+inf', 'LIMIT', 0, limit);
    return raw.map((s) => JSON.parse(s) as StormEventRecord);
  }

  /** Drops the outbox's events numbered `upTo` and below: they are published. */
  async trimOutbox(upTo: number): Promise<void> {
    await this.redis.zremrangebyscore(this.keys.outbox(), '-inf', upTo);
  }
}
