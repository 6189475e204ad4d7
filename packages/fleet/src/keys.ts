import { createHash } from 'node:crypto';

/**
 * Every Redis key of the fleet state, from one place (docs/DESIGN.md, "Redis keys").
 *
 * A signature's counts share the hash tag `{f:<hash>}` (sha256 of the signature, 16 hex digits:
 * signatures hold any character a symbol may, and can be long), so the script that counts a dump
 * touches one Redis Cluster slot. The storm statuses, the outbox of storm events and the
 * evaluator's lease share the tag `{storms}`: a transition and its event are written in one script.
 * The index of signatures is a key of its own (another slot), written before the count.
 */
export class FleetKeys {
  constructor(readonly prefix = 'ds') {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) throw new RangeError(`bad key prefix ${JSON.stringify(prefix)}`);
  }

  /** The hash tag of a signature's keys. */
  tag(signature: string): string {
    return `f:${createHash('sha256').update(signature).digest('hex').slice(0, 16)}`;
  }

  /** String, set if absent: this dump was counted under the signature (what makes a count exactly once). */
  seen(signature: string, dumpId: string): string {
    if (!/^[0-9A-Za-z_-]{1,128}$/.test(dumpId)) throw new RangeError(`not a dumpstream id: ${JSON.stringify(dumpId.slice(0, 80))}`);
    return `${this.prefix}:fleet:{${this.tag(signature)}}:seen:${dumpId}`;
  }

  /** Hash: 5-minute bucket number (ms since the epoch / bucket) → dumps in it, for the last day. */
  buckets(signature: string): string {
    return `${this.prefix}:fleet:{${this.tag(signature)}}:buckets`;
  }

  /** HyperLogLog: distinct hosts of the signature in one hour (hour number since the epoch). */
  hosts(signature: string, hour: number): string {
    return `${this.prefix}:fleet:{${this.tag(signature)}}:hosts:${hour}`;
  }

  /** Hash: signature, firstSeen, lastSeen, dumps, deepestChain, werFaults. */
  meta(signature: string): string {
    return `${this.prefix}:fleet:{${this.tag(signature)}}:meta`;
  }

  /** List: the latest few dumpIds of the signature, newest first. */
  examples(signature: string): string {
    return `${this.prefix}:fleet:{${this.tag(signature)}}:examples`;
  }

  /** Sorted set: signature → the report time of its latest dump (ms): what the evaluator reads. */
  signatures(): string {
    return `${this.prefix}:fleet:signatures`;
  }

  /** Hash: signature → its storm status (JSON), written by the evaluator only. */
  stormStatus(): string {
    return `${this.prefix}:fleet:{storms}:status`;
  }

  /** Sorted set: storm events not yet published, scored by their outbox number. */
  outbox(): string {
    return `${this.prefix}:fleet:{storms}:outbox`;
  }

  /** String: the last outbox number given out (never expires: the numbers only grow). */
  outboxCounter(): string {
    return `${this.prefix}:fleet:{storms}:outbox-n`;
  }

  /** String: `<token>` of the detect worker that evaluates storms now (a lease). */
  evaluatorLease(): string {
    return `${this.prefix}:fleet:{storms}:lease`;
  }
}
