import { PassThrough } from 'node:stream';
import { DEFAULT_STORM_SETTINGS } from '@dumpstream/fleet';
import { consumerTimeouts, isConfigError, loadConfig, parseDurationMs } from './config';
import { createLog, redact } from './log';

describe('loadConfig', () => {
  it('reads the storm rule, with the defaults the fleet package documents', () => {
    const { evaluateEveryMs, metricsTop, ...rule } = loadConfig({}).storms;
    expect(rule).toEqual(DEFAULT_STORM_SETTINGS);
    expect({ evaluateEveryMs, metricsTop }).toEqual({ evaluateEveryMs: 30_000, metricsTop: 10 });
    const c = loadConfig({ STORM_WINDOW: '1h', STORM_QUIET: '900', STORM_UPDATE_EVERY: '90s', STORM_MIN_HOSTS: '30', STORM_SPIKE_FACTOR: '3' }).storms;
    expect(c).toMatchObject({ windowMs: 3_600_000, quietMs: 900_000, updateEveryMs: 90_000, minHosts: 30, spikeFactor: 3 });
    // Bad on purpose: every problem is listed at once.
    expect(() => loadConfig({ STORM_WINDOW: '10 minutes', STORM_MIN_DUMPS: '0', STORM_SPIKE_BASELINE_BUCKETS: '284', STORM_SPIKE_BUCKETS: '10' })).toThrow(
      /STORM_WINDOW=10 minutes: expected a duration[\s\S]*STORM_MIN_DUMPS=0: expected a whole number from 1[\s\S]*at most 288/,
    );
  });

  it('reads a full environment', () => {
    const c = loadConfig(
      {
        KAFKA_BROKERS: '127.0.0.1:9092, kafka-2:9093',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'p',
        REDIS_URL: 'rediss://:secret@redis:6380/1',
        INGEST_MAX_BYTES: '500m',
        INGEST_TOKEN: 'x'.repeat(32),
        DETECT_INCOMPLETE_AFTER: '30',
        DETECT_LEASE: '8',
        DUMP_MAX_FACTS: '500000',
        INGEST_HEADERS_TIMEOUT: '5',
        INGEST_IDLE_TIMEOUT: '10',
        INGEST_MIN_RATE: '4k',
        INGEST_MIN_RATE_AFTER: '20',
      },
      { kafka: true },
    );
    expect(c.kafka.brokers).toEqual(['127.0.0.1:9092', 'kafka-2:9093']);
    expect(c.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: 'p' });
    expect(c.redisTls).toBe(true);
    expect(c.ingest.maxBytes).toBe(500 * 1024 * 1024);
    expect(c.detect.incompleteAfterMs).toBe(30_000);
    expect(c.detect.leaseMs).toBe(8_000);
    expect(c.detect.maxFacts).toBe(500_000);
    expect(loadConfig({}).detect.maxFacts).toBeNull();
    expect(c.ingest).toMatchObject({ headersTimeoutMs: 5_000, idleTimeoutMs: 10_000, minBytesPerSecond: 4096, minRateAfterMs: 20_000 });
    expect(loadConfig({}).ingest).toMatchObject({ headersTimeoutMs: 15_000, idleTimeoutMs: 30_000, minBytesPerSecond: 1024, minRateAfterMs: 60_000 });
    expect(() => loadConfig({ DUMP_MAX_FACTS: '0' })).toThrow(/DUMP_MAX_FACTS=0: expected a whole number from 1/);
    expect(loadConfig({}).detect.leaseMs).toBe(6_000);
    expect(loadConfig({}).sessionTimeoutMs).toBe(3_000);
    expect(loadConfig({ KAFKA_SESSION_TIMEOUT: '10' }).sessionTimeoutMs).toBe(10_000);
    expect(() => loadConfig({ KAFKA_SESSION_TIMEOUT: '0' })).toThrow(/KAFKA_SESSION_TIMEOUT=0/);
    expect(() => loadConfig({ DETECT_LEASE: '1' })).toThrow(/DETECT_LEASE=1: expected a whole number from 2 to 3600/);
  });

  it('lists every problem at once, by variable', () => {
    try {
      loadConfig({ KAFKA_BROKERS: 'nohostport', INGEST_LISTEN: 'x', INGEST_MAX_BYTES: 'lots', LOG_LEVEL: 'loud', KAFKA_SASL_MECHANISM: 'gssapi', INGEST_TOKEN: 'short' }, { kafka: true });
      throw new Error('no error');
    } catch (e) {
      expect(isConfigError(e)).toBe(true);
      const problems = (e as { problems: string[] }).problems;
      expect(problems).toEqual([
        'KAFKA_BROKERS: nohostport is not host:port',
        'KAFKA_SASL_MECHANISM is set: KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required',
        'KAFKA_SASL_MECHANISM=gssapi: expected plain, scram-sha-256 or scram-sha-512',
        'LOG_LEVEL=loud: expected debug, info, warn or error',
        'INGEST_LISTEN=x: expected host:port, e.g. 127.0.0.1:8080',
        'INGEST_MAX_BYTES=lots: expected a size like 500m or 4g',
        'INGEST_TOKEN is shorter than 16 characters: use a long random token',
      ]);
    }
  });

  it('reads the report retention and size cap of the look-up, and refuses bad ones (bad input on purpose)', () => {
    expect(loadConfig({}).reports).toEqual({ retentionMs: 7 * 86_400_000, keepMaxBytes: 2 * 1024 * 1024 });
    expect(loadConfig({ REPORT_RETENTION: '36h', REPORT_KEEP_MAX_BYTES: '512k' }).reports).toEqual({ retentionMs: 36 * 3_600_000, keepMaxBytes: 512 * 1024 });
    expect(loadConfig({ REPORT_RETENTION: '2w' }).reports.retentionMs).toBe(14 * 86_400_000);
    expect(() => loadConfig({ REPORT_RETENTION: 'forever' })).toThrow(/REPORT_RETENTION=forever: expected a duration from 1m to 366d, like 7d or 12h/);
    expect(() => loadConfig({ REPORT_RETENTION: '10s' })).toThrow(/REPORT_RETENTION=10s/);
    expect(() => loadConfig({ REPORT_KEEP_MAX_BYTES: 'big' })).toThrow(/REPORT_KEEP_MAX_BYTES=big: expected a size/);
    expect(() => loadConfig({ REPORT_KEEP_MAX_BYTES: '1g' })).toThrow(/REPORT_KEEP_MAX_BYTES=1g: at most 512m/);
    expect(parseDurationMs('90m')).toBe(5_400_000);
    expect(parseDurationMs('30')).toBe(30_000);
    expect(parseDurationMs('7 days')).toBeNull();
  });

  it('requires KAFKA_BROKERS only where Kafka is needed', () => {
    expect(() => loadConfig({}, { kafka: true })).toThrow(/KAFKA_BROKERS is not set/);
    expect(loadConfig({}).kafka.brokers).toEqual([]);
  });
});

describe('logs', () => {
  it('never write secrets', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const log = createLog('test', 'debug', out);
    log.info('connecting to redis://:hunter2@redis:6379', { password: 'hunter2', nested: { token: 'abc', url: 'rediss://user:hunter2@h/0' }, sasl: { password: 'x' } });
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('abc');
    expect(JSON.parse(text)).toMatchObject({ level: 'info', service: 'test', msg: 'connecting to redis://:***@redis:6379', password: '***' });
    expect(redact(new Error('bad at redis://a:b@c'))).toEqual({ name: 'Error', message: 'bad at redis://a:***@c' });
  });
});

describe('consumerTimeouts', () => {
  it('heartbeats ten times a session, and never lets a fetch wait past a third of it', () => {
    expect(consumerTimeouts({ sessionTimeoutMs: 3_000 })).toEqual({ sessionTimeout: 3_000, heartbeatInterval: 300, rebalanceTimeout: 10_000, maxWaitTimeInMs: 1_000 });
    expect(consumerTimeouts({ sessionTimeoutMs: 45_000 })).toEqual({ sessionTimeout: 45_000, heartbeatInterval: 4_500, rebalanceTimeout: 135_000, maxWaitTimeInMs: 5_000 });
  });
});
