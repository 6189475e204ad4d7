import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import type { KafkaConnection } from '@dumpstream/kafka';
import type { LogLevel } from './log';

/** A configuration that cannot start a service; the message lists every problem, one per line. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Brand check that survives duplicated modules and jest realms. */
export function isConfigError(e: unknown): e is ConfigError {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'CONFIG_INVALID';
}

export interface Listen {
  host: string;
  port: number;
}

/** Everything a service reads from its environment. */
export interface Config {
  kafka: KafkaConnection;
  topicPrefix: string;
  partitions: number;
  /**
   * Consumer session timeout: how long after a worker dies its partitions wait before they move
   * to the others. Kafka brokers refuse less than their group.min.session.timeout.ms (6 s by default).
   */
  sessionTimeoutMs: number;
  redisUrl: string;
  redisTls: boolean;
  redisKeyPrefix: string;
  /** Address of /metrics, /healthz, /readyz (ingest may serve them on its API port instead). */
  healthListen: Listen | null;
  /** Distinct root images and hosts kept as metric label values before the rest count as `other`. */
  metricsLabelCap: number;
  logLevel: LogLevel;
  workerId: string;
  ingest: {
    listen: Listen;
    token: string | null;
    maxBytes: number;
    maxConcurrent: number;
    spoolDir: string | null;
    maxLinesPerSegment: number;
    /** Against slow and stalled clients (slowloris). */
    headersTimeoutMs: number;
    idleTimeoutMs: number;
    minBytesPerSecond: number;
    minRateAfterMs: number;
  };
  detect: {
    incompleteAfterMs: number;
    sweepEveryMs: number;
    /** How long a reporting worker holds a dump (renewed while it works) before another may take over. */
    leaseMs: number;
    /** Facts a dump keeps before the rest of it is left out with a warning; null: the graph's default. */
    maxFacts: number | null;
    /** Bytes of merged facts a worker keeps in memory to report from (0: every report reads Redis). */
    factsCacheBytes: number;
  };
  /** The reports detect keeps for the look-up API (packages/redis ReportStore). */
  reports: {
    /** How long a kept report, and its index entries, stay. */
    retentionMs: number;
    /** Largest gzip of a report kept whole; a larger one keeps its summary only, and says so. */
    keepMaxBytes: number;
  };
  /** The fleet-wide storm rule (README, "Fleet-wide storms"); durations in ms. */
  storms: {
    windowMs: number;
    minDumps: number;
    minHosts: number;
    spikeBuckets: number;
    spikeMinDumps: number;
    spikeFactor: number;
    spikeBaselineBuckets: number;
    quietMs: number;
    updateEveryMs: number;
    evaluateEveryMs: number;
    /** Signatures named in the metrics; the rest are summed as `other`. */
    metricsTop: number;
  };
}

/** The environment variables, with defaults; the README's configuration table is made from this. */
export const ENVIRONMENT = {
  KAFKA_BROKERS: 'comma-separated host:port list (required by ingest, parse, detect, watch)',
  KAFKA_CLIENT_ID: 'client id prefix (default dumpstream)',
  KAFKA_SSL: 'true to use TLS to the brokers (default false)',
  KAFKA_SSL_CA_FILE: 'PEM file of CAs for the brokers (implies KAFKA_SSL=true)',
  KAFKA_SASL_MECHANISM: 'plain, scram-sha-256 or scram-sha-512 (default none)',
  KAFKA_SASL_USERNAME: 'SASL user',
  KAFKA_SASL_PASSWORD: 'SASL password (never logged)',
  DUMPSTREAM_TOPIC_PREFIX: 'prefix of every topic (default dumpstream.)',
  DUMPSTREAM_PARTITIONS: 'partitions of the segments and facts topics (default 8)',
  KAFKA_SESSION_TIMEOUT: 'seconds after a parse or detect worker dies before its partitions move to the others (default 3; raised, with a warning, to the broker\'s group.min.session.timeout.ms, which is 6 in a stock broker)',
  REDIS_URL: 'redis://[:password@]host:port[/db] or rediss:// for TLS (default redis://127.0.0.1:6379)',
  REDIS_KEY_PREFIX: 'prefix of every Redis key (default ds)',
  HEALTH_LISTEN: 'host:port of /metrics, /healthz, /readyz (default: parse and detect 0.0.0.0:9464; ingest its API port)',
  METRICS_LABEL_CAP: 'distinct root images and hosts kept as metric labels; later ones count as other (default 50)',
  LOG_LEVEL: 'debug, info, warn or error (default info)',
  WORKER_ID: 'stable id of this worker, for Kafka transactions (default hostname-pid)',
  INGEST_LISTEN: 'host:port of the upload API (default 0.0.0.0:8080)',
  INGEST_TOKEN: 'bearer token required on uploads (default none: open)',
  INGEST_MAX_BYTES: 'largest accepted transcript, decompressed (default 4GiB; suffixes k, m, g)',
  INGEST_MAX_CONCURRENT: 'uploads served at once; more get 429 (default 16)',
  INGEST_SPOOL_DIR: 'folder watched for transcripts (default none)',
  INGEST_SEGMENT_LINES: 'lines per segment (default 4000)',
  INGEST_HEADERS_TIMEOUT: 'seconds a client has to send its request headers (default 15)',
  INGEST_IDLE_TIMEOUT: 'seconds an upload may send nothing before it is dropped with 408 (default 30)',
  INGEST_MIN_RATE: 'slowest average upload accepted once INGEST_MIN_RATE_AFTER has passed, in bytes a second (default 1k; suffixes k, m)',
  INGEST_MIN_RATE_AFTER: 'seconds an upload may take before INGEST_MIN_RATE applies (default 60)',
  DETECT_INCOMPLETE_AFTER: 'seconds without progress before a dump is reported incomplete (default 600)',
  DETECT_LEASE: 'seconds a detect worker holds the dump it reports, renewed while it works; another takes over this long after it dies (default 6)',
  REPORT_RETENTION: 'how long detect keeps each report for the look-up API (GET /v1/reports): a duration like 7d, 12h, 30m (default 7d)',
  REPORT_KEEP_MAX_BYTES: 'largest report kept whole, gzip-compressed; a larger one keeps only its summary, and says so (default 2m; suffixes k, m, g)',
  DETECT_FACTS_CACHE: 'bytes of the facts it merged that a detect worker keeps in memory, so that it reports from them rather than read them back from Redis (default 256m; 0 turns it off; suffixes k, m, g)',
  DUMP_MAX_FACTS: 'processes, threads, stacks and command lines (and frames, sixteen to a fact) one dump keeps before the rest of its transcript is left out with a warning; bounds memory (default 3000000, as analyze)',
  STORM_WINDOW: 'window the storm rule counts dumps and hosts over (default 30m; a number of seconds, or with s, m, h)',
  STORM_MIN_DUMPS: 'a signature storms at this many dumps in the window (default 50)',
  STORM_MIN_HOSTS: 'a signature storms at this many distinct hosts in the window (default 10)',
  STORM_SPIKE_BUCKETS: 'latest 5-minute buckets a spike is measured over (default 3)',
  STORM_SPIKE_MIN_DUMPS: 'a spike needs at least this many dumps in those buckets (default 10)',
  STORM_SPIKE_FACTOR: 'a spike needs this many times the trailing baseline rate (default 5)',
  STORM_SPIKE_BASELINE_BUCKETS: '5-minute buckets before the spike that make its baseline (default 24, two hours)',
  STORM_QUIET: 'a storm ends after this long with no condition met (default 30m)',
  STORM_UPDATE_EVERY: 'an update event this often while a signature storms (default 5m)',
  STORM_EVALUATE_EVERY: 'how often the evaluating detect worker applies the storm rule (default 30s)',
  STORM_METRICS_TOP: 'signatures named in the fleet metrics, by dumps in the window; the rest count as other (default 10)',
} as const;

/** Seconds, or a number with s, m or h: `30m`, `90s`, `2h`, `1800`. Returns ms. */
function parseDuration(v: string | undefined, name: string, dfltMs: number, minMs: number, maxMs: number, problems: string[]): number {
  if (v === undefined || v.trim() === '') return dfltMs;
  const m = /^(\d+)\s*([smh]?)$/i.exec(v.trim());
  const ms = m ? Number(m[1]) * (m[2].toLowerCase() === 'h' ? 3_600_000 : m[2].toLowerCase() === 'm' ? 60_000 : 1000) : NaN;
  if (!(ms >= minMs && ms <= maxMs)) {
    problems.push(`${name}=${v}: expected a duration from ${minMs / 1000}s to ${maxMs / 3_600_000}h, e.g. 30m, 90s, 2h or 1800`);
    return dfltMs;
  }
  return ms;
}

function parseListen(v: string, name: string, problems: string[]): Listen | null {
  const m = /^(\[[0-9a-f:]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(v.trim());
  if (!m || Number(m[2]) > 65535) {
    problems.push(`${name}=${v}: expected host:port, e.g. 127.0.0.1:8080`);
    return null;
  }
  return { host: m[1] === '' ? '0.0.0.0' : m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function parseSize(v: string, name: string, problems: string[]): number {
  const m = /^(\d+)\s*([kmg]i?b?)?$/i.exec(v.trim());
  if (!m) {
    problems.push(`${name}=${v}: expected a size like 500m or 4g`);
    return 0;
  }
  const unit = (m[2] ?? '').toLowerCase()[0];
  return Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * Milliseconds of a duration like `7d`, `12h`, `90m`, `30s` or `500ms` (a bare number is seconds);
 * null when the text is not one. Shared by the settings and the look-up API's `since`/`until`.
 */
export function parseDurationMs(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/i.exec(text.trim());
  if (!m) return null;
  const ms = Number(m[1]) * DURATION_UNITS[(m[2] ?? 's').toLowerCase()];
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

function parseInt10(v: string | undefined, name: string, dflt: number, min: number, max: number, problems: string[]): number {
  if (v === undefined || v.trim() === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name}=${v}: expected a whole number from ${min} to ${max}`);
    return dflt;
  }
  return n;
}

/**
 * Reads and validates the configuration. `needs` says which parts the caller requires (a
 * missing KAFKA_BROKERS only matters to services that use Kafka). Throws ConfigError listing
 * every problem at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv, needs: { kafka?: boolean; redis?: boolean } = {}): Config {
  const problems: string[] = [];
  const brokers = (env.KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()).filter(Boolean);
  if (needs.kafka && brokers.length === 0) problems.push('KAFKA_BROKERS is not set: give the brokers as host:port[,host:port…]');
  for (const b of brokers) if (!/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-f:]+\]:\d{1,5}$/.test(b)) problems.push(`KAFKA_BROKERS: ${b} is not host:port`);
  const kafka: KafkaConnection = { brokers, clientId: env.KAFKA_CLIENT_ID?.trim() || 'dumpstream' };
  const caFile = env.KAFKA_SSL_CA_FILE?.trim();
  if (caFile) {
    try {
      kafka.ssl = { ca: [readFileSync(caFile, 'utf8')] };
    } catch (e) {
      problems.push(`KAFKA_SSL_CA_FILE=${caFile}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else if (env.KAFKA_SSL !== undefined && env.KAFKA_SSL !== '') {
    if (!/^(true|false|1|0)$/i.test(env.KAFKA_SSL)) problems.push(`KAFKA_SSL=${env.KAFKA_SSL}: expected true or false`);
    else if (/^(true|1)$/i.test(env.KAFKA_SSL)) kafka.ssl = true;
  }
  const mech = env.KAFKA_SASL_MECHANISM?.trim().toLowerCase();
  if (mech) {
    const username = env.KAFKA_SASL_USERNAME ?? '';
    const password = env.KAFKA_SASL_PASSWORD ?? '';
    if (!username || !password) problems.push('KAFKA_SASL_MECHANISM is set: KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required');
    if (mech === 'plain' || mech === 'scram-sha-256' || mech === 'scram-sha-512') kafka.sasl = { mechanism: mech, username, password } as KafkaConnection['sasl'];
    else problems.push(`KAFKA_SASL_MECHANISM=${mech}: expected plain, scram-sha-256 or scram-sha-512`);
  }
  const topicPrefix = env.DUMPSTREAM_TOPIC_PREFIX ?? 'dumpstream.';
  if (!/^[A-Za-z0-9._-]{0,200}$/.test(topicPrefix)) problems.push(`DUMPSTREAM_TOPIC_PREFIX=${topicPrefix}: use letters, digits, . _ -`);
  const redisUrl = env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
  if (!/^rediss?:\/\//.test(redisUrl)) problems.push('REDIS_URL: expected redis://… or rediss://…');
  const redisKeyPrefix = env.REDIS_KEY_PREFIX?.trim() || 'ds';
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(redisKeyPrefix)) problems.push(`REDIS_KEY_PREFIX=${redisKeyPrefix}: use up to 32 letters, digits, _ . -`);
  const logLevel = (env.LOG_LEVEL?.trim().toLowerCase() || 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) problems.push(`LOG_LEVEL=${env.LOG_LEVEL}: expected debug, info, warn or error`);
  const healthListen = env.HEALTH_LISTEN?.trim() ? parseListen(env.HEALTH_LISTEN, 'HEALTH_LISTEN', problems) : null;
  const ingestListen = parseListen(env.INGEST_LISTEN?.trim() || '0.0.0.0:8080', 'INGEST_LISTEN', problems) ?? { host: '0.0.0.0', port: 8080 };
  const maxBytes = env.INGEST_MAX_BYTES?.trim() ? parseSize(env.INGEST_MAX_BYTES, 'INGEST_MAX_BYTES', problems) : 4 * 1024 ** 3;
  const token = env.INGEST_TOKEN?.length ? env.INGEST_TOKEN : null;
  if (token !== null && token.length < 16) problems.push('INGEST_TOKEN is shorter than 16 characters: use a long random token');
  const config: Config = {
    kafka,
    topicPrefix,
    partitions: parseInt10(env.DUMPSTREAM_PARTITIONS, 'DUMPSTREAM_PARTITIONS', 8, 1, 1000, problems),
    sessionTimeoutMs: parseInt10(env.KAFKA_SESSION_TIMEOUT, 'KAFKA_SESSION_TIMEOUT', 3, 1, 3600, problems) * 1000,
    redisUrl,
    redisTls: redisUrl.startsWith('rediss://'),
    redisKeyPrefix,
    healthListen,
    metricsLabelCap: parseInt10(env.METRICS_LABEL_CAP, 'METRICS_LABEL_CAP', 50, 0, 100_000, problems),
    logLevel,
    workerId: env.WORKER_ID?.trim() || `${os.hostname()}-${process.pid}`,
    ingest: {
      listen: ingestListen,
      token,
      maxBytes,
      maxConcurrent: parseInt10(env.INGEST_MAX_CONCURRENT, 'INGEST_MAX_CONCURRENT', 16, 1, 10_000, problems),
      spoolDir: env.INGEST_SPOOL_DIR?.trim() || null,
      maxLinesPerSegment: parseInt10(env.INGEST_SEGMENT_LINES, 'INGEST_SEGMENT_LINES', 4000, 10, 1_000_000, problems),
      headersTimeoutMs: parseInt10(env.INGEST_HEADERS_TIMEOUT, 'INGEST_HEADERS_TIMEOUT', 15, 1, 3600, problems) * 1000,
      idleTimeoutMs: parseInt10(env.INGEST_IDLE_TIMEOUT, 'INGEST_IDLE_TIMEOUT', 30, 1, 86_400, problems) * 1000,
      minBytesPerSecond: env.INGEST_MIN_RATE?.trim() ? parseSize(env.INGEST_MIN_RATE, 'INGEST_MIN_RATE', problems) : 1024,
      minRateAfterMs: parseInt10(env.INGEST_MIN_RATE_AFTER, 'INGEST_MIN_RATE_AFTER', 60, 1, 86_400, problems) * 1000,
    },
    detect: {
      incompleteAfterMs: parseInt10(env.DETECT_INCOMPLETE_AFTER, 'DETECT_INCOMPLETE_AFTER', 600, 1, 30 * 86_400, problems) * 1000,
      sweepEveryMs: 0, // set below from incompleteAfterMs
      leaseMs: parseInt10(env.DETECT_LEASE, 'DETECT_LEASE', 6, 2, 3600, problems) * 1000,
      maxFacts: env.DUMP_MAX_FACTS?.trim() ? parseInt10(env.DUMP_MAX_FACTS, 'DUMP_MAX_FACTS', 0, 1, 1_000_000_000, problems) : null,
      factsCacheBytes: env.DETECT_FACTS_CACHE?.trim() ? parseSize(env.DETECT_FACTS_CACHE, 'DETECT_FACTS_CACHE', problems) : 256 * 1024 ** 2,
    },
    reports: {
      retentionMs: 7 * 86_400_000,
      keepMaxBytes: env.REPORT_KEEP_MAX_BYTES?.trim() ? parseSize(env.REPORT_KEEP_MAX_BYTES, 'REPORT_KEEP_MAX_BYTES', problems) : 2 * 1024 ** 2,
    },
    storms: {
      windowMs: parseDuration(env.STORM_WINDOW, 'STORM_WINDOW', 30 * 60_000, 5 * 60_000, 24 * 3_600_000, problems),
      minDumps: parseInt10(env.STORM_MIN_DUMPS, 'STORM_MIN_DUMPS', 50, 1, 10_000_000, problems),
      minHosts: parseInt10(env.STORM_MIN_HOSTS, 'STORM_MIN_HOSTS', 10, 1, 10_000_000, problems),
      spikeBuckets: parseInt10(env.STORM_SPIKE_BUCKETS, 'STORM_SPIKE_BUCKETS', 3, 1, 288, problems),
      spikeMinDumps: parseInt10(env.STORM_SPIKE_MIN_DUMPS, 'STORM_SPIKE_MIN_DUMPS', 10, 1, 10_000_000, problems),
      spikeFactor: parseInt10(env.STORM_SPIKE_FACTOR, 'STORM_SPIKE_FACTOR', 5, 1, 10_000, problems),
      spikeBaselineBuckets: parseInt10(env.STORM_SPIKE_BASELINE_BUCKETS, 'STORM_SPIKE_BASELINE_BUCKETS', 24, 1, 284, problems),
      quietMs: parseDuration(env.STORM_QUIET, 'STORM_QUIET', 30 * 60_000, 60_000, 24 * 3_600_000, problems),
      updateEveryMs: parseDuration(env.STORM_UPDATE_EVERY, 'STORM_UPDATE_EVERY', 5 * 60_000, 10_000, 24 * 3_600_000, problems),
      evaluateEveryMs: parseDuration(env.STORM_EVALUATE_EVERY, 'STORM_EVALUATE_EVERY', 30_000, 1000, 3_600_000, problems),
      metricsTop: parseInt10(env.STORM_METRICS_TOP, 'STORM_METRICS_TOP', 10, 0, 1000, problems),
    },
  };
  if (env.REPORT_RETENTION?.trim()) {
    const ms = parseDurationMs(env.REPORT_RETENTION);
    // At least a minute: shorter would drop reports before anyone could look them up. At most a
    // year: Redis holds them in memory.
    if (ms === null || ms < 60_000 || ms > 366 * 86_400_000) problems.push(`REPORT_RETENTION=${env.REPORT_RETENTION}: expected a duration from 1m to 366d, like 7d or 12h`);
    else config.reports.retentionMs = ms;
  }
  if (config.reports.keepMaxBytes > 512 * 1024 ** 2) problems.push(`REPORT_KEEP_MAX_BYTES=${env.REPORT_KEEP_MAX_BYTES}: at most 512m (a Redis string's limit)`);
  // The spike and its baseline must fit in the day the fleet state keeps (288 buckets).
  if (config.storms.spikeBuckets + config.storms.spikeBaselineBuckets > 288) problems.push('STORM_SPIKE_BUCKETS + STORM_SPIKE_BASELINE_BUCKETS: at most 288 (a day of 5-minute buckets)');
  // Each sweep runs a watermark round (several admin requests to the broker): every second was
  // 3 % of an idle detect worker's CPU and more of the broker's. A tenth of the timeout (1–10 s)
  // finds a stalled upload as soon, relative to the timeout.
  config.detect.sweepEveryMs = Math.min(10_000, Math.max(1000, Math.floor(config.detect.incompleteAfterMs / 10)));
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(config.workerId)) problems.push(`WORKER_ID=${config.workerId}: use letters, digits, . _ -`);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * The session and heartbeat timing of the parse and detect consumers. A worker that dies is
 * noticed after the session timeout; heartbeats go ten times as often so that a live worker on a
 * busy machine is never taken for dead (kafkajs sends them between messages, and the services call
 * heartbeat() while they wait). Rebalances wait at most a few sessions for slow members.
 *
 * A fetch waits at most a third of the session for data: kafkajs heartbeats only between fetches
 * (runner.js), and with its default wait (5 s) above a short session (3 s) the two members of a
 * group evicted each other at every rebalance, for minutes (generation 151 of the parse group, on
 * the Kafka 3.9 container of test/faults/redis-flush, twice in two runs; gone with this wait).
 */
export function consumerTimeouts(config: Pick<Config, 'sessionTimeoutMs'>): { sessionTimeout: number; heartbeatInterval: number; rebalanceTimeout: number; maxWaitTimeInMs: number } {
  const session = config.sessionTimeoutMs;
  return {
    sessionTimeout: session,
    heartbeatInterval: Math.max(100, Math.floor(session / 10)),
    rebalanceTimeout: Math.max(10_000, session * 3),
    maxWaitTimeInMs: Math.min(5000, Math.max(100, Math.floor(session / 3))),
  };
}
