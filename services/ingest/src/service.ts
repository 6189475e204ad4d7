import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import { atLeastOnceProducer, createKafka, ensureTopics, topicsFor, type Log } from '@dumpstream/kafka';
import { createLog, healthRoutes, startHealthServer, type Config } from '@dumpstream/runtime';
import { redisDuplicateCheck } from './duplicate';
import { UploadApi } from './http';
import { openLookup } from './lookupService';
import { ingestMetrics, serviceRegistry } from '@dumpstream/metrics';
import type { PublishTarget } from './publish';
import { SpoolFolder } from './spool';

/** Options of startIngest besides the Config; the timings are mostly for tests. */
export interface IngestOptions {
  /** Default: JSON lines on stderr at config.logLevel. */
  log?: Log;
  /** Where the metrics go. Default: a registry of its own with the default process metrics (never prom-client's global one). */
  registry?: Registry;
  /** An upload that sends nothing for this long while ingest waits for it is dropped. Default config.ingest.idleTimeoutMs (INGEST_IDLE_TIMEOUT). */
  idleTimeoutMs?: number;
  /** Time a client has to send its request headers (against slowloris). Default config.ingest.headersTimeoutMs (INGEST_HEADERS_TIMEOUT). */
  headersTimeoutMs?: number;
  /** Time a client has to send a whole upload. Default 4 h. */
  requestTimeoutMs?: number;
  /** Uploads slower than this on average (time spent waiting for the client only) are dropped after minRateAfterMs. Default INGEST_MIN_RATE after INGEST_MIN_RATE_AFTER (1 KiB/s after 60 s). */
  minBytesPerSecond?: number;
  minRateAfterMs?: number;
  /** Encoded segment bytes one upload may have unacknowledged by Kafka before its body is paused. Default 4 MiB. */
  maxInFlightBytes?: number;
  /** The clock of the look-up API's windows and retention (tests pass a simulated one, as to detect). Default Date.now. */
  now?: () => number;
  /** Spool timings: a file is taken once unchanged for stableMs (default 1000); scans every scanEveryMs (default 1000). */
  spool?: { stableMs?: number; scanEveryMs?: number };
}

/** A running ingest service. */
export interface IngestHandle {
  /** The port the upload API is bound to (useful with port 0). */
  port: number;
  /** Base URL of the upload API, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Listening, connected to Kafka and not stopping. */
  ready(): boolean;
  /**
   * Graceful stop: refuses new uploads, lets those in progress (and the spool file in hand)
   * finish, flushes the producer and disconnects. Safe to call twice.
   */
  stop(): Promise<void>;
}

/**
 * Starts ingest: creates the topics if missing, connects an at-least-once producer (acks all, retried; see atLeastOnceProducer),
 * serves `POST /v1/transcripts` on config.ingest.listen (with /healthz, /readyz and /metrics
 * there too unless config.healthListen is set), and watches config.ingest.spoolDir when set.
 * Rejects when Kafka cannot be reached (after the client's retries), the port cannot be bound or
 * the spool folder cannot be used; whatever was started is stopped again.
 */
export async function startIngest(config: Config, options: IngestOptions = {}): Promise<IngestHandle> {
  const log = options.log ?? createLog('ingest', config.logLevel);
  const registry = options.registry ?? serviceRegistry('ingest');
  const metrics = ingestMetrics(registry);
  const topics = topicsFor(config.topicPrefix, { segments: config.partitions, facts: config.partitions });
  const kafka = createKafka({ ...config.kafka, clientId: `${config.kafka.clientId}-ingest` }, log);

  let stopping = false;
  let kafkaUp = false;
  let listening = false;
  const cleanups: (() => Promise<void>)[] = [];
  const unwind = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => log.warn('ingest: cleanup failed', { error: e }));
  };

  try {
    await ensureTopics(kafka, topics);
    // Several produce requests at once: every upload in progress has its own (one at a time per
    // upload, see SegmentSender), and one request at a time for all of them made 4 concurrent
    // uploads wait on each other's acknowledgements. Order between them does not matter: each
    // upload's manifest goes out after its own segments are acknowledged, and merges are idempotent.
    const producer: Producer = atLeastOnceProducer(kafka, { maxInFlightRequests: 8 });
    producer.on(producer.events.CONNECT, () => (kafkaUp = true));
    producer.on(producer.events.DISCONNECT, () => (kafkaUp = false));
    await producer.connect();
    kafkaUp = true;
    cleanups.push(() => producer.disconnect());

    const target: PublishTarget = {
      producer,
      topics,
      log,
      metrics,
      maxLinesPerSegment: config.ingest.maxLinesPerSegment,
      maxInFlightBytes: options.maxInFlightBytes ?? 4 * 1024 * 1024,
    };
    // Redis only tells the answer about duplicates; ingest works without it.
    const duplicates = await redisDuplicateCheck(config, log);
    cleanups.push(() => duplicates.close());
    const lookup = openLookup(config, log, { now: options.now });
    cleanups.push(() => lookup.close());

    const why = (): string | null => (stopping ? 'stopping' : !listening ? 'not listening yet' : !kafkaUp ? 'Kafka producer disconnected' : null);
    const healthOnApi = config.healthListen === null ? healthRoutes(registry, why) : null;
    const api = new UploadApi(
      target,
      {
        token: config.ingest.token,
        maxBytes: config.ingest.maxBytes,
        maxConcurrent: config.ingest.maxConcurrent,
        idleMs: options.idleTimeoutMs ?? config.ingest.idleTimeoutMs,
        minRate: { bytesPerSecond: options.minBytesPerSecond ?? config.ingest.minBytesPerSecond, afterMs: options.minRateAfterMs ?? config.ingest.minRateAfterMs },
        health: healthOnApi,
        duplicates,
        lookup: lookup.api,
      },
      log,
    );

    const headersTimeout = options.headersTimeoutMs ?? config.ingest.headersTimeoutMs;
    const server = http.createServer({
      headersTimeout,
      requestTimeout: Math.max(options.requestTimeoutMs ?? 4 * 3_600_000, headersTimeout),
      connectionsCheckingInterval: Math.min(headersTimeout, 5_000),
    });
    server.on('request', (req, res) => api.handle(req, res));
    server.on('checkContinue', (req, res) => api.handle(req, res, true));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.ingest.listen.port, config.ingest.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    listening = true;
    const closeServer = new Promise<void>((resolve) => server.once('close', resolve));
    cleanups.push(async () => {
      server.close();
      server.closeIdleConnections();
      await api.drain();
      server.closeAllConnections();
      await closeServer;
    });
    const port = (server.address() as AddressInfo).port;

    if (config.healthListen !== null) {
      const health = await startHealthServer(config.healthListen, registry, why);
      cleanups.push(() => health.close());
    }

    if (config.ingest.spoolDir !== null) {
      const spool = new SpoolFolder(target, { dir: config.ingest.spoolDir, maxBytes: config.ingest.maxBytes, ...options.spool }, log);
      // Stopped before the server's drain completes the producer's work: pushed last, unwound first.
      cleanups.push(() => spool.stop());
      await spool.start();
    }

    const url = `http://${urlHost(config.ingest.listen.host)}:${port}`;
    log.info('ingest: listening', { url, topics: topics.segments.name, spool: config.ingest.spoolDir, auth: config.ingest.token !== null });
    let stopped: Promise<void> | null = null;
    return {
      port,
      url,
      ready: () => why() === null,
      stop: () => {
        stopped ??= (async () => {
          stopping = true;
          log.info('ingest: stopping');
          await unwind();
          log.info('ingest: stopped');
        })();
        return stopped;
      },
    };
  } catch (e) {
    stopping = true;
    await unwind();
    throw e;
  }
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
