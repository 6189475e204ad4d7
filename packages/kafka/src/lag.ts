import type { Admin, Consumer, Kafka } from 'kafkajs';

/** A partition's offsets as the admin client gives them (strings: Kafka offsets are 64-bit). */
export interface PartitionOffsets {
  partition: number;
  /** The log start offset. */
  low: string;
  /** The high watermark: the offset the next message will get. */
  high: string;
}

/**
 * Messages on `assigned` partitions that the group has not committed: per partition, the high
 * watermark minus the committed offset (minus the log start where nothing is committed, `-1`).
 * Pure; partitions missing from `offsets` count as 0.
 */
export function lagOf(assigned: readonly number[], offsets: readonly PartitionOffsets[], committed: readonly { partition: number; offset: string }[]): number {
  let lag = 0n;
  for (const p of assigned) {
    const o = offsets.find((x) => x.partition === p);
    if (!o) continue;
    const c = committed.find((x) => x.partition === p);
    const from = c === undefined || BigInt(c.offset) < 0n ? BigInt(o.low) : BigInt(c.offset);
    const n = BigInt(o.high) - from;
    if (n > 0n) lag += n;
  }
  return Number(lag);
}

/** What watchConsumerLag watches and where the numbers go. */
export interface ConsumerLagOptions {
  groupId: string;
  /** Full topic name → the name the lag is reported under (e.g. `dumpstream.facts` → `facts`). */
  topics: Record<string, string>;
  /** How often to look. Default 10 s. */
  everyMs?: number;
  /** Called after each look, for every topic (0 when none of its partitions is assigned here). */
  onLag(topic: string, messages: number): void;
  /** A look that failed (the next one tries again). */
  onError?(error: unknown): void;
}

/** A running lag watch. */
export interface ConsumerLagWatch {
  /** Looks now (also what the timer does); resolves when the numbers are reported. */
  check(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Reports the lag of the partitions `consumer` is assigned (learnt from its GROUP_JOIN events),
 * so that the sum over a group's workers is the group's lag. Every `everyMs` it asks the brokers
 * for the group's committed offsets and the topics' high watermarks (two small admin requests per
 * topic set), so a consumer that is stuck still shows its lag growing. Cheap: no per-message work.
 */
export function watchConsumerLag(kafka: Kafka, consumer: Consumer, options: ConsumerLagOptions): ConsumerLagWatch {
  let assignment: Record<string, number[]> = {};
  let admin: Admin | null = null;
  let inFlight: Promise<void> | null = null;
  let stopped = false;
  const removers = [
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      assignment = { ...e.payload.memberAssignment };
    }),
    consumer.on(consumer.events.STOP, () => {
      assignment = {};
    }),
  ];

  const look = async (): Promise<void> => {
    if (stopped) return;
    const mine = Object.keys(options.topics).filter((t) => (assignment[t] ?? []).length > 0);
    const lags = new Map<string, number>(Object.keys(options.topics).map((t) => [t, 0]));
    if (mine.length > 0) {
      if (admin === null) {
        const a = kafka.admin();
        await a.connect();
        admin = a;
      }
      const committed = await admin.fetchOffsets({ groupId: options.groupId, topics: mine });
      for (const topic of mine) {
        const offsets = await admin.fetchTopicOffsets(topic);
        lags.set(topic, lagOf(assignment[topic] ?? [], offsets, committed.find((c) => c.topic === topic)?.partitions ?? []));
      }
    }
    if (stopped) return;
    for (const [topic, n] of lags) options.onLag(options.topics[topic], n);
  };

  const check = (): Promise<void> => {
    inFlight ??= look()
      .catch((e: unknown) => options.onError?.(e))
      .finally(() => (inFlight = null));
    return inFlight;
  };
  const timer = setInterval(() => void check(), options.everyMs ?? 10_000);
  timer.unref();

  return {
    check,
    async stop() {
      stopped = true;
      clearInterval(timer);
      for (const remove of removers) remove();
      await inFlight;
      await (admin as Admin | null)?.disconnect().catch(() => undefined);
    },
  };
}
