/**
 * The parse service: consumes `segments`, parses each on its own (the segment carries its
 * debugger context) and produces its facts on `facts`. Stateless: any worker parses any segment,
 * so as many workers as the topic has partitions share the work.
 */
import type { Consumer, EachMessagePayload, Producer } from 'kafkajs';
import { atLeastOnceProducer, compressionFor, createKafka, ensureTopics, topicsFor, watchConsumerLag, type Log } from '@dumpstream/kafka';
import { parseMetrics, serviceRegistry } from '@dumpstream/metrics';
import { createLog, startHealthServer, type Config } from '@dumpstream/runtime';
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
  const producer: Producer = atLeastOnceProducer(kafka, { maxInFlightRequests: 5 });
  const consumer: Consumer = kafka.consumer({ groupId: parseGroup(config), sessionTimeout: 10_000, heartbeatInterval: 1000, maxBytes: 16 * 1024 * 1024 });
  let joined = false;
  let stopping = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  consumer.on(consumer.events.CRASH, (e) => {
    joined = false;
    metrics.kafkaErrors.inc({ operation: 'consume' });
    log.error('consumer crashed', { error: e.payload.error, restart: e.payload.restart });
    if (!e.payload.restart && !stopping) options.onFatal?.(e.payload.error);
  });

  const handle = async ({ topic, partition, message }: EachMessagePayload): Promise<void> => {
    if (message.value === null) return;
    const t0 = process.hrtime.bigint();
    let segment;
    try {
      segment = decodeSegment(message.value);
    } catch (e) {
      if (!isSchemaError(e)) throw e;
      // Bytes that can never decode: dead-letter them with the reason, never retry forever.
      await producer.send({
        topic: topics.deadLetters.name,
        acks: -1,
        messages: [{ key: message.key, value: message.value, headers: deadLetterHeaders({ reason: e.message, errorCode: e.code, sourceTopic: topic, sourcePartition: partition, sourceOffset: message.offset, service: 'parse', failedAt: Date.now() }) }],
      });
      metrics.deadLetters.inc({ topic: 'segments', reason: e.code });
      metrics.segmentsParsed.inc({ outcome: 'dead-letter' });
      log.warn('segment dead-lettered', { partition, offset: message.offset, reason: e.message });
      return;
    }
    const facts = parseSegment(segment);
    for (const w of facts.warnings) metrics.parseWarnings.inc({ kind: w.kind });
    // The effect (facts on the topic, acknowledged by all replicas) is durable before the
    // offset is marked: a crash here redelivers the segment, and merging its facts twice is a no-op.
    const value = encodeFacts({ ...facts, uploadId: segment.uploadId });
    try {
      await producer.send({ topic: topics.facts.name, acks: -1, compression: compressionFor(value.length), messages: [{ key: `${segment.uploadId}:${segment.seq}`, value }] });
    } catch (e) {
      metrics.kafkaErrors.inc({ operation: 'publish' });
      throw e; // kafkajs retries the segment with backoff
    }
    metrics.segmentsParsed.inc({ outcome: 'ok' });
    metrics.stageDuration.observe({ stage: 'parse' }, Number(process.hrtime.bigint() - t0) / 1e9);
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
  await consumer.run({ autoCommit: true, autoCommitInterval: 1000, partitionsConsumedConcurrently: 2, eachMessage: handle });

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

