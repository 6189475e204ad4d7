import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';
import type { Redis } from 'ioredis';
import { assertId, DumpKeys } from './keys';
import { KEEP_REPORT } from './scripts';

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

/** What the look-up lists about a kept report: enough to choose one without fetching it. */
export interface ReportSummary {
  dumpId: string;
  host: string | null;
  /** When the dump was received (ms since the epoch); the indexes order by it. */
  time: number;
  /** The finding's signature (`v1:<image>!<module>!<function>`), null without a finding. */
  signature: string | null;
  /** Image of the original fault behind the deepest chain, null when unknown or no finding. */
  rootImage: string | null;
  chainDepth: number;
  werFaults: number;
  /** The report's status: `complete`, or `incomplete` when part of the transcript never came. */
  state: 'complete' | 'incomplete';
  source: string;
  severity: string | null;
  /**
   * `report`: the whole report is kept; `without-frames`: the report without its threads' and
   * stacks' frames (too large with them; see `note`; the report says so in a warning too);
   * `summary`: only this summary (see `note`).
   */
  kept: 'report' | 'without-frames' | 'summary';
  /** Why the report is not kept whole. */
  note?: string;
  /** Size of the kept gzip (or of the one that was too large). */
  compressedBytes: number;
}

/** The summary's fields a caller gives; the store adds what keeping decides. */
export type ReportSummaryInput = Omit<ReportSummary, 'kept' | 'note' | 'compressedBytes'>;

export interface ReportStoreOptions {
  /** Key prefix (default `ds`). */
  prefix?: string;
  /** How long a report stays after its time (default seven days, REPORT_RETENTION). */
  retentionMs?: number;
  /** Largest gzip kept whole (default 2 MiB, REPORT_KEEP_MAX_BYTES). */
  keepMaxBytes?: number;
  /** The clock that decides what has expired (tests move it). Default Date.now. */
  now?: () => number;
}

/** What keep() did. */
export type KeepOutcome =
  /** Kept now (whole or, over the size cap, its summary). */
  | 'kept'
  /** This dump's report was kept before (a redelivery, a takeover): nothing changed. */
  | 'already'
  /** Its time is older than the retention: nothing kept. */
  | 'expired';

/** Filters of list(); every one optional. */
export interface ReportQuery {
  signature?: string;
  host?: string;
  /** Inclusive bounds on the report time, ms. */
  since?: number;
  until?: number;
  /** Summaries on one page (default 50). */
  limit?: number;
  /** From the previous page's `next`. */
  cursor?: string;
}

export interface ReportPage {
  reports: ReportSummary[];
  /** Cursor of the next page, null on the last. */
  next: string | null;
}

/** A cursor that is not one of ours; the API answers 400. */
export class CursorError extends RangeError {
  readonly code = 'BAD_CURSOR';
}

type Scripted = Redis & {
  dsKeepReport(report: string, summary: string, state: string, blob: Buffer | string, ttlMs: number): Promise<[number, string, string | null]>;
};

const DAY = 86_400_000;

/**
 * The reports detect publishes, kept in Redis for the look-up API: per dump a hash (summary,
 * state, gzip of the published Avro bytes) that expires `retentionMs` after the report's time,
 * and sorted sets by time, host and signature. Keeping is idempotent: a report kept again (a
 * redelivery, a takeover after the reporter died) changes nothing, except that a complete report
 * replaces an incomplete one of the same content (a whole copy uploaded after a partial one).
 */
export class ReportStore {
  readonly keys: DumpKeys;
  private readonly redis: Scripted;
  readonly retentionMs: number;
  readonly keepMaxBytes: number;
  private readonly now: () => number;

  constructor(redis: Redis, options: ReportStoreOptions = {}) {
    this.keys = new DumpKeys(options.prefix);
    this.retentionMs = options.retentionMs ?? 7 * DAY;
    this.keepMaxBytes = options.keepMaxBytes ?? 2 * 1024 * 1024;
    this.now = options.now ?? Date.now;
    const r = redis as Scripted;
    if (typeof r.dsKeepReport !== 'function') r.defineCommand('dsKeepReport', { numberOfKeys: 1, lua: KEEP_REPORT });
    this.redis = r;
  }

  /**
   * Keeps a published report: `avro` is the exact bytes that went to the reports topic. Gzipped;
   * over keepMaxBytes only the summary is kept, with a note saying why. Then indexed (again, on a
   * repeat: adding an index entry twice is harmless, and a keeper that died between the hash and
   * the indexes is made whole by the next keep). Throws on a Redis failure.
   */
  async keep(input: ReportSummaryInput, avro: Buffer, withoutFrames?: () => Buffer): Promise<KeepOutcome> {
    assertId(input.dumpId);
    const ttl = input.time + this.retentionMs - this.now();
    if (ttl <= 0) return 'expired';
    const zipped = await gzip(avro);
    let kept: ReportSummary['kept'] = 'report';
    let blob: Buffer | '' = zipped;
    let note: string | undefined;
    if (zipped.length > this.keepMaxBytes) {
      // The frames are most of a large report, and the pictures and the text do not show them:
      // a report without them is worth keeping before falling back to the summary.
      const lean = withoutFrames ? await gzip(withoutFrames()) : null;
      const over = `the report was ${zipped.length} bytes compressed, more than REPORT_KEEP_MAX_BYTES (${this.keepMaxBytes})`;
      if (lean !== null && lean.length <= this.keepMaxBytes) {
        [kept, blob, note] = ['without-frames', lean, `${over}: it is kept without its threads' and stacks' frames (dumpstream analyze of the transcript gives them)`];
      } else {
        [kept, blob, note] = ['summary', '', `${over}: only its summary is kept (dumpstream analyze of the transcript gives it all)`];
      }
    }
    const summary: ReportSummary = { ...input, kept, ...(note === undefined ? {} : { note }), compressedBytes: zipped.length };
    const [added, storedJson, replacedJson] = await this.redis.dsKeepReport(this.keys.report(input.dumpId), JSON.stringify(summary), summary.state, blob, ttl);
    const stored = JSON.parse(storedJson) as ReportSummary;
    if (replacedJson) await this.unindex(JSON.parse(replacedJson) as ReportSummary);
    await this.index(stored);
    return added === 1 ? 'kept' : 'already';
  }

  /** A kept report: its summary, and its Avro bytes unless only the summary was kept. Null when none (never kept, or expired). */
  async get(dumpId: string): Promise<{ summary: ReportSummary; avro: Buffer | null } | null> {
    const [summary, blob] = await this.redis.hmgetBuffer(this.keys.report(dumpId), 'summary', 'report');
    if (summary === null) return null;
    return { summary: JSON.parse(summary.toString('utf8')) as ReportSummary, avro: blob === null || blob.length === 0 ? null : await gunzip(blob) };
  }

  /**
   * Summaries newest first, filtered, a page at a time. The most selective index given is read
   * (signature, then host, then time) and the other filters applied to its summaries. Throws
   * CursorError on a cursor this store did not make.
   */
  async list(query: ReportQuery = {}): Promise<ReportPage> {
    const limit = query.limit ?? 50;
    const key = query.signature !== undefined ? this.keys.reportsBySignature(query.signature) : query.host !== undefined ? this.keys.reportsByHost(query.host) : this.keys.reportsByTime();
    const floor = Math.max(query.since ?? -Infinity, this.now() - this.retentionMs);
    let max = query.until ?? Infinity;
    let after: string | null = null;
    if (query.cursor !== undefined) {
      const c = decodeCursor(query.cursor);
      max = Math.min(max, c.time);
      after = c.dumpId;
    }
    const out: ReportSummary[] = [];
    // Entries of the cursor's time are read again and skipped up to the cursor's dumpId: ties in a
    // reversed sorted set come in descending member order, so those after it sort below it.
    const batch = Math.min(1000, (limit + 1) * 2);
    for (let offset = 0; out.length <= limit; offset += batch) {
      const flat = await this.redis.zrevrangebyscore(key, max === Infinity ? '+inf' : max, floor === -Infinity ? '-inf' : floor, 'WITHSCORES', 'LIMIT', offset, batch);
      if (flat.length === 0) break;
      const entries: { dumpId: string; time: number }[] = [];
      for (let i = 0; i < flat.length; i += 2) {
        const e = { dumpId: flat[i], time: Number(flat[i + 1]) };
        if (after !== null && e.time === max && e.dumpId >= after) continue;
        entries.push(e);
      }
      const found = await Promise.all(entries.map((e) => this.redis.hget(this.keys.report(e.dumpId), 'summary')));
      for (const [i, json] of found.entries()) {
        // Expired since it was indexed: trimming removes the entry later.
        if (json === null) continue;
        const s = JSON.parse(json) as ReportSummary;
        if (query.host !== undefined && s.host !== query.host) continue;
        if (query.signature !== undefined && s.signature !== query.signature) continue;
        if (s.time !== entries[i].time) continue; // a stale entry of a replaced report
        out.push(s);
        if (out.length > limit) break;
      }
      if (flat.length < batch * 2) break;
    }
    const page = out.slice(0, limit);
    const last = page.at(-1);
    return { reports: page, next: out.length > limit && last ? encodeCursor(last.time, last.dumpId) : null };
  }

  /**
   * Removes index entries older than the retention (their reports have expired) from every index,
   * and forgets indexes left empty. Returns the entries removed. Cheap to run often: each keep
   * trims the indexes it touches; this catches hosts and signatures that stopped reporting.
   */
  async trim(): Promise<number> {
    const cutoff = this.now() - this.retentionMs;
    let removed = await this.redis.zremrangebyscore(this.keys.reportsByTime(), '-inf', `(${cutoff}`);
    const indexes = await this.redis.zrange(this.keys.reportIndexes(), 0, -1);
    for (const key of indexes) {
      removed += await this.redis.zremrangebyscore(key, '-inf', `(${cutoff}`);
      if ((await this.redis.zcard(key)) === 0) await this.redis.zrem(this.keys.reportIndexes(), key);
    }
    return removed;
  }

  private indexKeys(s: ReportSummary): string[] {
    const keys = [this.keys.reportsByTime()];
    if (s.host !== null) keys.push(this.keys.reportsByHost(s.host));
    if (s.signature !== null) keys.push(this.keys.reportsBySignature(s.signature));
    return keys;
  }

  private async index(s: ReportSummary): Promise<void> {
    const cutoff = this.now() - this.retentionMs;
    const [time, ...others] = this.indexKeys(s);
    const m = this.redis.multi();
    for (const key of [time, ...others]) {
      m.zadd(key, s.time, s.dumpId);
      m.zremrangebyscore(key, '-inf', `(${cutoff}`);
      // An index nobody adds to any more goes a day after its last reports.
      m.pexpire(key, this.retentionMs + DAY);
    }
    // GT (Redis 6.2): a late keep of an older report must not date the index back.
    for (const key of others) m.zadd(this.keys.reportIndexes(), 'GT', s.time, key);
    await m.exec();
  }

  private async unindex(s: ReportSummary): Promise<void> {
    const m = this.redis.multi();
    for (const key of this.indexKeys(s)) m.zrem(key, s.dumpId);
    await m.exec();
  }
}

function encodeCursor(time: number, dumpId: string): string {
  return Buffer.from(`${time}:${dumpId}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { time: number; dumpId: string } {
  const text = /^[A-Za-z0-9_-]{1,200}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const m = /^(\d{1,16}):([0-9a-f-]{8,64})$/.exec(text);
  if (!m) throw new CursorError('cursor: not a cursor this API gave (pass the `next` of the previous page as it is)');
  return { time: Number(m[1]), dumpId: m[2] };
}
