/**
 * Fleet-wide storms in the detect service (README, "Fleet-wide storms"; docs/RELIABILITY.md,
 * "Storm events"):
 *
 * - every worker counts each dump it is about to report into the shared fleet state
 *   (recordReport, just before the report's transaction), once per dump whatever redelivers it;
 * - one worker at a time, the holder of a Redis lease, evaluates the storm rule over that state
 *   every STORM_EVALUATE_EVERY, writes each transition with its event to an outbox in Redis (one
 *   script, refused without the lease), and publishes the outbox to the `storms` topic;
 * - publishing is one Kafka transaction per batch, by one transactional producer shared by name
 *   between the workers (connected by the lease holder only: a new holder fences the old one),
 *   and each transaction also commits the batch's last outbox number as the offset of a consumer
 *   group of its own. A new holder reads that offset first and drops what it covers from the
 *   outbox, so a batch whose transaction committed just before its publisher died is not
 *   published again, and one that did not commit is.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { evaluateStorms, FleetState, reportSignature, topSignatures, type StormEvaluation, type StormEventRecord, type StormSettings } from '@dumpstream/fleet';
import type { Log, Topics } from '@dumpstream/kafka';
import type { StormMetrics } from '@dumpstream/metrics';
import type { Report } from '@dumpstream/report';
import type { Config } from '@dumpstream/runtime';
import { encodeStormEvent } from '@dumpstream/schemas';

/** Events published per Kafka transaction. */
const BATCH = 100;

export interface StormsDeps {
  config: Config;
  kafka: Kafka;
  admin: Admin;
  redis: Redis;
  topics: Topics;
  log: Log;
  metrics: StormMetrics;
  /** The fleet's clock (ms); tests pass a simulated one. Default Date.now. */
  clock?: () => number;
}

/** The storm side of one detect worker. */
export interface Storms {
  /** Counts a published report into the fleet state (reports with a finding, complete ones). */
  recordReport(report: Report, at: number): Promise<boolean>;
  /**
   * Evaluates and publishes now if this worker holds (or takes) the lease; null when another
   * worker holds it. Throws when Redis or Kafka fail (the timer logs and retries).
   */
  evaluate(): Promise<StormEvaluation | null>;
  /** Stops the timer, gives the lease back and disconnects the storm producer. */
  stop(): Promise<void>;
}

/** Consumer group whose committed offset on `storms` partition 0 is the last outbox number published. */
export function stormOutboxGroup(config: Config): string {
  return `${config.topicPrefix}storms-outbox`;
}

/** The transactional id of the storm producer: one for all workers, so that a new lease holder fences the old. */
export function stormTransactionalId(config: Config): string {
  return `${config.topicPrefix}detect-storms`;
}

/** Starts the storm side of a worker: the evaluation timer and the lease renewal. */
export function startStorms(deps: StormsDeps): Storms {
  const { config, kafka, admin, redis, topics, log, metrics } = deps;
  const clock = deps.clock ?? Date.now;
  const state = new FleetState(redis, { prefix: config.redisKeyPrefix });
  const { evaluateEveryMs, metricsTop, ...settings } = config.storms;
  const rule: StormSettings = settings;
  const token = `${config.workerId}:${randomUUID()}`;
  // The lease outlives a few renewals, so a busy event loop does not lose it; a dead holder is
  // replaced this long after it stops renewing.
  const leaseMs = config.detect.leaseMs;
  const group = stormOutboxGroup(config);
  let producer: Producer | null = null;
  let published = 0;
  let stopped = false;

  const lose = async (): Promise<void> => {
    metrics.hideFleet();
    const p = producer;
    producer = null;
    if (p) await p.disconnect().catch(() => undefined);
  };

  /** Outbox number the last committed transaction published (0: none yet). */
  const committedOutbox = async (): Promise<number> => {
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [topics.storms.name] });
    const o = t?.partitions.find((p) => p.partition === 0)?.offset ?? '-1';
    return /^\d+$/.test(o) ? Number(o) : 0;
  };

  const lead = async (): Promise<void> => {
    const p = kafka.producer({ transactionalId: stormTransactionalId(config), idempotent: true, maxInFlightRequests: 1 });
    // Connecting initialises the transactional id: the previous holder's producer is fenced and
    // its open transaction, if any, is aborted, so the offset read next is final.
    await p.connect();
    producer = p;
    published = await committedOutbox();
    await state.trimOutbox(published);
    log.info('storm evaluator: this worker evaluates storms now', { published });
  };

  const publish = async (): Promise<number> => {
    let sent = 0;
    for (;;) {
      const batch: StormEventRecord[] = await state.outbox(published, BATCH);
      if (batch.length === 0 || producer === null) return sent;
      const last = batch[batch.length - 1].n;
      const tx = await producer.transaction();
      try {
        await tx.send({
          topic: topics.storms.name,
          messages: batch.map((e) => ({ key: e.signature, value: encodeStormEvent(eventOf(e)), headers: { 'x-dumpstream-outbox': String(e.n) } })),
        });
        await tx.sendOffsets({ consumerGroupId: group, topics: [{ topic: topics.storms.name, partitions: [{ partition: 0, offset: String(last) }] }] });
        if (!(await state.takeLease(token, leaseMs))) throw new Error('lost the storm evaluator lease before publishing');
        await tx.commit();
      } catch (e) {
        await tx.abort().catch(() => undefined);
        throw e;
      }
      published = last;
      sent += batch.length;
      for (const e of batch) metrics.stormEvents.inc({ state: e.state });
      // After the commit: were this lost, the next holder's committedOutbox covers it.
      await state.trimOutbox(last);
    }
  };

  let running: Promise<StormEvaluation | null> | null = null;
  const evaluateOnce = async (): Promise<StormEvaluation | null> => {
    if (!(await state.takeLease(token, leaseMs))) {
      if (producer) {
        log.warn('storm evaluator: the lease went to another worker');
        await lose();
      }
      metrics.stormEvaluations.inc({ outcome: 'not-leader' });
      return null;
    }
    try {
      if (producer === null) await lead();
      // What an evaluator before this one wrote and did not publish goes out first, in order.
      await publish();
      const now = clock();
      const evaluation = await evaluateStorms(state, token, now, rule);
      if (!evaluation.committed) {
        metrics.stormEvaluations.inc({ outcome: 'lost-lease' });
        await lose();
        return null;
      }
      await publish();
      metrics.showFleet(evaluation.signatures.filter((s) => s.storming).length, topSignatures(evaluation, metricsTop), now);
      metrics.stormEvaluations.inc({ outcome: 'ok' });
      for (const t of evaluation.transitions) if (t.event) log.info(`storm ${t.event.state}`, { signature: t.signature, seq: t.event.seq, dumpsInWindow: t.event.dumpsInWindow, hostsInWindow: t.event.hostsInWindow });
      return evaluation;
    } catch (e) {
      metrics.stormEvaluations.inc({ outcome: 'failed' });
      // A producer in doubt (fenced, a failed commit) is replaced: the next holder starts clean.
      await lose();
      throw e;
    }
  };
  const evaluate = (): Promise<StormEvaluation | null> => {
    // One evaluation at a time in a worker: the timer and a test's call must not interleave.
    const run = (running ?? Promise.resolve(null)).catch(() => null).then(evaluateOnce);
    running = run;
    return run;
  };

  const timer = setInterval(() => {
    if (stopped) return;
    evaluate().catch((e: unknown) => log.warn('storm evaluation failed; will retry', { error: e }));
  }, evaluateEveryMs);
  timer.unref();
  // Renewed between evaluations too, so that a long STORM_EVALUATE_EVERY keeps one evaluator.
  const renewal = setInterval(() => {
    if (producer !== null && !stopped) void state.takeLease(token, leaseMs).then((held) => (held ? undefined : lose())).catch(() => undefined);
  }, Math.max(500, Math.floor(leaseMs / 3)));
  renewal.unref();

  return {
    async recordReport(report, at) {
      const signature = reportSignature(report);
      const f = report.findings[0];
      if (signature === null || f === undefined || report.status !== 'complete') return false;
      const counted = await state.record(
        { signature, dumpId: report.dumpId, host: report.host, at, deepestChain: Math.max(0, ...f.chains.map((c) => c.length)), werFaults: f.werFaultProcesses },
        clock(),
      );
      metrics.fleetDumps.inc({ outcome: counted ? 'counted' : 'seen' });
      return counted;
    },
    evaluate,
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearInterval(renewal);
      await running?.catch(() => undefined);
      if (producer !== null) await state.dropLease(token).catch(() => undefined);
      await lose();
    },
  };
}

function eventOf(e: StormEventRecord) {
  return {
    signature: e.signature,
    state: e.state,
    seq: e.seq,
    at: e.at,
    since: e.since,
    lastSeen: e.lastSeen,
    dumpsInWindow: e.dumpsInWindow,
    hostsInWindow: e.hostsInWindow,
    windowMs: e.windowMs,
    reason: e.reason,
    examples: e.examples,
    deepestChain: e.deepestChain,
    werFaults: e.werFaults,
  };
}
