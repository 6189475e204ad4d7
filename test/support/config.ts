import { loadConfig, type Config } from '@dumpstream/runtime';

/**
 * A service configuration for one test: the test run's broker and Redis (globalSetup), topics and
 * Redis keys under `prefix`, ingest on a free loopback port; `env` adds or overrides variables.
 */
export function testConfig(prefix: string, env: Record<string, string> = {}): Config {
  return loadConfig(
    {
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      REDIS_URL: process.env.REDIS_URL,
      DUMPSTREAM_TOPIC_PREFIX: `${prefix}.`,
      REDIS_KEY_PREFIX: prefix,
      INGEST_LISTEN: '127.0.0.1:0',
      ...env,
    },
    { kafka: true, redis: true },
  );
}
