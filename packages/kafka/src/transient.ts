import type { Log } from './client';

/**
 * Errors kafkajs logs while a healthy cluster settles, and retries by itself: topics created by
 * two services at once, a group coordinator still loading after a broker start, a leader being
 * elected. Every service start on a fresh broker logs a few; they are news only when they last.
 */
const SETTLING = [
  /Topic creation errors/i,
  /group coordinator is not available/i,
  /coordinator is loading/i,
  /not the correct coordinator/i,
  /no leader for this topic-partition/i,
  // NOT_LEADER_OR_FOLLOWER: metadata a moment old while a new topic's leaders are assigned.
  /not the leader for that topic-partition/i,
  /leadership election/i,
  // UNKNOWN_MEMBER_ID: a heartbeat that raced a rebalance while the group's members were joining
  // (services started together, a busy machine); kafkajs re-joins the group by itself.
  /coordinator is not aware of this member/i,
];

/** How long an error must keep coming back before it is a warning. */
export const PERSIST_MS = 30_000;

/**
 * Routes kafkajs's warnings: a settling error goes to debug until it has been coming back for
 * `persistMs` (then one warning, saying for how long, and at most one per `persistMs` after);
 * any other error is a warning at once.
 */
export class KafkaWarnings {
  private readonly seen = new Map<string, { first: number; last: number; warned: number }>();

  constructor(
    private readonly log: Log,
    private readonly persistMs = PERSIST_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs one kafkajs error entry. */
  warn(message: string, fields: Record<string, unknown>): void {
    const error = typeof fields.error === 'string' ? fields.error : '';
    if (!SETTLING.some((re) => re.test(error))) return this.log.warn(message, fields);
    const t = this.now();
    let s = this.seen.get(error);
    // A quiet spell as long as the persistence window ends the episode.
    if (s === undefined || t - s.last >= this.persistMs) {
      s = { first: t, last: t, warned: 0 };
      this.seen.set(error, s);
    }
    s.last = t;
    if (t - s.first >= this.persistMs && t - s.warned >= this.persistMs) {
      s.warned = t;
      this.log.warn(`${message} (still, after ${Math.round((t - s.first) / 1000)} s)`, fields);
    } else {
      this.log.debug(message, fields);
    }
  }
}
