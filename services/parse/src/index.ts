/**
 * The parse service: consumes `segments`, parses each on its own (the segment carries its
 * debugger context) and produces its facts on `facts`. Stateless: any worker parses any segment,
 * so as many workers as the topic has partitions share the work.
 */
import type { Consumer, EachBatchPayload, Message, Producer } from 'kafkajs';
import { atLeastOnceProducer, ByUploadPartitioner, compressionFor, createKafka, ensureTopics, sessionTimeoutFor, topicsFor, watchConsumerLag, type Log } from '@dumpstream/kafka';
import { parseMetrics, serviceRegistry } from '@dumpstream/metrics';
import { consumerTimeouts, createLog, startHealthServer, type Config } from '@dumpstream/runtime';
import { deadLetterHeaders, decodeSegment, encodeFacts, isSchemaError } from '@dumpstream/schemas';
import { parseSegment } from '@dumpstream/transcript';
import type { Registry } from 'prom-client';

export interface ParseHandle {
  /** Port of /healthz, /readyz, /metrics (null when not served). */
  healthPort: number | null;
  ready(): boolean;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  log?: Log;
  registry?: Registry;
  /** How often the consumer lag metric is refreshed. Default 10 s. */
  lagEveryMs?: number;
  /** Called when the consumer stops for good (a non-retriable error); the CLI exits so a supervisor restarts it. */
  onFatal?: (error: Error) => void;
}

/** Facts produced in one request at most (a batch's facts beyond it go in the next request). */
const BATCH_BYTES = 4 * 1024 * 1024;

/** What a batch has parsed and not yet produced. */
interface Pending {
  facts: Message[];
  deadLetters: Message[];
  bytes: number;
  /** Offset of the last message handled (parsed, dead-lettered or empty). */
  lastOffset: string | null;
  /** When each parsed segment's work began (stage duration metric). */
  parsed: bigint[];
}

/** Consumer group of the parse workers, under the topic prefix. */
export function parseGroup(config: Config): string {
  return `${config.topicPrefix}parse`;
}

/** Starts a parse worker. Resolves once it has joined the consumer group. */
export async function startParse(config: Config, options: ServiceOptions = {}): Promise<ParseHandle> {
  const log = options.log ?? createLog('parse', config.logLevel);
  const registry = options.registry ?? serviceRegistry('parse');
  const metrics = parseMetrics(registry);
  const topics = topicsFor(config.topicPrefix, { segments: config.partitions, facts: config.partitions });
  const kafka = createKafka({ ...config.kafka, clientId: `${config.kafka.clientId}-parse` }, log);
  await ensureTopics(kafka, topics);
  // Every fact of one upload on one partition (ByUploadPartitioner): the detect worker that merges
  // them also gets the upload's report request and builds the report from the facts it holds.
  const producer: Producer = atLeastOnceProducer(kafka, { maxInFlightRequests: 5, partitioner: ByUploadPartitioner });
  const consumer: Consumer = kafka.consumer({ groupId: parseGroup(config), ...consumerTimeouts({ sessionTimeoutMs: await sessionTimeoutFor(kafka, config.sessionTimeoutMs, log) }), maxBytes: 16 * 1024 * 1024 });
  let joined = false;
  let stopping = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  consumer.on(consumer.events.CRASH, (e) => {
    joined = false;
    metrics.kafkaErrors.inc({ operation: 'consume' });
    log.error('consumer crashed', { error: e.payload.error, restart: e.payload.restart });
    if (!e.payload.restart && !stopping) options.onFatal?.(e.payload.error);
  });

  /**
   * One fetched batch of a partition: every segment parsed, then all their facts (and any dead
   * letters) produced in one request, acknowledged by all replicas, and only then the offsets
   * resolved (committed by kafkajs within a second, and when the worker stops). A crash before
   * that redelivers the batch; merging the same facts twice is a no-op.
   */
  const handleBatch = async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> => {
    let pending: Pending = { facts: [], deadLetters: [], bytes: 0, lastOffset: null, parsed: [] };
    const flush = async () => {
      if (pending.lastOffset === null) return;
      const topicMessages = [];
      if (pending.facts.length > 0) topicMessages.push({ topic: topics.facts.name, messages: pending.facts });
      if (pending.deadLetters.length > 0) topicMessages.push({ topic: topics.deadLetters.name, messages: pending.deadLetters });
      if (topicMessages.length > 0) {
        try {
          await producer.sendBatch({ acks: -1, compression: compressionFor(pending.bytes), topicMessages });
        } catch (e) {
          metrics.kafkaErrors.inc({ operation: 'publish' });
          throw e; // kafkajs retries the batch (from the last resolved offset) with backoff
        }
      }
      for (const t0 of pending.parsed) metrics.stageDuration.observe({ stage: 'parse' }, Number(process.hrtime.bigint() - t0) / 1e9);
      metrics.segmentsParsed.inc({ outcome: 'ok' }, pending.facts.length);
      metrics.segmentsParsed.inc({ outcome: 'dead-letter' }, pending.deadLetters.length);
      resolveOffset(pending.lastOffset);
      pending = { facts: [], deadLetters: [], bytes: 0, lastOffset: null, parsed: [] };
      await heartbeat();
    };
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) break;
      if (message.value !== null) {
        const t0 = process.hrtime.bigint();
        let segment;
        try {
          segment = decodeSegment(message.value);
        } catch (e) {
          if (!isSchemaError(e)) throw e;
          // Bytes that can never decode: dead-letter them with the reason, never retry forever.
          pending.deadLetters.push({ key: message.key, value: message.value, headers: deadLetterHeaders({ reason: e.message, errorCode: e.code, sourceTopic: batch.topic, sourcePartition: batch.partition, sourceOffset: message.offset, service: 'parse', failedAt: Date.now() }) });
          metrics.deadLetters.inc({ topic: 'segments', reason: e.code });
          log.warn('segment dead-lettered', { partition: batch.partition, offset: message.offset, reason: e.message });
        }
        if (segment !== undefined) {
          // Without a process block's other lines (VadRoot, Token, ElapsedTime…): no report reads
          // them (the graph drops them), and on the wire they were a tenth of the facts' bytes and
          // the only Avro map detect decoded.
          const facts = parseSegment(segment, { keepDetails: false });
          for (const w of facts.warnings) metrics.parseWarnings.inc({ kind: w.kind });
          const value = encodeFacts({ ...facts, uploadId: segment.uploadId });
          pending.facts.push({ key: `${segment.uploadId}:${segment.seq}`, value });
          pending.bytes += value.length;
          pending.parsed.push(t0);
        }
      }
      pending.lastOffset = message.offset;
      // One produce request carries up to BATCH_BYTES of facts.
      if (pending.bytes >= BATCH_BYTES) await flush();
      else await heartbeat();
    }
    await flush();
  };

  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: topics.segments.name, fromBeginning: true });
  const lag = watchConsumerLag(kafka, consumer, {
    groupId: parseGroup(config),
    topics: { [topics.segments.name]: 'segments' },
    everyMs: options.lagEveryMs,
    onLag: (topic, n) => metrics.consumerLag.set({ topic }, n),
    onError: () => metrics.kafkaErrors.inc({ operation: 'lag' }),
  });
  await consumer.run({ autoCommit: true, autoCommitInterval: 1000, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 2, eachBatch: handleBatch });

  const ready = () => joined && !stopping;
  const health = config.healthListen ? await startHealthServer(config.healthListen, registry, () => (ready() ? null : stopping ? 'stopping' : 'not in the consumer group yet')) : null;
  log.info('parse worker started', { group: parseGroup(config), topic: topics.segments.name, healthPort: health?.port ?? null });
  return {
    healthPort: health?.port ?? null,
    ready,
    async stop() {
      stopping = true;
      // disconnect() lets the message in hand finish and commits what is done.
      await consumer.disconnect();
      await lag.stop();
      await producer.disconnect();
      await health?.close();
    },
  };
}

