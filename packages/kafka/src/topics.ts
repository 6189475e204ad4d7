/**
 * The pipeline's topics: names under one prefix, and their partition counts. Segments and facts
 * get many partitions (one huge dump's segments are parsed and merged in parallel); manifests
 * (one per upload: how many segments it has) go from ingest to detect; reports and alerts get few
 * partitions (they are small and read by people's tools); storms carries the fleet's storm events.
 */
export const TOPIC_KINDS = ['segments', 'manifests', 'facts', 'reports', 'alerts', 'deadLetters', 'storms'] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];

export interface TopicSpec {
  name: string;
  partitions: number;
  /** The topic's `max.message.bytes`: segments, facts and reports of huge dumps are large. */
  maxMessageBytes: number;
}

/** Largest message on the segments, facts, reports and dead-letter topics (compressed). */
export const LARGE_MESSAGE_BYTES = 64 * 1024 * 1024;

export type Topics = Record<TopicKind, TopicSpec>;

const SUFFIX: Record<TopicKind, string> = {
  segments: 'segments',
  manifests: 'manifests',
  facts: 'facts',
  reports: 'reports',
  alerts: 'alerts',
  deadLetters: 'dead-letters',
  storms: 'storms',
};

/** Topic names and partitions; `prefix` like `dumpstream.` (validated: Kafka's legal characters). */
export function topicsFor(prefix: string, partitions: Partial<Record<TopicKind, number>> = {}): Topics {
  if (!/^[A-Za-z0-9._-]{0,200}$/.test(prefix)) throw new RangeError(`bad topic prefix ${JSON.stringify(prefix)}: use letters, digits, . _ -`);
  // storms: one partition, so the storm events are one ordered log whose tail says what the
  // evaluator published last (docs/RELIABILITY.md, "Storm events").
  const defaults: Record<TopicKind, number> = { segments: 8, manifests: 4, facts: 8, reports: 2, alerts: 2, deadLetters: 1, storms: 1 };
  const out = {} as Topics;
  for (const k of TOPIC_KINDS) {
    const n = partitions[k] ?? defaults[k];
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new RangeError(`bad partition count for ${k}: ${n}`);
    const large = k === 'segments' || k === 'facts' || k === 'reports' || k === 'deadLetters';
    out[k] = { name: `${prefix}${SUFFIX[k]}`, partitions: n, maxMessageBytes: large ? LARGE_MESSAGE_BYTES : 1024 * 1024 };
  }
  return out;
}
