import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { assertId, DumpKeys } from './keys';
import { CLAIM_CONTENT, CLAIM_INCOMPLETE, FINISH, MERGE_FACTS, RECORD_ATTEMPT, RECORD_MANIFEST, RELEASE, RELEASE_CONTENT, RENEW } from './scripts';

/** What a merge found about the upload as a whole. */
export type Completion =
  /** Not every segment, or not the manifest, has arrived. */
  | 'pending'
  /** This call completed the upload and holds the lease to report it. */
  | 'complete'
  /** Another worker holds the lease. */
  | 'claimed'
  /** Already reported (or dropped as a duplicate). */
  | 'done'
  /** Ingest said the upload failed midway. */
  | 'aborted';

/** A lease on reporting one upload; pass it to finish() or release(). */
export interface ReportLease {
  uploadId: string;
  token: string;
}

export interface ManifestRecord {
  segments: number;
  dumpId: string;
  source: string;
  host: string | null;
  lines: number;
  bytes: number;
  receivedAt: number;
  status: 'complete' | 'aborted';
}

export interface DumpStoreOptions {
  /** Key prefix (default `ds`). */
  prefix?: string;
  /** Seconds an upload's partial graph lives without activity (default one day). */
  inFlightTtlSeconds?: number;
  /** Seconds a reported upload, and a content hash, are remembered (default seven days). */
  retentionSeconds?: number;
  /** How long a reporting lease lasts before another worker may take over (default 60 s). */
  leaseMs?: number;
}

type Scripted = Redis & {
  dsMergeFacts(meta: string, facts: string, state: string, seq: number, blob: Buffer, ttl: number, token: string, leaseMs: number, retention: number): Promise<[number, Completion]>;
  dsRecordManifest(meta: string, facts: string, state: string, ttl: number, token: string, leaseMs: number, retention: number, ...pairs: (string | number)[]): Promise<[number, Completion]>;
  dsClaimIncomplete(meta: string, facts: string, state: string, token: string, leaseMs: number): Promise<string>;
  dsFinish(meta: string, facts: string, state: string, token: string, outcome: string, retention: number): Promise<number>;
  dsRelease(meta: string, facts: string, state: string, token: string): Promise<number>;
  dsRenew(state: string, token: string, leaseMs: number): Promise<number>;
  dsRecordAttempt(meta: string, state: string, token: string, attempt: string, ttl: number): Promise<number>;
  dsClaimContent(reported: string, uploadId: string, retention: number): Promise<string>;
  dsReleaseContent(reported: string, uploadId: string): Promise<number>;
};

/**
 * The partial graphs of uploads in flight, in Redis: facts merged per segment (idempotent, any
 * order, any worker), completion tracked atomically, exactly one reporter per upload.
 */
export class DumpStore {
  readonly keys: DumpKeys;
  private readonly redis: Scripted;
  private readonly ttl: number;
  private readonly retention: number;
  private readonly leaseMs: number;

  constructor(redis: Redis, options: DumpStoreOptions = {}) {
    this.keys = new DumpKeys(options.prefix);
    this.ttl = options.inFlightTtlSeconds ?? 86_400;
    this.retention = options.retentionSeconds ?? 7 * 86_400;
    this.leaseMs = options.leaseMs ?? 60_000;
    const r = redis as Scripted;
    if (typeof r.dsMergeFacts !== 'function') {
      r.defineCommand('dsMergeFacts', { numberOfKeys: 3, lua: MERGE_FACTS });
      r.defineCommand('dsRecordManifest', { numberOfKeys: 3, lua: RECORD_MANIFEST });
      r.defineCommand('dsClaimIncomplete', { numberOfKeys: 3, lua: CLAIM_INCOMPLETE });
      r.defineCommand('dsFinish', { numberOfKeys: 3, lua: FINISH });
      r.defineCommand('dsRelease', { numberOfKeys: 3, lua: RELEASE });
    }
    if (typeof r.dsRenew !== 'function') {
      r.defineCommand('dsRenew', { numberOfKeys: 1, lua: RENEW });
      r.defineCommand('dsRecordAttempt', { numberOfKeys: 2, lua: RECORD_ATTEMPT });
    }
    if (typeof r.dsClaimContent !== 'function') {
      r.defineCommand('dsClaimContent', { numberOfKeys: 1, lua: CLAIM_CONTENT });
      r.defineCommand('dsReleaseContent', { numberOfKeys: 1, lua: RELEASE_CONTENT });
    }
    this.redis = r;
  }

  private three(uploadId: string): [string, string, string] {
    return [this.keys.meta(uploadId), this.keys.facts(uploadId), this.keys.state(uploadId)];
  }

  /** Merges one segment's encoded facts. Idempotent. Returns whether it was new and the completion. */
  async mergeFacts(uploadId: string, seq: number, blob: Buffer): Promise<{ added: boolean; completion: Completion; lease: ReportLease | null }> {
    const token = randomUUID();
    // Sent together, without waiting for each other (ioredis pipelines commands in flight on its
    // connection): the touch only dates activity.
    const [[added, completion]] = await Promise.all([this.redis.dsMergeFacts(...this.three(uploadId), seq, blob, this.ttl, token, this.leaseMs, this.retention), this.touch(uploadId)]);
    return { added: added === 1, completion, lease: completion === 'complete' ? { uploadId, token } : null };
  }

  /** Records the upload's manifest (what ingest saw). Idempotent. */
  async recordManifest(uploadId: string, m: ManifestRecord): Promise<{ added: boolean; completion: Completion; lease: ReportLease | null }> {
    const token = randomUUID();
    const pairs: (string | number)[] = ['segments', m.segments, 'dumpId', m.dumpId, 'source', m.source, 'host', m.host ?? '', 'lines', m.lines, 'bytes', m.bytes, 'receivedAt', m.receivedAt, 'status', m.status];
    const [[added, completion]] = await Promise.all([this.redis.dsRecordManifest(...this.three(uploadId), this.ttl, token, this.leaseMs, this.retention, ...pairs), this.touch(uploadId)]);
    return { added: added === 1, completion, lease: completion === 'complete' ? { uploadId, token } : null };
  }

  /** The manifest, or null when it has not arrived. */
  async manifest(uploadId: string): Promise<ManifestRecord | null> {
    const h = await this.redis.hgetall(this.keys.meta(uploadId));
    if (!h.segments) return null;
    return {
      segments: Number(h.segments),
      dumpId: h.dumpId,
      source: h.source,
      host: h.host ? h.host : null,
      lines: Number(h.lines),
      bytes: Number(h.bytes),
      receivedAt: Number(h.receivedAt),
      status: h.status === 'aborted' ? 'aborted' : 'complete',
    };
  }

  /** Every merged segment's facts, in segment order. */
  async facts(uploadId: string): Promise<{ seq: number; blob: Buffer }[]> {
    const out: { seq: number; blob: Buffer }[] = [];
    for await (const f of this.factsInOrder(uploadId)) out.push(f);
    return out;
  }

  /** The sequence numbers of the segments merged so far, ascending. */
  async segmentsMerged(uploadId: string): Promise<number[]> {
    const keys = await this.redis.hkeys(this.keys.facts(uploadId));
    return keys.map(Number).sort((a, b) => a - b);
  }

  /**
   * Merged segments' facts one at a time in segment order, fetched a few at a time, so that a
   * reader that stops early (a dump past its fact limit) never holds the rest. A segment that goes
   * (flushed) between the listing and its fetch is skipped. `seqs`: the listing, when the caller has it.
   */
  async *factsInOrder(uploadId: string, seqs?: number[], batch = 8): AsyncGenerator<{ seq: number; blob: Buffer }> {
    seqs ??= await this.segmentsMerged(uploadId);
    const key = this.keys.facts(uploadId);
    for (let i = 0; i < seqs.length; i += batch) {
      const part = seqs.slice(i, i + batch);
      const blobs = await this.redis.hmgetBuffer(key, ...part.map(String));
      for (let j = 0; j < part.length; j++) {
        const blob = blobs[j];
        if (blob) yield { seq: part[j], blob };
      }
    }
  }

  /**
   * Remembers that this content was reported by this upload. Returns false when another upload
   * of identical bytes was reported first (the caller must not report again).
   */
  async claimContent(dumpId: string, uploadId: string): Promise<boolean> {
    return (await this.contentHolder(dumpId, uploadId)) === uploadId;
  }

  /**
   * Claims the content for this upload unless another upload of identical bytes holds it, and
   * returns the upload that does (this one when it is first). Atomic: of two identical uploads at
   * once, both callers get the same answer. Ingest asks at upload time, detect at report time.
   */
  async contentHolder(dumpId: string, uploadId: string): Promise<string> {
    return this.redis.dsClaimContent(this.keys.reported(dumpId), assertId(uploadId), this.retention);
  }

  /**
   * Lets the content go if this upload holds it: an upload reported `incomplete` must not make a
   * later, whole copy of the same bytes a duplicate. True when it held it.
   */
  async releaseContent(dumpId: string, uploadId: string): Promise<boolean> {
    return (await this.redis.dsReleaseContent(this.keys.reported(dumpId), assertId(uploadId))) === 1;
  }

  /** Marks the upload reported (or dropped) and lets its facts go. False when the lease was lost. */
  async finish(lease: ReportLease, outcome: 'reported' | 'duplicate' | 'incomplete' | 'aborted'): Promise<boolean> {
    const ok = await this.redis.dsFinish(...this.three(lease.uploadId), lease.token, outcome, this.retention);
    await this.redis.zrem(this.keys.active(), lease.uploadId);
    return ok === 1;
  }

  /** Gives the lease back after a failed attempt. */
  async release(lease: ReportLease): Promise<void> {
    await this.redis.dsRelease(...this.three(lease.uploadId), lease.token);
  }

  /** Extends the lease by the lease time. False when it expired or another worker holds it now. */
  async renew(lease: ReportLease): Promise<boolean> {
    return (await this.redis.dsRenew(this.keys.state(lease.uploadId), lease.token, this.leaseMs)) === 1;
  }

  /**
   * Notes which message the lease holder publishes the report with (see `attempt`). False when
   * the lease is no longer held.
   */
  async recordAttempt(lease: ReportLease, attempt: string): Promise<boolean> {
    return (await this.redis.dsRecordAttempt(this.keys.meta(lease.uploadId), this.keys.state(lease.uploadId), lease.token, attempt, this.ttl)) === 1;
  }

  /** The last attempt recorded by a lease holder of this upload, or null. */
  async attempt(uploadId: string): Promise<string | null> {
    return this.redis.hget(this.keys.meta(uploadId), 'attempt');
  }

  /** Marks the upload active now: the sweeper looks at it again only after another idle period. */
  async markActive(uploadId: string): Promise<void> {
    await this.touch(uploadId);
  }

  /** Takes the upload off the sweeper's list (it is done). */
  async forget(uploadId: string): Promise<void> {
    await this.redis.zrem(this.keys.active(), uploadId);
  }

  /** Uploads with no activity for `idleMs`: candidates for an incomplete report. */
  async idle(idleMs: number, limit = 100): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.active(), 0, Date.now() - idleMs, 'LIMIT', 0, limit);
  }

  /** Takes the report of an upload that will not complete; null when it is taken or done. */
  async claimIncomplete(uploadId: string): Promise<ReportLease | null> {
    const token = randomUUID();
    const r = await this.redis.dsClaimIncomplete(...this.three(uploadId), token, this.leaseMs);
    if (r === 'claimed') return { uploadId, token };
    if (!r.startsWith('reporting')) await this.redis.zrem(this.keys.active(), uploadId);
    return null;
  }

  /** The upload's state: null (in flight), `reporting:…`, `reported`, `duplicate`, `incomplete`, `aborted`. */
  async state(uploadId: string): Promise<string | null> {
    return this.redis.get(this.keys.state(uploadId));
  }

  private async touch(uploadId: string): Promise<void> {
    await this.redis.zadd(this.keys.active(), Date.now(), uploadId);
  }
}
