import type { ConnectionOptions } from 'node:tls';
import { CompressionTypes, Kafka, logLevel, Partitioners, type ICustomPartitioner, type KafkaConfig, type LogEntry, type Producer, type SASLOptions } from 'kafkajs';
import { installFastCrc32c } from './crc32c';
import { installEncoderFix, installRecordBatchFix, installRequestQueueFix, installTransactionRetryFix } from './kafkajs-fixes';
import type { Topics } from './topics';
import { KafkaWarnings } from './transient';

/** Where the brokers are and how to reach them. */
export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  /** TLS to the brokers: true for the system's CAs, or Node TLS options. */
  ssl?: boolean | ConnectionOptions;
  /** SASL (plain, scram-sha-256, scram-sha-512). */
  sasl?: SASLOptions;
}

/** A logger the adapters write to; services pass their own. */
export interface Log {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * A kafkajs client that retries transient failures with backoff (a broker restart, a leader
 * election) for long enough to ride them out, and logs through the service's logger.
 */
export function createKafka(conn: KafkaConnection, log: Log): Kafka {
  // Before the client's first produce request loads kafkajs's own byte-at-a-time checksum.
  installFastCrc32c();
  installRequestQueueFix();
  installEncoderFix();
  installRecordBatchFix();
  installTransactionRetryFix();
  const config: KafkaConfig = {
    brokers: conn.brokers,
    clientId: conn.clientId,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: 30, factor: 0.2, multiplier: 2 },
    logLevel: logLevel.WARN,
    logCreator: () => {
      const warnings = new KafkaWarnings(log);
      return (entry: LogEntry) => {
        const { message, ...rest } = entry.log;
        const fields = { namespace: entry.namespace, ...rest };
        if (entry.level <= logLevel.ERROR) warnings.warn(`kafka: ${message}`, fields);
        else log.debug(`kafka: ${message}`, fields);
      };
    },
  };
  if (conn.ssl !== undefined) config.ssl = conn.ssl;
  if (conn.sasl !== undefined) config.sasl = conn.sasl;
  return new Kafka(config);
}

/**
 * A producer for the messages whose consumers are idempotent (segments, manifests, facts, dead
 * letters, sweep requests: all merged or handled by key): acks from every in-sync replica, retried
 * until it succeeds, so a message may be written twice but is never lost.
 *
 * Deliberately not kafkajs's idempotent mode: when a produce's response is lost (a broker killed
 * after it wrote the batch), kafkajs hands the batch's sequence number back, a concurrent send
 * takes it, and the broker acknowledges that send as a duplicate of the written batch without
 * writing it; the caller is told it succeeded (test/integration/produce-lost-response.test.ts).
 * A broker restart in test/faults lost a segment, most likely that way (not traced). Detect's
 * reports go through a transactional producer, which sends one transaction at a time and is not
 * exposed to it.
 */
export function atLeastOnceProducer(kafka: Kafka, options: { maxInFlightRequests?: number; partitioner?: ICustomPartitioner } = {}): Producer {
  return kafka.producer({ idempotent: false, maxInFlightRequests: options.maxInFlightRequests, createPartitioner: options.partitioner ?? Partitioners.DefaultPartitioner });
}

/**
 * Creates the pipeline's topics if they are missing, and adds partitions where an existing topic
 * has fewer than configured. Safe to run from every service at every start.
 */
export async function ensureTopics(kafka: Kafka, topics: Topics): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const specs = Object.values(topics);
    const missing = specs.filter((t) => !existing.has(t.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          replicationFactor: -1,
          configEntries: [{ name: 'max.message.bytes', value: String(t.maxMessageBytes) }],
        })),
      });
    }
    const tooFew = async () => {
      const meta = await admin.fetchTopicMetadata({ topics: specs.map((t) => t.name) });
      return specs.filter((t) => {
        const m = meta.topics.find((x) => x.name === t.name);
        return m !== undefined && m.partitions.length < t.partitions;
      });
    };
    const grow = await tooFew();
    if (grow.length > 0) {
      try {
        await admin.createPartitions({ topicPartitions: grow.map((t) => ({ topic: t.name, count: t.partitions })) });
      } catch (e) {
        // Another service starting at the same moment grew them first (INVALID_PARTITIONS: the
        // count is no longer an increase): fine once they have enough. The broker may answer the
        // metadata from before that growth for a moment (seen in CI: a test's topic grown by
        // ingest while parse started), so look again a few times before giving up.
        if ((e as { type?: string }).type !== 'INVALID_PARTITIONS') throw e;
        for (let i = 0; ; i++) {
          if ((await tooFew()).length === 0) break;
          if (i >= 20) throw e;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Messages above this size are sent gzip-compressed. Segments and facts stay well under it (a
 * segment is cut at 512 KiB of text, 4 MiB at most) and go uncompressed: gzip cost more CPU than
 * all of the embedded `analyze` of the same fleet (bench/RESULTS.md), on a link (loopback, a LAN)
 * where the bytes are cheap. Only a huge dump's report is compressed, so that it fits the topic's
 * LARGE_MESSAGE_BYTES (debugger text compresses about 6×).
 */
export const COMPRESS_ABOVE_BYTES = 8 * 1024 * 1024;

/** The compression for a message of this size. */
export function compressionFor(bytes: number): CompressionTypes {
  return bytes > COMPRESS_ABOVE_BYTES ? CompressionTypes.GZIP : CompressionTypes.None;
}

/** True for Kafka's refusals of a message or batch as too large (max.message.bytes, segment size). */
export function isMessageTooLarge(e: unknown): boolean {
  const err = e as { type?: string; message?: string; cause?: unknown } | null;
  if (err === null || typeof err !== 'object') return false;
  return (
    err.type === 'MESSAGE_TOO_LARGE' ||
    err.type === 'RECORD_LIST_TOO_LARGE' ||
    /larger than the (max message size|configured segment size)/.test(err.message ?? '') ||
    (err.cause !== undefined && isMessageTooLarge(err.cause))
  );
}
