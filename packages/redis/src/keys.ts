/**
 * Every Redis key dumpstream uses, from one place. All keys of one upload share the hash tag
 * `{<uploadId>}`, and those of one transcript's content `{<dumpId>}`, so that the multi-key
 * scripts run on one Redis Cluster slot.
 */

/** Upload ids and dump ids are generated or hashed by dumpstream; anything else is refused. */
const ID = /^[0-9a-f]{8,64}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Throws on an id that could inject into a key (a `}` or `:` from hostile input, say). */
export function assertId(id: string): string {
  if (!ID.test(id)) throw new RangeError(`not a dumpstream id: ${JSON.stringify(id.slice(0, 80))}`);
  return id;
}

/** The keys of one upload in flight, and of one transcript's content. */
export class DumpKeys {
  constructor(readonly prefix = 'ds') {
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(prefix)) throw new RangeError(`bad key prefix ${JSON.stringify(prefix)}`);
  }

  /** Hash: the upload's manifest (segments, dumpId, source, host, status, …). */
  meta(uploadId: string): string {
    return `${this.prefix}:{${assertId(uploadId)}}:meta`;
  }

  /** Hash: segment number → encoded facts of that segment. */
  facts(uploadId: string): string {
    return `${this.prefix}:{${assertId(uploadId)}}:facts`;
  }

  /** String: who is reporting the upload (a lease), or that it is done (`reported:…`). */
  state(uploadId: string): string {
    return `${this.prefix}:{${assertId(uploadId)}}:state`;
  }

  /** String: the upload that reported this content first; identical bytes later are duplicates. */
  reported(dumpId: string): string {
    return `${this.prefix}:{${assertId(dumpId)}}:reported`;
  }

  /** Hash: a report kept for the look-up API: its summary (JSON), its state, the gzip of its Avro bytes. */
  report(dumpId: string): string {
    return `${this.prefix}:{${assertId(dumpId)}}:report`;
  }

  /** Sorted set: kept reports' dumpIds by report time (ms). */
  reportsByTime(): string {
    return `${this.prefix}:reports:time`;
  }

  /**
   * Sorted set: kept reports' dumpIds of one host by report time. The host is percent-encoded:
   * it comes from uploaders, and a `{` in it would move the key's Cluster slot.
   */
  reportsByHost(host: string): string {
    return `${this.prefix}:reports:host:${encodeURIComponent(host)}`;
  }

  /** Sorted set: kept reports' dumpIds of one signature by report time (signatures hold `!`, `:`, `<>`: encoded too). */
  reportsBySignature(signature: string): string {
    return `${this.prefix}:reports:sig:${encodeURIComponent(signature)}`;
  }

  /** Sorted set: the host and signature index keys by their newest entry (ms), so that trimming finds them without SCAN. */
  reportIndexes(): string {
    return `${this.prefix}:reports:indexes`;
  }

  /** Sorted set: uploads in flight by last activity (ms), for the incomplete-dump sweeper. */
  active(): string {
    return `${this.prefix}:active`;
  }
}
