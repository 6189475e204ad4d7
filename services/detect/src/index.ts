/**
 * The detect service: consumes `facts` and `manifests`, merges them into each upload's partial
 * graph in Redis (atomic, idempotent), and reports each upload, with its alert, exactly once:
 *
 * - the merge that completes an upload takes a lease in Redis (one worker wins) and puts a report
 *   request on `facts`, keyed by the upload, so that it lands on the partition of the upload's
 *   facts (see REPORT_REQUEST_HEADER); the worker that consumes the request reports, mostly from
 *   the facts it merged and still holds (FactsCache);
 * - the report, the alert and the request's offset are published in one Kafka transaction, so a
 *   crash before the commit leaves no visible report and redelivers the request;
 * - identical bytes uploaded again are recognised by their content hash and not reported twice;
 * - uploads that stop making progress are reported as incomplete after a timeout: the sweeper
 *   puts a report request (`idle`) on `facts` the same way, so that every report is
 *   published with the offset of the message that asked for it;
 * - a worker taking over a report after a crash first checks whether the dead worker's
 *   transaction went through (the offset of the message it noted is committed) and then does
 *   not publish again.
 */
import Redis from 'ioredis';
import type { Consumer, EachBatchPayload, EachMessagePayload, Producer } from 'kafkajs';
import { atLeastOnceProducer, compressionFor, createKafka, ensureTopics, isMessageTooLarge, sessionTimeoutFor, topicsFor, watchConsumerLag, type Log } from '@dumpstream/kafka';
import { detectMetrics, serviceRegistry, stormMetrics } from '@dumpstream/metrics';
import { DumpStore, type Completion, type ReportLease } from '@dumpstream/redis';
import { consumerTimeouts, createLog, startHealthServer, type Config } from '@dumpstream/runtime';
import { deadLetterHeaders, decodeDumpManifest, decodeFacts, encodeAlert, encodeReport, isSchemaError } from '@dumpstream/schemas';
import type { Registry } from 'prom-client';
import { reportKeeper } from './keep';
import { FactsCache } from './factsCache';
import { buildOutcome, faultRootsOf, trimReport } from './reporter';
import { startStorms, type Storms } from './storms';

export { buildOutcome, alertOf, faultRootsOf, trimReport } from './reporter';
export { startStorms, stormOutboxGroup, stormTransactionalId } from './storms';
export type { Storms, StormsDeps } from './storms';

export interface DetectHandle {
  healthPort: number | null;
  ready(): boolean;
  /** Runs one incomplete-dump sweep now (tests; the service also sweeps on a timer). */
  sweep(): Promise<number>;
  /** Evaluates fleet storms now if this worker holds the evaluator lease (tests; also on a timer). */
  evaluateStorms: Storms['evaluate'];
  stop(): Promise<void>;
}

export interface DetectOptions {
  log?: Log;
  registry?: Registry;
  /** How often the consumer lag metric is refreshed. Default 10 s. */
  lagEveryMs?: number;
  /** Called when the consumer stops for good (a non-retriable error); the CLI exits so a supervisor restarts it. */
  onFatal?: (error: Error) => void;
  /** The storm rule's clock (ms). Default Date.now; tests drive a simulated one. */
  clock?: () => number;
}

/** Consumer group of the detect workers, under the topic prefix. */
export function detectGroup(config: Config): string {
  return `${config.topicPrefix}detect`;
}

/** `uploadId:seq` from a facts message's key; null when the key is not that (then the value is decoded). */
function factsKey(key: Buffer | null): { uploadId: string; seq: number } | null {
  if (key === null) return null;
  const k = key.toString('latin1');
  const colon = k.lastIndexOf(':');
  if (colon <= 0) return null;
  const seq = Number(k.slice(colon + 1));
  return Number.isSafeInteger(seq) && seq >= 0 ? { uploadId: k.slice(0, colon), seq } : null;
}

type Merged = { completion: Completion; lease: ReportLease | null };

/**
 * A message on `facts` with this header is a report request for the upload in its key; the
 * worker that consumes it reports the upload under a lease, unless another worker is at it or it
 * is done. Its value is ignored; the header's value says why:
 *
 * - `complete`: a merge completed the upload (the manifest and every segment are in). The worker
 *   whose merge completes an upload does not report it itself: the last merge of an upload tends
 *   to fall to the busiest worker (its merges lag behind its reports), so that worker would take
 *   every report while the others idle. A request keyed by the upload goes to the upload's
 *   partition of `facts` (parse puts all of an upload's facts on one: ByUploadPartitioner), so
 *   reports spread over the workers by upload, and each goes to the worker that merged the
 *   upload's facts and holds them.
 * - `idle`: the sweeper found the upload made no progress for DETECT_INCOMPLETE_AFTER: report it
 *   with what there is.
 */
export const REPORT_REQUEST_HEADER = 'x-dumpstream-report';
export type ReportRequest = 'complete' | 'idle';

/** The header sweep requests had before report requests (read as `idle`, for messages of older workers). */
export const SWEEP_HEADER = 'x-dumpstream-sweep';

/**
 * Why a message asks for a report, or null for facts or a manifest. (Workers before requests went
 * on `facts` put them on `manifests`: those are still honoured.)
 */
function reportRequestOf(headers: EachMessagePayload['message']['headers']): ReportRequest | null {
  const v = headers?.[REPORT_REQUEST_HEADER];
  if (v !== undefined) return String(v) === 'complete' ? 'complete' : 'idle';
  return headers?.[SWEEP_HEADER] !== undefined ? 'idle' : null;
}

interface Trigger {
  topic: string;
  partition: number;
  offset: string;
}

/** Starts a detect worker. Resolves once it is consuming. */
export async function startDetect(config: Config, options: DetectOptions = {}): Promise<DetectHandle> {
  const log = options.log ?? createLog('detect', config.logLevel);
  const registry = options.registry ?? serviceRegistry('detect');
  const metrics = detectMetrics(registry, { labelCap: config.metricsLabelCap });
  const topics = topicsFor(config.topicPrefix, { segments: config.partitions, facts: config.partitions });
  const group = detectGroup(config);

  // Commands wait (queued) while Redis is away and run when it is back: a Redis outage delays
  // merges, it does not fail them.
  const redis = new Redis(config.redisUrl, {
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (n) => Math.min(100 * 2 ** n, 2000),
    ...(config.redisTls ? { tls: {} } : {}),
  });
  let redisUp = false;
  redis.on('ready', () => (redisUp = true));
  redis.on('error', (e) => {
    if (redisUp) log.warn('redis connection lost: commands wait until it is back', { error: e });
    redisUp = false;
    metrics.redisErrors.inc({ operation: 'connection' });
  });
  redis.on('end', () => (redisUp = false));
  const store = new DumpStore(redis, { prefix: config.redisKeyPrefix, leaseMs: config.detect.leaseMs });
  const keeper = reportKeeper(redis, config, log);
  const cache = new FactsCache(config.detect.factsCacheBytes);
  /** Merges a segment's facts; the worker keeps those it stored itself, to report from (FactsCache). */
  const mergeFacts = async (uploadId: string, seq: number, blob: Buffer): Promise<Merged> => {
    const merged = await store.mergeFacts(uploadId, seq, blob);
    if (merged.added) cache.put(uploadId, seq, blob);
    return merged;
  };

  const kafka = createKafka({ ...config.kafka, clientId: `${config.kafka.clientId}-detect` }, log);
  await ensureTopics(kafka, topics);
  // Reports, alerts and offsets: one transaction at a time (see `serially`).
  const producer: Producer = kafka.producer({ transactionalId: `${config.topicPrefix}detect-${config.workerId}`, idempotent: true, maxInFlightRequests: 1 });
  // Dead letters and report requests, sent from any partition's handler and the sweeper at once:
  // not through the transactional producer's idempotent sends (see atLeastOnceProducer).
  const plain: Producer = atLeastOnceProducer(kafka);
  const consumer: Consumer = kafka.consumer({ groupId: group, ...consumerTimeouts({ sessionTimeoutMs: await sessionTimeoutFor(kafka, config.sessionTimeoutMs, log) }), maxBytes: 16 * 1024 * 1024 });
  let joined = false;
  let stopping = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  consumer.on(consumer.events.CRASH, (e) => {
    joined = false;
    metrics.kafkaErrors.inc({ operation: 'consume' });
    log.error('consumer crashed', { error: e.payload.error, restart: e.payload.restart });
    if (!e.payload.restart && !stopping) options.onFatal?.(e.payload.error);
  });

  // One transaction at a time per producer: reports are serialised through this chain.
  let txChain: Promise<unknown> = Promise.resolve();
  const serially = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = txChain.then(fn, fn);
    txChain = run.catch(() => undefined);
    return run;
  };

  /**
   * Offsets handled and not yet committed, per partition: committed once at the end of each batch
   * (one request, not one per message). A report's transaction commits its own message's offset,
   * which passes every one noted before it on that partition.
   */
  const handled = new Map<string, Trigger>();
  const partitionOf = (t: { topic: string; partition: number }) => `${t.topic}|${t.partition}`;
  const commit = async (t: Trigger): Promise<void> => {
    handled.set(partitionOf(t), t);
  };
  const commitHandled = async (t: { topic: string; partition: number }): Promise<void> => {
    const h = handled.get(partitionOf(t));
    if (h === undefined) return;
    await consumer.commitOffsets([{ topic: h.topic, partition: h.partition, offset: (BigInt(h.offset) + 1n).toString() }]);
    if (handled.get(partitionOf(t)) === h) handled.delete(partitionOf(t));
  };

  const admin = kafka.admin();
  const attemptOf = (t: Trigger) => `${t.topic}|${t.partition}|${t.offset}`;
  /**
   * Whether the group's committed offset has passed the message an attempt noted. Only a report's
   * transaction commits past a message whose upload is being reported (other workers wait, see
   * mergeSettled), so this says the attempt's report went out.
   */
  const committedPast = async (attempt: string): Promise<boolean> => {
    const [topic, partition, offset] = attempt.split('|');
    const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const p = offsets.find((t) => t.topic === topic)?.partitions.find((x) => x.partition === Number(partition));
    return p !== undefined && /^\d+$/.test(p.offset) && BigInt(p.offset) > BigInt(offset);
  };

  /**
   * Reports an upload under a lease; publishes and commits `trigger` atomically. The lease is
   * renewed while the report waits its turn and is built, so a live reporter keeps it; it is
   * checked once more just before the commit (a reporter that lost it aborts instead).
   */
  const report = async (lease: ReportLease, trigger: Trigger, expectWhole: boolean, heartbeat: () => Promise<void>): Promise<void> => {
    // Heartbeats too: with a short session timeout, a long report must not look like a dead worker.
    const renewal = setInterval(() => {
      void store.renew(lease).catch(() => undefined);
      void heartbeat().catch(() => undefined);
    }, Math.max(500, Math.floor(config.detect.leaseMs / 3)));
    try {
      await reportLeased(lease, trigger, expectWhole);
    } finally {
      clearInterval(renewal);
      // Reported, or to be tried again (then read from Redis): either way no longer held here.
      cache.drop(lease.uploadId);
    }
  };

  const reportLeased = (lease: ReportLease, trigger: Trigger, expectWhole: boolean): Promise<void> =>
    serially(async () => {
      const t0 = process.hrtime.bigint();
      // A takeover: the worker before us may have died after its transaction committed and before
      // it marked the upload reported. Then its report is out: do not publish it again.
      const prior = await store.attempt(lease.uploadId);
      if (prior !== null && (await committedPast(prior))) {
        // It kept its report for the look-up before that transaction (see below), so there is nothing to redo.
        await commit(trigger);
        await store.finish(lease, 'reported');
        log.info('the report went out before its reporter stopped: not published again', { uploadId: lease.uploadId, attempt: prior });
        return;
      }
      let outcome;
      try {
        outcome = await buildOutcome(store, lease, expectWhole, { maxFacts: config.detect.maxFacts ?? undefined }, cache);
        metrics.factsRead.inc({ from: 'memory' }, outcome.factsFrom.memory);
        metrics.factsRead.inc({ from: 'redis' }, outcome.factsFrom.redis);
      } catch (e) {
        metrics.dumpsAnalysed.inc({ outcome: 'failed' });
        await store.release(lease);
        throw e;
      }
      const { report: r, alert, manifest } = outcome;
      const incomplete = r.status === 'incomplete';
      // The sweeper asks only for uploads that made no progress: one that is whole had its
      // `complete` report request lost or dropped, a bug (it waited DETECT_INCOMPLETE_AFTER).
      if (!expectWhole && !incomplete) log.warn('a whole upload waited for the sweeper: its report request was lost', { uploadId: lease.uploadId, dumpId: r.dumpId });
      if (outcome.segmentsMerged === 0 && manifest === null && !expectWhole) {
        // Nothing left of it (a stale sweep request): nothing to report. A `complete` request that
        // finds nothing goes on: the upload was whole when its merge asked, so Redis lost all of it
        // since (flushed, evicted), and it is reported incomplete by its upload id, not dropped
        // without a word (test/faults/redis-flush: 7 of 40 dumps went that way on containers).
        await commit(trigger);
        await store.finish(lease, 'incomplete');
        return;
      }
      metrics.stageDuration.observe({ stage: 'detect' }, Number(process.hrtime.bigint() - t0) / 1e9);
      if (!incomplete && !(await store.claimContent(r.dumpId, lease.uploadId))) {
        await commit(trigger);
        await store.finish(lease, 'duplicate');
        metrics.dumpsAnalysed.inc({ outcome: 'duplicate' });
        log.info('identical transcript reported before: not reported again', { dumpId: r.dumpId, uploadId: lease.uploadId });
        return;
      }
      // Noted before the transaction: whoever takes over can tell whether it committed.
      if (!(await store.recordAttempt(lease, attemptOf(trigger)))) throw new Error(`lost the lease on upload ${lease.uploadId} before publishing its report`);
      // Counted into the fleet's storms before the transaction, not after: counting is idempotent
      // per dump (a marker set if absent), and every dump that gets this far is reported by this
      // worker or by the one that takes it over, so a crash after the commit cannot leave a
      // reported dump uncounted. A failure here is retried like any Redis error.
      try {
        await storms.recordReport(r, manifest?.receivedAt ?? Date.now());
      } catch (e) {
        await store.release(lease);
        throw e;
      }
      // Kept for the look-up before the transaction too, for the same reason: a crash after the
      // commit would otherwise leave a published report that the look-up never shows (the trigger
      // is committed, so nothing would ask for it again). Keeping is idempotent per dump.
      const encoded = encodeReport(r, outcome.frameTexts ?? undefined);
      try {
        await keeper.keep(r, encoded, manifest, () => encodeReport(trimReport(r, 'frames', outcome.frames)));
      } catch (e) {
        await store.release(lease);
        throw e;
      }
      const publish = async (value: Buffer) => {
        const tx = await producer.transaction();
        try {
          await tx.send({ topic: topics.reports.name, compression: compressionFor(value.length), messages: [{ key: r.dumpId, value }] });
          if (alert) await tx.send({ topic: topics.alerts.name, messages: [{ key: r.dumpId, value: encodeAlert(alert) }] });
          await tx.sendOffsets({
            consumerGroupId: group,
            topics: [{ topic: trigger.topic, partitions: [{ partition: trigger.partition, offset: (BigInt(trigger.offset) + 1n).toString() }] }],
          });
          // Fencing: a reporter that lost its lease (paused past it, say) must not publish too.
          if (!(await store.renew(lease))) throw new Error(`lost the lease on upload ${lease.uploadId} before committing its report`);
          await tx.commit();
          handled.delete(partitionOf(trigger));
        } catch (e) {
          await tx.abort().catch(() => undefined);
          throw e;
        }
      };
      try {
        try {
          await publish(encoded);
        } catch (e) {
          if (!isMessageTooLarge(e)) throw e;
          log.warn('report too large for the reports topic: publishing it without frames', { dumpId: r.dumpId });
          try {
            const trimmed = trimReport(r, 'frames', outcome.frames);
            await publish(encodeReport(trimmed));
          } catch (e2) {
            if (!isMessageTooLarge(e2)) throw e2;
            // Else the message would be retried for ever, and its partition with it.
            log.warn('report too large for the reports topic even without frames: publishing its findings only', { dumpId: r.dumpId });
            const trimmed = trimReport(r, 'findings', outcome.frames);
            await publish(encodeReport(trimmed));
          }
        }
      } catch (e) {
        await store.release(lease);
        metrics.kafkaErrors.inc({ operation: 'publish' });
        throw e;
      }
      await store.finish(lease, incomplete ? 'incomplete' : 'reported');
      // Ingest claimed the content when it answered the upload: a whole copy sent later must be
      // reported, not dropped as a duplicate of this partial one.
      if (incomplete && manifest) await store.releaseContent(manifest.dumpId, lease.uploadId);
      metrics.dumpsAnalysed.inc({ outcome: incomplete ? 'incomplete' : 'complete' });
      for (const f of r.findings) {
        metrics.findings.inc({ pattern: f.pattern, severity: f.severity });
        for (const c of f.chains) metrics.chainLength.observe(c.length);
      }
      for (const image of faultRootsOf(r)) metrics.countFault(image, r.host);
      metrics.werFaultProcesses.observe(r.findings[0]?.werFaultProcesses ?? r.processes.filter((p) => /werfault\.exe$/i.test(p.image ?? '')).length);
      if (manifest) metrics.uploadToReport.observe(Math.max(0, Date.now() - manifest.receivedAt) / 1000);
      metrics.stageDuration.observe({ stage: 'publish' }, Number(process.hrtime.bigint() - t0) / 1e9);
      log.info(incomplete ? 'incomplete dump reported' : 'dump reported', { dumpId: r.dumpId, uploadId: lease.uploadId, findings: r.findings.length, severity: r.findings[0]?.severity ?? null });
    });

  const deadLetter = async ({ topic, partition, message }: EachMessagePayload, reason: string, code: string) => {
    await plain.send({
      topic: topics.deadLetters.name,
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers: deadLetterHeaders({ reason, errorCode: code, sourceTopic: topic, sourcePartition: partition, sourceOffset: message.offset, service: 'detect', failedAt: Date.now() }) }],
    });
    metrics.deadLetters.inc({ topic: topic === topics.facts.name ? 'facts' : 'manifests', reason: code });
    log.warn('message dead-lettered', { topic, partition, offset: message.offset, reason });
  };

  /**
   * Merges until the upload is not `claimed` by another worker. Its offset must not be committed
   * while another holds the lease: if that worker died, this message may be the one its report
   * would have committed, and committing it here would leave the dump unreported. So it waits
   * for the holder to finish, or for its lease to lapse and then takes over (the merge is
   * idempotent: the same call again takes the lease once it is free).
   */
  const mergeSettled = async (merge: () => Promise<Merged>, payload: EachMessagePayload, early?: Promise<Merged>): Promise<Merged> => {
    let merged = await (early ?? merge());
    while (merged.completion === 'claimed') {
      if (stopping) throw new Error('stopping: the message is left to the next owner of its partition');
      await new Promise((r) => setTimeout(r, Math.min(1000, Math.floor(config.detect.leaseMs / 4))));
      await payload.heartbeat();
      merged = await merge();
    }
    return merged;
  };

  /**
   * Asks for the report of an upload this worker's merge completed (see REPORT_REQUEST_HEADER),
   * then gives back the lease the merge took, so that the request's consumer can claim it at once.
   * The request is durable (all replicas) before the completing message's offset is committed; a
   * crash before that redelivers the message, whose merge completes the upload again.
   */
  const requestReport = async (lease: ReportLease): Promise<number | null> => {
    try {
      const [sent] = await plain.send({ topic: topics.facts.name, acks: -1, messages: [{ key: lease.uploadId, value: Buffer.from('report'), headers: { [REPORT_REQUEST_HEADER]: 'complete' satisfies ReportRequest } }] });
      return sent?.partition ?? null;
    } finally {
      await store.release(lease);
    }
  };

  /** A report request: report the upload (with what there is), unless another worker is at it or it is done. */
  const handleReportRequest = async (payload: EachMessagePayload, trigger: Trigger, why: ReportRequest): Promise<void> => {
    const uploadId = payload.message.key?.toString('latin1') ?? '';
    let lease: ReportLease | null;
    try {
      for (;;) {
        lease = await store.claimIncomplete(uploadId);
        if (lease) break;
        const state = await store.state(uploadId);
        // No state now, though the claim found one: the holder gave its lease back in between (as
        // the merge that sent a `complete` request does just after sending it). Claim again;
        // taking this for "done" left the upload unreported until the sweeper's timeout.
        if (state === null) continue;
        if (!state.startsWith('reporting')) break;
        // Another worker reports it, or died doing so: wait for it to finish or for its lease to lapse.
        if (stopping) throw new Error('stopping: the report request is left to the next owner of its partition');
        await new Promise((r) => setTimeout(r, Math.min(1000, Math.floor(config.detect.leaseMs / 4))));
        await payload.heartbeat();
      }
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      await deadLetter(payload, e.message, 'INVALID_ID');
      return commit(trigger);
    }
    if (lease) await report(lease, trigger, why === 'complete', payload.heartbeat);
    else await commit(trigger);
  };

  /**
   * What a batch of `facts` has asked for so far: the uploads whose `complete` request its merges
   * sent to this very partition. Such a request is durable and comes after every message of the
   * batch, so a later message of the same upload (a redelivery, a replay: its merge completes the
   * upload again) needs no request of its own, and no wait for a lease either: whoever holds it
   * (often this batch's own early merge of a later copy), the request reports the upload.
   * Waiting there cost a lease poll (1 s) per duplicate message, and sent one request each: a
   * replayed large dump held its partition for many minutes (test/faults/replay).
   */
  type BatchState = { requestSent: Set<string> };

  const handle = async (payload: EachMessagePayload, early?: Promise<Merged>, batchState?: BatchState): Promise<void> => {
    const { topic, partition, message } = payload;
    const trigger: Trigger = { topic, partition, offset: message.offset };
    if (message.value === null) return commit(trigger);
    const request = reportRequestOf(message.headers);
    if (request !== null) return handleReportRequest(payload, trigger, request);
    const t0 = process.hrtime.bigint();
    let merged;
    let uploadId: string | null = null; // of facts
    try {
      if (topic === topics.facts.name) {
        // The key says whose facts these are (`uploadId:seq`, as parse writes it), so the merge
        // needs no decoding: the raw bytes are stored and decoded once, by the reporter.
        const where = factsKey(message.key) ?? (() => {
          const f = decodeFacts(message.value!);
          return { uploadId: f.uploadId, seq: f.segment };
        })();
        if (batchState?.requestSent.has(where.uploadId)) {
          // Stored (the merge is HSETNX; a `claimed` one stores too); the request already sent reports it.
          const again = await (early ?? mergeFacts(where.uploadId, where.seq, message.value!));
          if (again.lease) await store.release(again.lease);
          merged = { completion: again.completion, lease: null };
        } else {
          uploadId = where.uploadId;
          merged = await mergeSettled(() => mergeFacts(where.uploadId, where.seq, message.value!), payload, early);
        }
      } else {
        const m = decodeDumpManifest(message.value);
        merged = await mergeSettled(() => store.recordManifest(m.uploadId, { segments: m.segments, dumpId: m.dumpId, source: m.source, host: m.host, lines: m.lines, bytes: m.bytes, receivedAt: m.receivedAt, status: m.status }), payload);
        if (merged.completion === 'aborted') {
          metrics.dumpsAnalysed.inc({ outcome: 'aborted' });
          log.info('upload aborted by ingest: dropped', { uploadId: m.uploadId, reason: m.reason });
        }
      }
    } catch (e) {
      if (isSchemaError(e) || e instanceof RangeError) {
        await deadLetter(payload, (e as Error).message, isSchemaError(e) ? e.code : 'INVALID_ID');
        return commit(trigger);
      }
      metrics.redisErrors.inc({ operation: 'merge' });
      throw e; // transient (Redis, Kafka): kafkajs retries the message with backoff
    }
    metrics.stageDuration.observe({ stage: 'merge' }, Number(process.hrtime.bigint() - t0) / 1e9);
    if (merged.lease) {
      const to = await requestReport(merged.lease);
      if (uploadId !== null && to === partition) batchState?.requestSent.add(uploadId);
    }
    return commit(trigger);
  };

  /**
   * One fetched batch of a partition. The merges of its facts are sent to Redis at once (one round
   * trip, pipelined), then every message is handled in order as `handle` says, and the offsets
   * handled are committed once at the end. A merge started early is only the first try of that
   * message's merge: its result is used in order, and a `claimed` one is merged again.
   */
  const handleBatch = async ({ batch, resolveOffset, heartbeat, pause, isRunning, isStale }: EachBatchPayload): Promise<void> => {
    const { topic, partition } = batch;
    const early = new Map<string, Promise<Merged>>();
    const batchState: BatchState = { requestSent: new Set() };
    if (topic === topics.facts.name) {
      // Uploads with a request earlier in the batch: their later facts merge in their turn. Merged
      // early, the one that completed the upload would hold the lease the request's report waits
      // for, until it lapsed (a sweep request, then the upload's last facts).
      const requestedEarlier = new Set<string>();
      for (const message of batch.messages) {
        if (reportRequestOf(message.headers) !== null) {
          requestedEarlier.add(message.key?.toString('latin1') ?? '');
          continue;
        }
        const where = message.value === null ? null : factsKey(message.key);
        if (where === null || requestedEarlier.has(where.uploadId)) continue;
        const p = mergeFacts(where.uploadId, where.seq, message.value!);
        p.catch(() => undefined); // its failure is seen when the message's turn comes
        early.set(message.offset, p);
      }
    }
    try {
      for (const message of batch.messages) {
        if (!isRunning() || isStale()) break;
        await handle({ topic, partition, message, heartbeat, pause }, early.get(message.offset), batchState);
        // The next fetch starts after it (committing is ours: commitHandled, or the report's transaction).
        resolveOffset(message.offset);
        await heartbeat();
      }
      await commitHandled({ topic, partition });
    } finally {
      // A lease taken by an early merge whose message was not handled (an error, a stop) is given
      // back, so that whoever handles the message next takes it at once. (For a message handled,
      // its report ended the lease already: giving it back then does nothing.)
      for (const p of early.values()) void p.then((m) => (m.lease ? store.release(m.lease) : undefined)).catch(() => undefined);
    }
  };

  /**
   * The time before which everything produced to `segments` and `manifests` has been parsed and
   * merged: a round takes the high watermarks of segments and manifests, waits until the parse
   * group has committed past those of segments, then takes those of facts, and waits until this
   * group has committed past them and those of manifests. An upload with no merge since then has
   * nothing of its own left in Kafka; one with a merge later may (the pipeline is behind: a
   * rebalance after a crash, a parse or detect outage, a backlog).
   */
  let drainedBefore = 0;
  let round: { at: number; stage: 'parse' | 'detect'; segments: Offsets; manifests: Offsets; facts: Offsets } | null = null;
  type Offsets = { partition: number; high: string; low: string }[];
  const caughtUp = async (groupId: string, topic: string, highs: Offsets): Promise<boolean> => {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return highs.every(({ partition, high, low }) => {
      const c = committed?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
      return c === '-1' ? high === low : BigInt(c) >= BigInt(high);
    });
  };
  const advanceDrain = async (): Promise<void> => {
    if (round === null) {
      const at = Date.now();
      const [segments, manifests] = await Promise.all([admin.fetchTopicOffsets(topics.segments.name), admin.fetchTopicOffsets(topics.manifests.name)]);
      round = { at, stage: 'parse', segments, manifests, facts: [] };
    }
    if (round.stage === 'parse') {
      // The parse service's group (services/parse parseGroup).
      if (!(await caughtUp(`${config.topicPrefix}parse`, topics.segments.name, round.segments))) return;
      round = { ...round, stage: 'detect', facts: await admin.fetchTopicOffsets(topics.facts.name) };
    }
    if (!(await caughtUp(group, topics.facts.name, round.facts)) || !(await caughtUp(group, topics.manifests.name, round.manifests))) return;
    drainedBefore = round.at;
    round = null;
  };

  /**
   * Asks for a report of each upload that made no progress for the configured time, and none
   * since the pipeline last caught up (advanceDrain): a sweep request on `facts` (keyed by the
   * upload, so the worker that holds its facts takes it), reported as incomplete unless every segment and the
   * manifest are in by then. Returns the requests sent.
   */
  const sweep = async (): Promise<number> => {
    await advanceDrain();
    let n = 0;
    if (drainedBefore === 0) return 0;
    for (const uploadId of await store.idle(Math.max(config.detect.incompleteAfterMs, Date.now() - drainedBefore))) {
      const state = await store.state(uploadId);
      if (state !== null && !state.startsWith('reporting')) {
        await store.forget(uploadId);
        continue;
      }
      await plain.send({ topic: topics.facts.name, acks: -1, messages: [{ key: uploadId, value: Buffer.from('sweep'), headers: { [REPORT_REQUEST_HEADER]: 'idle' satisfies ReportRequest } }] });
      // Not asked again before another idle period.
      await store.markActive(uploadId);
      n++;
    }
    return n;
  };

  await redis.ping();
  await admin.connect();
  const storms: Storms = startStorms({ config, kafka, admin, redis, topics, log, metrics: stormMetrics(registry), clock: options.clock });
  await producer.connect();
  await plain.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.facts.name, topics.manifests.name], fromBeginning: true });
  const lag = watchConsumerLag(kafka, consumer, {
    groupId: group,
    topics: { [topics.facts.name]: 'facts', [topics.manifests.name]: 'manifests' },
    everyMs: options.lagEveryMs,
    onLag: (topic, n) => metrics.consumerLag.set({ topic }, n),
    onError: () => metrics.kafkaErrors.inc({ operation: 'lag' }),
  });
  await consumer.run({ autoCommit: false, partitionsConsumedConcurrently: 4, eachBatchAutoResolve: false, eachBatch: handleBatch });

  let sweeping = false;
  const timer = setInterval(() => {
    if (sweeping || stopping) return;
    sweeping = true;
    sweep()
      .catch((e: unknown) => log.warn('incomplete sweep failed; will retry', { error: e }))
      .finally(() => (sweeping = false));
  }, config.detect.sweepEveryMs);
  timer.unref();

  const ready = () => joined && redisUp && !stopping;
  const health = config.healthListen
    ? await startHealthServer(config.healthListen, registry, () => (ready() ? null : stopping ? 'stopping' : !redisUp ? 'redis unavailable' : 'not in the consumer group yet'))
    : null;
  log.info('detect worker started', { group, healthPort: health?.port ?? null });
  return {
    healthPort: health?.port ?? null,
    ready,
    sweep,
    evaluateStorms: () => storms.evaluate(),
    async stop() {
      stopping = true;
      clearInterval(timer);
      await consumer.disconnect();
      await lag.stop();
      await txChain;
      await storms.stop();
      await producer.disconnect();
      await plain.disconnect();
      await admin.disconnect();
      await redis.quit().catch(() => redis.disconnect());
      await health?.close();
    },
  };
}
